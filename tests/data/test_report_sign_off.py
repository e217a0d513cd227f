"""After the impression, the reader's attestation ("I have personally reviewed the images and agree
with the findings.") and a sign-off in Markdown emphasis ("_Dr. M. Rossi_", "*Report by Dr A. Shah —
02/12/2026*") close the report: they are no statement of the impression, and no line goes unread."""

from __future__ import annotations

import pytest

from echogpt.data.report_text import parse_report

BODY = "FINDINGS:\nMild MR. Normal LV size and function.\n\nIMPRESSION:\n1. Mild mitral regurgitation.\n\n"


@pytest.mark.parametrize("closing", [
    "I have personally reviewed the images and agree with the findings.\nA. Shah MD, Imaging",
    "I agree with the findings of the preliminary report.",
    "---\n_Dr. M. Rossi_",
    "---\n*Report by Dr A. Shah, cardiology — 02/12/2026*",
    "_Dr. Tomas Berg — 04/12/2026_",
])
def test_the_sign_off_is_not_in_the_impression(closing: str) -> None:
    parsed = parse_report(BODY + closing)
    assert parsed.impression.strip() == "1. Mild mitral regurgitation."
    assert not [u for u in parsed.unread if "Rossi" in u or "Shah" in u or "Berg" in u]
