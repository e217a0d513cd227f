"""A plan opened by a treatment verb ("Optimise medical therapy", "Uptitrate diuretics") or a clinic
review states no finding of this study: not_factual, whatever device or drug it names."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.schemas import Study

FINDINGS = "Normal LV size. LVEF 35%. Mild MR. No pericardial effusion."


@pytest.mark.parametrize("statement", [
    "Optimise therapy for the LV dysfunction.",
    "Optimize medical therapy for the mitral regurgitation.",
    "Uptitrate diuretics for the pericardial effusion.",
    "Review in the valve clinic in 6 months for the mitral regurgitation.",
    "Titrate beta-blocker; review in TAVI clinic in 3 months.",
])
def test_a_plan_is_not_factual(statement: str) -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": FINDINGS})
    result = check(statement, study).statements[0]
    assert result.verdict == "not_factual", result.reason


def test_a_finding_before_the_plan_is_still_judged() -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": FINDINGS})
    result = check("Severe MR; optimise medical therapy.", study).statements[0]
    assert result.verdict == "contradicted", result.reason
