""""No significant valvular abnormality" allows trace or mild regurgitation; a valve's name used only
to name a measurement ("TR Peak Vel") or an ungraded mention is no significant lesion."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study


def verdict(impression: str, findings: str) -> str:
    study = Study.model_validate({"study_id": "S1", "findings_text": findings})
    return check(impression, study).statements[0].verdict


@pytest.mark.parametrize(("findings", "expected"), [
    ("TR Peak Vel: 2.2 m/s\nTricuspid valve: Regurgitation: trace. Mitral valve: Regurgitation: trace.",
     "supported"),
    ("TR present. Trace TR.", "supported"),  # the grade the reader wrote decides
    ("TR present.", "not_checked"),  # named, its grade not read: not refuted
    ("Mild MR. TR present.", "not_checked"),  # the mild MR says nothing of the TR
    ("Moderate TR.", "contradicted"),
])
def test_no_significant_valvular_abnormality(findings: str, expected: str) -> None:
    assert verdict("No significant valvular abnormality.", findings) == expected


def test_a_tr_velocity_abbreviated_is_a_velocity_not_a_regurgitation() -> None:
    facts = extract_facts("TR Peak Vel: 2.2 m/s")
    assert [(f.concept, f.location, f.value) for f in facts] == [("measurement", "tr_vmax", 2.2)]
