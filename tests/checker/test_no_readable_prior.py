"""A comparison with an earlier study is judged only against a prior the study holds (structured, or
comparison lines the import read); without one the comparison is not_checked and what the statement
says of now is still checked. With several earlier LVEFs a direction is wrong only against all."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.schemas import Study

NOW = ("LV: dilated, LVEF 32%. Moderate circumferential pericardial effusion, 14 mm. Mild MR. "
       "Normal RV function.")


def one(impression: str, findings: str = NOW, **kw: object) -> tuple[str, str]:
    s = Study.model_validate({"study_id": "S1", "findings_text": findings, **kw})
    result = check(impression, s).statements[0]
    return result.verdict, result.reason


@pytest.mark.parametrize("statement", [
    "Moderately reduced LV systolic function, LVEF 32%, compared with baseline of 58%.",
    "New moderate circumferential pericardial effusion compared with baseline.",
    "Mild MR, unchanged since the previous study.",
    "No change from 2021 (60%).",
    "Unchanged since the prior study.",
])
def test_without_a_prior_the_comparison_is_not_checked(statement: str) -> None:
    verdict, reason = one(statement)
    assert verdict == "not_checked"
    assert "no readable prior" in reason


@pytest.mark.parametrize(("statement", "verdict"), [
    ("Severely reduced LV systolic function, LVEF 20%, compared with baseline of 58%.", "contradicted"),
    ("New large pericardial effusion since the prior study.", "contradicted"),
    ("New severe aortic stenosis since the previous study.", "unsupported"),
])
def test_without_a_prior_what_it_says_of_now_is_still_checked(statement: str, verdict: str) -> None:
    got, reason = one(statement)
    assert got == verdict, reason


def test_the_supported_present_is_named_in_the_reason() -> None:
    _, reason = one("Mild MR, unchanged since the previous study.")
    assert "what it says of now" in reason and "Mild MR" in reason


def test_with_a_prior_the_comparison_is_judged() -> None:
    verdict, _ = one("LVEF 32%, improved since the prior study.", prior={"lvef": 58})
    assert verdict == "contradicted"


EARLIER = ("Comparison with prior study: Baseline (02/2026): 3D LVEF 62%.\n"
           "Comparison with prior study: Prior (08/2026): 3D LVEF 44%.\nLV: normal size, 3D LVEF 55%.")


@pytest.mark.parametrize(("statement", "verdict"), [
    ("LV function improved, LVEF 55%.", "supported"),  # better than the last study
    ("LV function worse, LVEF 55%.", "supported"),  # worse than the baseline
    ("LV function unchanged, LVEF 55%.", "contradicted"),  # 7 and 11 points from the two earlier
])
def test_several_earlier_lvefs_a_direction_is_wrong_only_against_all(statement: str, verdict: str) -> None:
    got, reason = one(statement, findings=EARLIER)
    assert got == verdict, reason
