"""A report whose first line names a transthoracic study ("POST-PROCEDURE TTE") is a TTE, whatever TEE
or drug a header line mentions: the TEE that guided the implant or the dobutamine infusion belongs
to another study or to the treatment. A title that names a TEE, or none, leaves the old rule."""

from __future__ import annotations

import pytest

from echogpt.data.report_header import detect_study_type
from echogpt.data.report_sections import split_sections


def kind(text: str) -> str:
    return detect_study_type(split_sections(text))


@pytest.mark.parametrize("text", [
    "POST-PROCEDURE TTE\nDevice: occluder 24 mm (TOE-guided implant).\n\nFindings\nNo effusion.",
    ("Transthoracic echo, day 2 after TAVI\nValve: 26 mm. Intra-procedural TEE: trace PVL.\n\n"
     "Findings\nWell seated."),
    "BEDSIDE TTE\nIx: hypotension on dobutamine 5 mcg/kg/min.\n\nFindings\nHyperdynamic LV.",
])
def test_a_title_naming_a_tte_decides(text: str) -> None:
    assert kind(text) == "TTE"


@pytest.mark.parametrize(("text", "expected"), [
    ("TRANSOESOPHAGEAL ECHO\nProbe was passed without difficulty.\n\nFindings\nNo LAA thrombus.", "TEE"),
    ("Echo report\nProcedure: TOE under sedation.\n\nFindings\nNo LAA thrombus.", "TEE"),
    ("TTE and dobutamine stress echo\nPeak stress HR 140.\n\nFindings\nNo ischaemia.", "stress"),
])
def test_other_titles_keep_the_old_rule(text: str, expected: str) -> None:
    assert kind(text) == expected
