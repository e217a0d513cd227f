"""A grade the findings limit to one method ("mildly dilated by diameter") yields to the structured
fields' grade of the same finding (the volume index, which ASE 2015 prefers)."""

from __future__ import annotations

from echogpt.checker.check import check
from echogpt.schemas import Study


def _study(words: str) -> Study:
    return Study.model_validate({
        "study_id": "m1", "patient": {"sex": "female", "bsa_m2": 1.5},
        "findings_text": f"LV: mildly dilated{words} (LVIDd 5.4 cm); LVEDV 110 mL (73 mL/m2). LVEF 35 %.",
        "measurements": {"lvidd": 5.4, "lvedv": 110, "lvef": 35}})


def test_a_grade_by_diameter_yields_to_the_volume_grade() -> None:
    result = check("1. Moderately dilated LV.", _study(" by diameter"))
    assert result.statements[0].verdict == "supported", result.statements[0].reason


def test_an_unqualified_grade_still_stands() -> None:
    result = check("1. Moderately dilated LV.", _study(""))
    assert result.statements[0].verdict == "contradicted"
