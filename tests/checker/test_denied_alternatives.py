""""No moderate or severe MR" denies both grades: it agrees with mild MR and disagrees with severe MR."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.schemas import Study


def _verdict(statement: str, findings: str) -> str:
    study = Study.model_validate({"study_id": "a1", "findings_text": findings})
    return check(statement, study).statements[0].verdict


@pytest.mark.parametrize("statement", ["No moderate or severe MR.",
                                       "No moderate/severe mitral regurgitation."])
def test_both_denied_grades_are_denied(statement: str) -> None:
    assert _verdict(statement, "Mitral valve: mild MR. LVEF 60 %.") == "supported"
    assert _verdict(statement, "Mitral valve: severe MR. LVEF 60 %.") == "contradicted"
