from memo_utils.claims import Claim, summary_by_paper, to_markdown


def _claim(passed, profile="cpu", at_scale=True):
    return Claim("x-1", paper="arpit2017", figure="Fig. 1", statement="s", measured="m", passed=passed,
                 profile=profile, data="d", at_scale=at_scale)


def test_verdicts_follow_the_outcome_the_profile_and_the_scale_precondition():
    assert _claim(True).verdict == "reproduced"
    assert _claim(False).verdict == "not reproduced"
    assert _claim(True, profile="smoke").verdict == "not at this scale"
    assert _claim(True, at_scale=False).verdict == "not at this scale"


def test_a_paper_with_one_failed_claim_is_not_labelled_re():
    claims = [_claim(True).as_dict(), _claim(False).as_dict()]
    assert summary_by_paper(claims)["arpit2017"]["label"] == "[not Re] in part"
    assert summary_by_paper(claims[:1])["arpit2017"]["label"] == "[Re]"


def test_markdown_table_escapes_pipes():
    claim = _claim(True)
    claim.measured = "a | b"
    assert "a \\| b" in to_markdown([claim])


def test_claims_are_kept_per_profile_and_the_largest_profile_is_shown(isolated_results):
    from memo_utils import claims

    claims.save("easy_examples", "cpu", [_claim(True)])
    cpu_file = isolated_results / "claims" / "easy_examples" / "cpu.json"
    before = cpu_file.read_bytes()
    claims.save("easy_examples", "smoke", [_claim(True, profile="smoke")])
    assert cpu_file.read_bytes() == before
    assert [c["profile"] for c in claims.load_largest(["easy_examples"])] == ["cpu"]
    claims.save("easy_examples", "gpu", [_claim(False, profile="gpu")])
    assert [c["verdict"] for c in claims.load_largest(["easy_examples", "loss_sensitivity"])] == ["not reproduced"]


def test_exceeds_differs_and_equivalent_judge_the_interval_not_the_point_estimate():
    from memo_utils import claims

    assert claims.exceeds([0.30, 0.31, 0.29], 0.0).passed
    assert not claims.exceeds([0.5, -0.4, 0.3], 0.0).passed  # positive mean, interval reaches below 0
    assert claims.differs([-0.2, -0.21, -0.19]).passed and not claims.differs([0.1, -0.1, 0.05]).passed
    assert claims.equivalent([0.01, -0.01, 0.0], margin=0.05).passed
    assert not claims.equivalent([0.04, -0.04, 0.03], margin=0.05).passed  # too few seeds to show it
    single = claims.exceeds([0.3], 0.0)
    assert not single.judgeable and not single.passed
    claim = claims.from_test(single, id="x", paper="arpit2017", figure="f", statement="s", measured="m",
                             profile="cpu", data="d")
    assert claim.verdict == "not at this scale" and claim.interval is None


def test_the_table_shows_the_effect_with_its_interval_and_a_collapsible_detail():
    claim = _claim(True)
    claim.effect, claim.estimate, claim.interval = "ratio of stds", 2.7123, [2.551, 2.879]
    claim.threshold, claim.replicate, claim.precondition = "lower bound > 2", "seed", "training converged"
    table = to_markdown([claim])
    assert "ratio of stds: 2.71 [2.55, 2.88]" in table
    assert "lower bound &gt; 2" in table and "| seed |" in table
    assert "<details><summary>measured</summary><b>measured</b>: m<br><b>precondition</b>: training converged" in table
    assert len(table.splitlines()[2].split(" | ")) == 5
    assert "✓ reproduced<br>Fig. 1<br>`x-1`" in table


def test_numbers_keep_three_significant_digits():
    from memo_utils.claims import format_number

    assert [format_number(x) for x in (1.0, 0.9183, 1.0912, 100.0, 12345.6, 2e-5, 0.0, None)] == [
        "1.00", "0.918", "1.09", "100", "12,346", "2.00e-5", "0", "n/a"]


def test_claims_saved_before_the_new_fields_still_render():
    from memo_utils.claims import PAGE_COLUMNS

    old = {"id": "x-1", "paper": "arpit2017", "figure": "Fig. 1", "statement": "s", "measured": "m", "passed": True,
           "profile": "cpu", "data": "d", "seeds": [0], "chapter": "easy_examples", "at_scale": True,
           "verdict": "reproduced"}
    table = to_markdown([old], columns=PAGE_COLUMNS)
    assert "✓ reproduced" in table and "| – |" in table


def test_every_label_the_summary_gives_is_defined():
    from memo_utils.claims import LABELS

    verdicts = ["reproduced", "not reproduced", "not at this scale"]
    for combination in range(1, 8):
        claims = [{"paper": "p", "verdict": v} for i, v in enumerate(verdicts) if combination >> i & 1]
        assert summary_by_paper(claims)["p"]["label"] in LABELS


def test_an_effect_that_could_not_be_computed_is_saved_as_null(isolated_results):
    import json

    from memo_utils import claims

    claim = _claim(False)
    claim.estimate, claim.interval, claim.at_scale = float("nan"), [float("nan"), float("nan")], False
    claims.save("easy_examples", "smoke", [claim])
    saved = json.loads((isolated_results / "claims" / "easy_examples" / "smoke.json").read_text())[0]
    assert saved["estimate"] is None and saved["interval"] is None and saved["verdict"] == "not at this scale"
