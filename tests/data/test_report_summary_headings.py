"""Impression headings written as a summary phrase ("In summary:", "Bottom line:"), with a dash ("Key
findings —"), with the time of the report ("Impression (04:10):"), dictated ("Impression colon"), or
as a "Comment:" paragraph that closes the report."""

from __future__ import annotations

import pytest

from echogpt.data.report_text import parse_report

FINDINGS = ("TTE\nMRN: 3391\n\nLV normal size, LVIDd 4.8 cm, LVEF 63 %. TAPSE 22 mm. Trace MR. "
            "No pericardial effusion.\n\n")


@pytest.mark.parametrize("heading", ["In summary:", "Bottom line:", "In conclusion:", "Key findings —",
                                     "Impression (04:10):", "Impression colon", "IMPRESSION colon"])
def test_a_summary_heading_opens_the_impression(heading: str) -> None:
    parsed = parse_report(FINDINGS + heading + "\n1. Normal LV function.\n2. No pericardial effusion.\n")
    assert parsed.impression == "1. Normal LV function.\n2. No pericardial effusion."
    assert "Normal LV function" not in parsed.findings_text


@pytest.mark.parametrize("paragraph", ["Comment: Normal study. No pericardial effusion.",
                                       "Summary colon normal study period no pericardial effusion period"])
def test_an_inline_summary_paragraph_is_the_impression(paragraph: str) -> None:
    parsed = parse_report(FINDINGS + paragraph + "\n")
    assert parsed.impression is not None and parsed.impression.startswith(("Normal study", "normal study"))


def test_a_comment_inside_a_paragraph_stays_a_finding() -> None:
    parsed = parse_report("TTE\n\nLV normal size, LVEF 63 %.\nComment: images reviewed with Dr A.\n\n"
                          "IMPRESSION:\nNormal study.\n")
    assert parsed.impression == "Normal study."
    assert "images reviewed" in parsed.findings_text
