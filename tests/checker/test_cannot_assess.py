"""A statement that the method cannot assess something ("Transthoracic imaging cannot assess the
appendage for thrombus") states a limit of the study, not the finding: the finding is hedged, so a
study silent about it leaves the statement not_checked, never unsupported."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study

FINDINGS = "Normal LV size and systolic function. Mild MR. No pericardial effusion. Left atrium dilated."


@pytest.mark.parametrize("statement", [
    "Transthoracic echo cannot assess the left atrial appendage for thrombus.",
    "TTE cannot reliably assess for device thrombus.",
    "Surface imaging is unable to evaluate prosthetic thrombus.",
])
def test_a_limit_of_the_method_is_not_flagged(statement: str) -> None:
    study = Study.model_validate({"study_id": "S1", "study_type": "TTE", "findings_text": FINDINGS})
    result = check(statement, study).statements[0]
    assert result.verdict not in ("unsupported", "contradicted"), result.reason


def test_the_finding_it_cannot_assess_is_hedged() -> None:
    facts = extract_facts("Cannot assess the appendage for thrombus.")
    assert [f.polarity for f in facts if f.concept == "thrombus"] == ["uncertain"]


def test_a_definite_thrombus_stays_unsupported() -> None:
    study = Study.model_validate({"study_id": "S1", "study_type": "TTE", "findings_text": FINDINGS})
    assert check("Left ventricular apical thrombus.", study).statements[0].verdict == "unsupported"
