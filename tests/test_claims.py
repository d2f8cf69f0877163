"""Verdicts: four outcomes computed the same way everywhere, registered definitions and their amendments."""

import json

import numpy as np
import pytest

from memo_utils.framework import claims
from memo_utils.framework.claims import (
    INCONCLUSIVE,
    NOT_AT_THIS_SCALE,
    NOT_REPRODUCED,
    REPRODUCED,
    Definition,
    Evidence,
    Precondition,
    above,
    across,
    below,
    differs,
    within,
)

NETWORKS = {"real": "real-label MLPs", "randY": "random-label MLPs"}
FITTED = Precondition(
    "randY-fitted",
    ("randY",),
    "randY MLPs: training accuracy, mean over seeds",
    0.9,
    "the paper's networks fit their random labels",
)


def _definition(*criteria, networks=("real", "randY"), statement="Real data is easier.", **fields):
    return Definition(
        "x-1",
        "arpit2017",
        "Fig. 1",
        "real data is easier",
        statement,
        criteria or (above("gap per seed", 0.05, "a tick of the paper's figure"),),
        "seeds",
        networks,
        **fields,
    )


def _judged(values, fitted=0.95, definition=None, profile="cpu", preconditions=(FITTED,)):
    definition = definition or _definition()
    values = values if isinstance(values, tuple) else (values,)
    evidence = Evidence({p.id: fitted for p in preconditions}, {definition.id: tuple(across(v) for v in values)})
    (claim,) = claims.judge([definition], list(preconditions), evidence, profile=profile, chapter="toy")
    return claim


@pytest.mark.parametrize(
    "criterion, low, high, outcome",
    [
        (above("d", 0.05, "r"), 0.06, 0.2, REPRODUCED),
        (above("d", 0.05, "r"), -0.2, 0.04, NOT_REPRODUCED),
        (above("d", 0.05, "r"), 0.01, 0.2, INCONCLUSIVE),
        (below("d", -0.05, "r"), -0.3, -0.06, REPRODUCED),
        (below("d", -0.05, "r"), -0.04, 0.3, NOT_REPRODUCED),
        (differs("d", 0.05, "r"), -0.3, -0.06, REPRODUCED),
        (differs("d", 0.05, "r"), -0.04, 0.04, NOT_REPRODUCED),
        (differs("d", 0.05, "r"), 0.0, 0.2, INCONCLUSIVE),
        (within("d", -0.05, 0.05, "r"), -0.04, 0.04, REPRODUCED),
        (within("d", -0.05, 0.05, "r"), 0.06, 0.2, NOT_REPRODUCED),
        (within("d", -0.05, 0.05, "r"), 0.0, 0.2, INCONCLUSIVE),
        (within("d", 0.5, 2.0, "r"), 0.0, 0.0, NOT_REPRODUCED),
    ],
)
def test_each_criterion_judges_its_interval_against_the_smallest_effect_or_margin(criterion, low, high, outcome):
    assert criterion.outcome(low, high) == outcome


def test_an_effect_in_every_seed_with_a_wide_spread_is_inconclusive_and_says_what_would_resolve_it():
    values = [0.9, 0.1, 0.5]  # every seed shows the effect, above 0.05, but three seeds spread widely
    claim = _judged(values)
    assert claim.verdict == INCONCLUSIVE
    needed = claim.replicates_needed
    assert needed > 3 and f"about {needed} seeds would resolve it" in claim.why
    # at that many replicates with the same mean and spread the interval clears the smallest effect; one fewer does not
    sd, mean = np.std(values, ddof=1), np.mean(values)
    spread = lambda n: mean + sd * np.sqrt((n - 1) / n) * (np.arange(n) - (n - 1) / 2) / np.std(np.arange(n), ddof=0)
    assert _judged(list(spread(needed))).verdict == REPRODUCED
    assert _judged(list(spread(needed - 1))).verdict == INCONCLUSIVE


def test_an_effect_excluded_below_the_smallest_effect_is_not_reproduced():
    claim = _judged([0.01, 0.0, 0.02])
    assert claim.verdict == NOT_REPRODUCED and claim.why == ""
    assert _judged([0.3, 0.31, 0.29]).verdict == REPRODUCED


def test_a_failed_precondition_gives_not_at_this_scale_and_names_itself_with_its_value():
    claim = _judged([0.3, 0.31, 0.29], fitted=0.23)
    assert claim.verdict == NOT_AT_THIS_SCALE
    assert claim.why == "randY MLPs: training accuracy, mean over seeds: 0.230, needs >= 0.900"
    row = claims.to_markdown([claim])
    assert "○ not at this scale: randY MLPs: training accuracy, mean over seeds: 0.230, needs &gt;= 0.900" in row


def test_a_precondition_applies_to_every_claim_on_its_networks_and_to_no_other():
    on_real = _definition(networks=("real",))
    assert claims.applicable(on_real, [FITTED]) == []
    assert claims.applicable(_definition(networks=("randY",)), [FITTED]) == [FITTED]
    assert _judged([0.3, 0.31, 0.29], fitted=0.23, definition=on_real).verdict == REPRODUCED


def test_one_replicate_and_the_smoke_profile_are_not_at_this_scale():
    assert _judged([0.3]).verdict == NOT_AT_THIS_SCALE
    assert _judged([0.3, float("nan")]).verdict == NOT_AT_THIS_SCALE
    smoke = _judged([0.3, 0.31, 0.29], profile="smoke")
    assert smoke.verdict == NOT_AT_THIS_SCALE and "smoke" in smoke.why


def test_a_diverged_replicate_is_left_out_and_reported():
    claim = _judged([0.3, 0.31, float("nan"), 0.29])
    assert claim.verdict == REPRODUCED
    (criterion,) = claim.as_dict()["criteria"]
    assert criterion["n"] == 3 and criterion["dropped"] == 1
    assert "1 diverged left out" in claims.to_markdown([claim])


def test_every_criterion_must_hold_and_one_refuted_criterion_refutes_the_claim():
    two = _definition(above("a", 0.05, "r"), above("b", 0.05, "r"))
    assert _judged(([0.3, 0.31, 0.29], [0.3, 0.31, 0.29]), definition=two).verdict == REPRODUCED
    assert _judged(([0.3, 0.31, 0.29], [0.9, 0.1, 0.5]), definition=two).verdict == INCONCLUSIVE
    assert _judged(([0.0, 0.01, 0.02], [0.9, 0.1, 0.5]), definition=two).verdict == NOT_REPRODUCED


def test_an_equivalence_needs_a_two_sided_margin_and_a_collapsed_value_fails_it():
    binomial = _definition(within("dispersion index", 0.5, 2.0, "r"))
    assert _judged([1.0, 1.1, 0.95], definition=binomial).verdict == REPRODUCED
    assert _judged([0.0, 0.0, 0.0], definition=binomial).verdict == NOT_REPRODUCED  # no longer "inside [0, 2]"
    with pytest.raises(ValueError, match="low < high"):
        within("d", 1.0, 1.0, "r")
    with pytest.raises(ValueError, match="can never fail"):
        differs("d", 0.0, "r")


def test_declarations_name_only_the_chapters_networks_and_unique_ids():
    with pytest.raises(ValueError, match="not among"):
        claims.check_declarations("toy", NETWORKS, [FITTED], [_definition(networks=("cnn",))])
    with pytest.raises(ValueError, match="duplicate claim ids"):
        claims.check_declarations("toy", NETWORKS, [], [_definition(), _definition()])
    with pytest.raises(ValueError, match="lacks claims"):
        claims.judge([_definition()], [], Evidence({}, {}), profile="cpu")


def test_the_fingerprint_covers_what_is_tested_and_not_the_wording_of_reasons():
    base = _definition().fingerprint([FITTED])
    assert _definition(above("gap per seed", 0.05, "another reason")).fingerprint([FITTED]) == base
    assert _definition(above("gap per seed", 0.02, "a tick of the paper's figure")).fingerprint([FITTED]) != base
    assert _definition(statement="Real data is much easier.").fingerprint([FITTED]) != base
    stricter = Precondition("randY-fitted", ("randY",), FITTED.statement, 0.95, FITTED.reason)
    assert _definition().fingerprint([stricter]) != base


def test_an_amended_definition_is_logged_with_its_earlier_verdict_and_flagged_on_the_page(isolated_results):
    claims.save("toy", "cpu", [_judged([0.0, 0.01, 0.02])])  # not reproduced
    assert claims.amendments() == []
    claims.save("toy", "cpu", [_judged([0.0, 0.01, 0.02])])  # the same definition again: nothing to log
    assert claims.amendments() == []
    laxer = _definition(
        above("gap per seed", 0.0, "a tick of the paper's figure"), amendment="the bound was too strict"
    )
    claims.save("toy", "cpu", [_judged([0.01, 0.02, 0.03], definition=laxer)])
    (amendment,) = claims.amendments()
    assert amendment["id"] == "x-1" and amendment["earlier_verdict"] == NOT_REPRODUCED
    assert amendment["why"] == "the bound was too strict"
    saved = json.loads((isolated_results / "claims" / "toy" / "cpu.json").read_text())
    assert "*amended after results*" in claims.to_markdown(saved) and "not reproduced" in claims.amendments_markdown()


def test_a_withdrawn_claim_is_logged_and_smoke_runs_log_nothing(isolated_results):
    claims.save("toy", "smoke", [_judged([0.3, 0.31, 0.29], profile="smoke")])
    claims.save("toy", "smoke", [])
    assert claims.amendments() == []
    claims.save("toy", "cpu", [_judged([0.3, 0.31, 0.29])])
    claims.save("toy", "cpu", [])
    (amendment,) = claims.amendments()
    assert amendment["fingerprint"] is None and amendment["why"].startswith("withdrawn")


def test_verdicts_are_kept_per_profile_and_the_largest_profile_is_shown(isolated_results):
    claims.save("easy_examples", "cpu", [_judged([0.3, 0.31, 0.29])])
    cpu_file = isolated_results / "claims" / "easy_examples" / "cpu.json"
    before = cpu_file.read_bytes()
    claims.save("easy_examples", "smoke", [_judged([0.3, 0.31, 0.29], profile="smoke")])
    assert cpu_file.read_bytes() == before
    assert [c["profile"] for c in claims.load_largest(["easy_examples"])] == ["cpu"]
    claims.save("easy_examples", "gpu", [_judged([0.0, 0.01, 0.02], profile="gpu")])
    assert [c["verdict"] for c in claims.load_largest(["easy_examples", "loss_sensitivity"])] == [NOT_REPRODUCED]


def test_a_reseeded_run_is_compared_with_the_profiles_verdicts(isolated_results):
    claims.save("toy", "cpu", [_judged([0.3, 0.31, 0.29])])
    claims.save("toy", "cpu", [_judged([0.0, 0.01, 0.02])], variant=claims.RESEED + "1000")
    (row,) = claims.stability(["toy"])
    assert row["offset"] == 1000 and row["compared"] == 1 and row["flipped"] == 1
    assert row["changed"] == [("x-1", REPRODUCED, NOT_REPRODUCED)]
    assert claims.amendments() == []  # a reseeded run logs no amendment
    assert "| 1 | 1 | 1 |" in claims.stability_markdown(["toy"])


def test_a_papers_label_comes_from_its_own_decided_claims_and_beyond_the_paper_claims_are_apart():
    row = lambda verdict, paper="arpit2017", beyond=False: {"paper": paper, "verdict": verdict, "beyond_paper": beyond}
    summary = claims.summary_by_paper([row(REPRODUCED), row(INCONCLUSIVE), row(NOT_REPRODUCED, beyond=True)])
    assert summary["arpit2017"]["label"] == "[Re] in part" and summary["arpit2017"][NOT_REPRODUCED] == 0
    assert summary[claims.BEYOND][NOT_REPRODUCED] == 1
    assert claims.summary_by_paper([row(NOT_AT_THIS_SCALE), row(INCONCLUSIVE)])["arpit2017"]["label"] == "inconclusive"
    assert claims.summary_by_paper([row(NOT_REPRODUCED)])["arpit2017"]["label"] == "[not Re]"
    for combination in range(1, 16):
        rows = [row(v) for i, v in enumerate(claims.VERDICTS) if combination >> i & 1]
        assert claims.summary_by_paper(rows)["arpit2017"]["label"] in claims.LABELS


def test_the_table_shows_the_interval_its_width_the_smallest_effect_and_escapes_pipes():
    claim = _judged([0.3, 0.31, 0.29])
    claim.measured = "a | b"
    table = claims.to_markdown([claim])
    assert "a \\| b" in table and "gap per seed: 0.300 [0.275, 0.325] (n = 3)" in table
    assert "&gt; 0.0500; interval width 0.0497" in table and "✓ reproduced" in table
    assert len(table.splitlines()[2].split(" | ")) == 4


def test_numbers_keep_three_significant_digits():
    assert [claims.format_number(x) for x in (1.0, 0.9183, 1.0912, 100.0, 12345.6, 2e-5, 0.0, None)] == [
        "1.00",
        "0.918",
        "1.09",
        "100",
        "12,346",
        "2.00e-5",
        "0",
        "n/a",
    ]


def test_an_effect_that_could_not_be_computed_is_saved_as_null(isolated_results):
    claim = _judged([float("nan"), float("nan")])
    claims.save("toy", "smoke", [claim])
    saved = json.loads((isolated_results / "claims" / "toy" / "smoke.json").read_text())[0]
    assert saved["criteria"][0]["estimate"] is None and saved["criteria"][0]["interval"] is None
    assert saved["verdict"] == NOT_AT_THIS_SCALE


def test_every_committed_verdict_was_judged_under_the_current_definitions():
    """A definition changed after results cannot go unnoticed: re-running the chapter re-judges its claims and
    logs the amendment (``claims.save``), which this test then finds consistent."""
    from pathlib import Path

    from memo_utils import experiments

    root = Path(__file__).resolve().parents[1] / "results" / "claims"
    for chapter in experiments.all_chapters():
        current = {d.id: d.fingerprint(claims.applicable(d, chapter.preconditions)) for d in chapter.claims}
        for path in sorted((root / chapter.name).glob("*.json")):
            saved = {c["id"]: c.get("fingerprint") for c in json.loads(path.read_text())}
            profile = path.stem.split(claims.RESEED)[0]
            assert saved == current, (
                f"{path.relative_to(root.parent.parent)} was judged under other definitions: run "
                f"python -m memo_utils run {chapter.name} --profile {profile}, which logs the "
                f"amendment"
            )


def test_the_verdict_box_counts_verdicts_states_the_headline_and_links_what_was_not_reproduced(monkeypatch):
    monkeypatch.delenv("MEMO_PAGE_LINKS", raising=False)
    rows = [
        {**_judged([0.3, 0.31, 0.29]).as_dict(), "id": "x-r"},
        {**_judged([-0.3, -0.31, -0.29]).as_dict(), "id": "x-nr"},
        {**_judged([0.3, 0.31, 0.29], fitted=0.5).as_dict(), "id": "x-nas1"},
        {**_judged([0.3, 0.31, 0.29], fitted=0.4).as_dict(), "id": "x-nas2", "beyond_paper": True},
    ]
    box = claims.verdict_box(rows, "cpu")
    assert box.splitlines()[0] == (
        ":::{admonition} Verdicts at the cpu profile: 1 reproduced · 1 not reproduced · 2 not at this scale"
    )
    assert (
        "Of the 2 claims of the paper this setting can test, 1 reproduced, 1 not reproduced and 0 inconclusive" in box
    )
    assert "1 need a larger setting (not at this scale, 1 of them because randY MLPs" in box
    assert "Beyond the paper: 1 not at this scale." in box
    assert '<a href="#claim-x-nr">x-nr</a>' in box and 'claim-x-r"' not in box
    table = claims.to_markdown(rows)
    assert all(f'<span id="claim-{r["id"]}"></span>' in table for r in rows)
    assert "✓ reproduced: 0.300 [0.275, 0.325] against &gt; 0.0500" in table  # the deciding number


def test_the_claims_page_groups_by_paper_then_chapter_and_links_each_row_to_its_chapter(monkeypatch):
    monkeypatch.delenv("MEMO_PAGE_LINKS", raising=False)
    base = _judged([0.3, 0.31, 0.29]).as_dict()
    rows = [
        {**base, "id": "a-1", "chapter": "easy_examples"},
        {**base, "id": "k-1", "paper": "krueger2017", "chapter": "capacity"},
        {**base, "id": "a-2", "chapter": "capacity"},
        {**base, "id": "b-1", "chapter": "capacity", "beyond_paper": True},
    ]
    text = claims.by_chapter_markdown(rows)
    headings = [line for line in text.splitlines() if line.startswith("### ") or line.startswith("**{doc}")]
    assert headings == [
        f"### {claims.PAPERS['arpit2017']}",
        "**{doc}`easy_examples`** (1 reproduced)",
        "**{doc}`capacity`** (1 reproduced)",
        f"### {claims.PAPERS['krueger2017']}",
        "**{doc}`capacity`** (1 reproduced)",
        "### Beyond the papers (ours, tested on the same runs)",
        "**{doc}`capacity`** (1 reproduced)",
    ]
    assert '<a href="capacity.html#claim-a-2">a-2</a>' in text


@pytest.mark.parametrize(
    "location, numbers",
    [
        ("Sec. 2, Fig. 1, 4", {1, 4}),
        ("Sec. 4.2, Fig. 7b", {7}),
        ("Sec. 2.1, Fig. 2 left (Arpit Sec. 3.3.2, Fig. 6)", {2}),
        ("Sec. 3.2", set()),
        ("Sec. 2.2, Eq. 5-6 (not checked in the paper)", set()),
    ],
)
def test_a_claims_location_names_the_figures_it_reads(location, numbers):
    assert claims.figure_numbers(location) == numbers


def test_the_line_under_a_figure_gives_the_verdict_of_each_claim_read_from_it(monkeypatch):
    monkeypatch.delenv("MEMO_PAGE_LINKS", raising=False)
    base = _judged([0.3, 0.31, 0.29]).as_dict()
    rows = [{**base, "id": "a", "location": "Fig. 2 left"}, {**base, "id": "b", "location": "Sec. 3, Fig. 3"}]
    assert claims.figure_line(rows, 2) == '**Claims read from Figure 2:** ✓ <a href="#claim-a">a</a> reproduced.'
    assert claims.figure_line(rows, 4) == ""
