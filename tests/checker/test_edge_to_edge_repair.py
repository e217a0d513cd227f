"""Transcatheter edge-to-edge mitral repair is named by its devices (MitraClip, PASCAL) or by a clip
or device at the mitral scallops ("two clips at A2-P2"): findings written that way support a TEER
statement, and a statement naming the device is no invented prosthesis."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.schemas import Study

CLIPS = ("Mitral valve: two clips at A2-P2 with stable leaflet grasp. Residual MR mild. Mean gradient "
         "3 mmHg. Normal LV size.")
SEATED = "Two clips remain well seated across A1-P1. Mild residual MR. Normal LV size."
DEVICE = "Mitral valve: single device at A2-P2, stable. Residual MR moderate. Normal LV size."


@pytest.mark.parametrize(("findings", "statement"), [
    (CLIPS, "Successful TEER with two MitraClip devices; mild residual MR."),
    (CLIPS, "Transcatheter edge-to-edge repair, mild residual mitral regurgitation."),
    (DEVICE, "PASCAL device at A2, moderate residual MR."),
    (SEATED, "Mild residual MR after transcatheter edge-to-edge repair."),
])
def test_teer_is_supported_by_its_clips(findings: str, statement: str) -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": findings})
    result = check(statement, study).statements[0]
    assert result.verdict == "supported", result.reason


def test_teer_without_any_device_is_still_unsupported() -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": "Mild MR. Normal LV size."})
    assert check("Successful TEER with a MitraClip.", study).statements[0].verdict == "unsupported"
