"""Impression headings of vendor and clinic exports, an impression placed at the top that ends at its
blank line, and a wall-motion label that stays with its word."""

from __future__ import annotations

import pytest

from echogpt.data.report_text import parse_report
from echogpt.data.reports import build_study

FINDINGS = "Findings: The left ventricle is normal in size. LVEF 60 %.\n\n"


@pytest.mark.parametrize("heading", ["Physician Summary", "PHYSICIAN INTERPRETATION", "Final Interpretation",
                                     "Final judgement:", "Conclusion/Impression (free text):"])
def test_vendor_and_clinic_summary_headings_open_the_impression(heading: str) -> None:
    parsed = parse_report(FINDINGS + f"{heading}\n- Normal LV size and function.\n")
    assert parsed.impression == "- Normal LV size and function."


TOP = ("EHR EXPORT :: ECHO TTE\n"
       "MRN: 15539004    Exam: 2026-11-19\n"
       "Indication: chest pain.\n\n"
       "IMPRESSION:\n1. Moderately reduced LV function, LVEF 35 %.\n\n"
       "------------------------\n"
       "TRANSTHORACIC ECHO - STRUCTURED DATA\n"
       "MRN: 15539004    Date of Study: 2026-11-19\n"
       "LV size ............ Mildly dilated\n"
       "LVEF ............... 35 %\n"
       "LVIDd: 6.0 cm\n")


def test_an_impression_at_the_top_ends_at_its_blank_line() -> None:
    parsed = parse_report(TOP)
    assert parsed.impression == "1. Moderately reduced LV function, LVEF 35 %."
    assert "LV size" in parsed.findings_text
    assert "STRUCTURED DATA" not in parsed.findings_text and "MRN" not in parsed.findings_text
    study, _ = build_study(parsed, "t1", {})
    assert study is not None and study.measurements is not None
    assert study.measurements.lvidd == 6.0


def test_an_impression_after_the_findings_keeps_its_paragraphs() -> None:
    text = FINDINGS + "Impression:\nNormal LV size.\n\nNormal RV function.\n"
    assert parse_report(text).impression == "Normal LV size.\nNormal RV function."


def test_the_wall_motion_label_stays_with_its_word() -> None:
    parsed = parse_report("LV size: normal\nRegional wall motion: Abnormal\n  Apex: akinetic\n\n"
                          "Conclusion:\nApical akinesis.")
    assert "Regional wall motion: Abnormal" in parsed.findings_text


@pytest.mark.parametrize("opening", ["Letter to GP:\nDear Dr Patel, the heart is normal.",
                                     "Dear Dr Patel,\nThe heart is normal. Kind regards.",
                                     "To Dr O'Neill: the heart is normal."])
def test_a_letter_after_the_impression_is_no_impression_statement(opening: str) -> None:
    text = (FINDINGS + "Impression:\nNormal study.\n\n" + opening
            + "\n\nDr H. Okafor, Consultant Cardiologist\n")
    parsed = parse_report(text)
    assert parsed.impression == "Normal study."
    assert any("the heart is normal" in line.lower() for line in parsed.recommendations)


def test_a_sonographer_and_cardiologist_line_signs_the_report_off() -> None:
    text = FINDINGS + ("Impression:\n1) Normal study.\n"
                       "Sonographer: L. Grant. Reporting cardiologist: Dr D. Fitzpatrick.\n")
    assert parse_report(text).impression == "1) Normal study."
