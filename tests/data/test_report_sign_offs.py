"""A reviewer's agreement, countersignature or attestation under a trainee's impression is no
impression statement, and who did or read the study is no part of its indication."""

from __future__ import annotations

import pytest

from echogpt.data.report_text import parse_report

HEAD = ("TTE\nMRN: 7712\nFellow: Dr Q. Ansari (PGY-4)   Attending: Dr M. Obi\nIndication: dyspnoea.\n\n"
        "Findings: LV normal size, LVEF 61 %. Trace MR.\n\n"
        "IMPRESSION:\n1. Normal LV size and systolic function.\n2. Trace mitral regurgitation.\n")


@pytest.mark.parametrize("sign_off", [
    "Agree. MO 03/12/26",
    "Agree - M. Obi",
    "MO - agree with edits.",
    "Agree with amended report. M. Obi",
    "Countersigned M. Obi, 03/12/2026",
    "Over-read and agreed as amended - M. Obi.",
    "Attending attestation: I have reviewed the images and agree with the report. M. Obi MD",
    "Attending: Agree with fellow's interpretation. No edits. M. Obi, MD",
])
def test_a_sign_off_is_neither_impression_nor_indication(sign_off: str) -> None:
    parsed = parse_report(HEAD + sign_off + "\n")
    assert parsed.impression == "1. Normal LV size and systolic function.\n2. Trace mitral regurgitation."
    assert parsed.indication == "dyspnoea."


@pytest.mark.parametrize("line", ["A. Okafor  25/11/2026", "Dr S. Varga   |   27.11.2026",
                                  "Dr A. Rahimi – 24/11/2026", "Reviewed & signed – Dr O. Fernandes",
                                  "Reported: Dr E. Lindgren   19 Nov 2026"])
def test_a_name_signed_with_a_date_is_no_impression_statement(line: str) -> None:
    from echogpt.data.report_text import parse_report

    parsed = parse_report(f"Findings:\nLV normal, EF 60 %.\n\nConclusion:\n1. Normal LV function.\n{line}\n")
    assert parsed.impression == "1. Normal LV function."
