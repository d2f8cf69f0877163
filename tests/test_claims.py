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
