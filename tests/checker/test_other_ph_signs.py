"""'No other PH signs' speaks of the indirect signs that set the ESC/ERS PH probability beside the TR
velocity (RV/LV ratio, PA, IVC/RA), not of the PASP: beside a mildly raised RVSP it is no denial of
pulmonary hypertension, while 'no pulmonary hypertension' still is."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study

FINDINGS = ("TR peak velocity 3.1 m/s, RAP 3 mmHg, RVSP 41 mmHg. RV normal size and function. "
            "IVC normal with > 50% collapse.")


@pytest.mark.parametrize("statement", [
    "Intermediate echocardiographic probability of PH: TR velocity 3.1 m/s, no other PH signs.",
    "RVSP 41 mmHg without additional echocardiographic signs of pulmonary hypertension.",
])
def test_no_other_signs_is_not_a_normal_pasp(statement: str) -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": FINDINGS})
    result = check(statement, study).statements[0]
    assert result.verdict == "supported", result.reason


def test_other_signs_give_no_pasp_fact() -> None:
    assert not [f for f in extract_facts("No other signs of pulmonary hypertension.") if f.concept == "pasp"]


def test_no_pulmonary_hypertension_is_still_contradicted() -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": FINDINGS})
    assert check("No pulmonary hypertension.", study).statements[0].verdict == "contradicted"
