"""'No paravalvular or central regurgitation' names the two leaks of a prosthesis (through its
leaflets, around its frame): it is read as the paravalvular leak, never as a denial of every native
valve's regurgitation, so mild MR in the same study does not contradict it."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study

FINDINGS = ("Transcatheter aortic valve well seated, mean gradient 10 mmHg. No paravalvular leak. "
            "Mitral valve: mild MR. Normal LV size and function.")


@pytest.mark.parametrize("statement", [
    "No paravalvular or central regurgitation.",
    "No central or paravalvular leak.",
])
def test_the_prosthetic_leaks_are_not_native_regurgitation(statement: str) -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": FINDINGS})
    result = check(statement, study).statements[0]
    assert result.verdict == "supported", result.reason
    assert {f.concept for f in extract_facts(statement)} == {"paravalvular_leak"}


def test_moderate_paravalvular_and_central_regurgitation_is_contradicted() -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": FINDINGS})
    result = check("Moderate paravalvular and central regurgitation.", study).statements[0]
    assert result.verdict == "contradicted", result.reason
