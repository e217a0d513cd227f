"""A restrictive filling pattern where the diastolic algorithm does not apply (LBBB) is supported by a
mitral E/A of 2 or more in a depressed LV (ASE/EACVI 2016), never in a normal one."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.schemas import Study

CLAIM = "Restrictive filling pattern (E/A 2.1); diastolic grading limited by LBBB."


@pytest.mark.parametrize(("findings", "lvef", "verdict"), [
    ("Severely dilated LV with global hypokinesis, LVEF 30 %.", 30, "supported"),
    ("Normal LV size and systolic function, LVEF 62 %.", 62, "unsupported"),
])
def test_restrictive_pattern_from_e_a(findings: str, lvef: int, verdict: str) -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": findings, "lbbb": True,
                                  "measurements": {"e_a_ratio": 2.1, "lvef": lvef}})
    assert check(CLAIM, study).statements[0].verdict == verdict
