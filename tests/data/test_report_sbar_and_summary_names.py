# ruff: noqa: E501
"""SBAR handover notes (the echo's own impression over the Assessment block of focused questions, the
'R' block as the plan, 'S' and 'B' as history) and unknown summary headings read by their form
("Echocardiographer's summary:", "NIGHT-SHIFT IMPRESSION", "CONCLUSION/SUMMARY:")."""

from __future__ import annotations

import pytest

from echogpt.data.report_text import parse_report

FINDINGS = ("TTE\nMRN: 3391\n\nLV normal size, LVIDd 4.8 cm, LVEF 63 %. TAPSE 22 mm. Trace MR. "
            "No pericardial effusion.\n\n")


def _sbar(letters: bool, echo_heading: str) -> str:
    s, b, a, r = (("S: ", "B: ", "A: ", "R: ") if letters else
                  ("S - Situation: ", "B - Background: ", "A - Assessment: ", "R - Recommendation: "))
    return (f"BEDSIDE ECHO - WARD HANDOVER\nMRN: 5521\n\n{s}Breathless after hip surgery, HR 118.\n"
            f"{b}Diabetes. Smoker.\n{a}RV size? Normal. Effusion? None.\n\n"
            "Findings:\nLV normal size, LVEF 60 %. RV normal size, TAPSE 21 mm. No pericardial effusion.\n\n"
            f"{echo_heading}\nNormal biventricular size and function.\nNo pericardial effusion.\n\n"
            f"{r}Review with CT result in the morning.\n")


@pytest.mark.parametrize("letters", [False, True])
@pytest.mark.parametrize("echo_heading", ["Impression:", "Night-shift impression -"])
def test_an_sbar_note_keeps_its_echo_impression_and_plan(letters: bool, echo_heading: str) -> None:
    parsed = parse_report(_sbar(letters, echo_heading))
    assert parsed.impression == "Normal biventricular size and function.\nNo pericardial effusion."
    assert "Review with CT result" in " ".join(parsed.recommendations)
    assert "Breathless after hip surgery" not in parsed.findings_text
    assert "Diabetes" not in parsed.findings_text


def test_an_assessment_heading_without_sbar_stays_the_impression() -> None:
    parsed = parse_report(FINDINGS + "Assessment:\nNormal study.\n")
    assert parsed.impression == "Normal study."


@pytest.mark.parametrize("heading", ["Echocardiographer's summary:", "NIGHT-SHIFT IMPRESSION", "CONCLUSION/SUMMARY:",
                                     "Reporting comment:", "Clinic nurse summary -",
                                     "Questions answered / impression"])
def test_a_qualified_summary_heading_opens_the_impression(heading: str) -> None:
    parsed = parse_report(FINDINGS + heading + "\nNormal LV function.\nNo pericardial effusion.\n")
    assert parsed.impression == "Normal LV function.\nNo pericardial effusion."


@pytest.mark.parametrize("heading", ["Previous conclusion:", "Stress summary:", "Sonographer impression:"])
def test_a_summary_of_another_study_or_stage_is_no_impression(heading: str) -> None:
    parsed = parse_report(FINDINGS + heading + "\nNormal LV function.\n\nIMPRESSION:\nNormal study.\n")
    assert parsed.impression == "Normal study."


def test_a_qualified_comment_beside_the_impression_is_a_finding() -> None:
    parsed = parse_report(FINDINGS + "Reader comment: small effusion compared with before.\n\n"
                          "IMPRESSION:\nNormal study.\n")
    assert parsed.impression == "Normal study."
    assert "small effusion compared" in parsed.findings_text


@pytest.mark.parametrize("row", ["Conclusion;Normal LV function.", "Conclusion\tNormal LV function.",
                                 "Summary_text;Normal LV function.", "Impression column\tNormal LV function."])
def test_a_spreadsheet_row_naming_the_summary_is_the_impression(row: str) -> None:
    parsed = parse_report("Field;Value\nLVEF;60 %\nTAPSE;22 mm\nLVIDd;4.8 cm\n\n" + row + "\nPlan;Repeat in 1 year.\n")
    assert parsed.impression == "Normal LV function."
    assert "Repeat in 1 year." in " ".join(parsed.recommendations)


def test_a_measurement_row_is_no_heading() -> None:
    parsed = parse_report(FINDINGS + "LVEF\t60 %\n\nImpression:\nNormal study.\n")
    assert parsed.impression == "Normal study."
