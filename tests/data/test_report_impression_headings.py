"""Headings that open the impression: 'Comment:' and 'Key findings' after the findings, and 'Echo
diagnosis:' anywhere; 'Comment:' before any finding stays a finding."""

from __future__ import annotations

import pytest

from echogpt.data.report_text import parse_report

FINDINGS = ("Left ventricle: normal size, LVEF 60 %.\nRight ventricle: normal.\n"
            "Pericardium: small effusion, 6 mm.\n\n")


@pytest.mark.parametrize("heading", ["Comment:", "Comments", "Key findings", "Echo diagnosis:",
                                     "Echocardiographic diagnosis"])
def test_a_summary_heading_after_the_findings_opens_the_impression(heading: str) -> None:
    parsed = parse_report(FINDINGS + f"{heading}\nSmall pericardial effusion. Normal LV function.\n")
    assert parsed.impression == "Small pericardial effusion. Normal LV function."
    assert "Small pericardial effusion. Normal" not in parsed.findings_text


def test_a_comment_before_any_finding_is_a_finding() -> None:
    parsed = parse_report("Comment\nTechnically difficult study.\n\nFindings:\nNormal LV size.\n")
    assert parsed.impression is None
    assert "Technically difficult study." in parsed.findings_text


def test_a_comment_with_text_on_its_line_opens_no_section() -> None:
    parsed = parse_report("Procedure:\nComment: the images were reviewed with the worksheet.\n\n"
                          "Findings:\nNormal LV size.\n")
    assert "images were reviewed" not in parsed.findings_text


def test_a_comment_beside_an_impression_heading_is_a_finding() -> None:
    parsed = parse_report(FINDINGS + "Comment:\nMild TR.\n\nImpression:\nSmall pericardial effusion.\n")
    assert parsed.impression == "Small pericardial effusion."
    assert "Mild TR." in parsed.findings_text


def test_of_two_summary_blocks_only_the_last_is_the_impression() -> None:
    parsed = parse_report(FINDINGS + "Comments\nMild TR.\n\nInterpretation\n1. Small pericardial effusion.\n")
    assert parsed.impression == "1. Small pericardial effusion."
    assert "Mild TR." in parsed.findings_text


def test_a_summary_before_the_findings_ends_at_their_first_section_heading() -> None:
    # Epic-style export: the summary first, then the findings under headings in title case
    parsed = parse_report("Indication: Murmur.\n\nInterpretation Summary\nSevere mitral regurgitation.\n"
                          "Normal LV size and function.\n\nLeft Ventricle\nThe left ventricle is normal in "
                          "size. LVEF (Biplane): 64 %.\nMitral Valve\nFlail P2. Regurgitation: severe.\n")
    assert parsed.impression == "Severe mitral regurgitation.\nNormal LV size and function."
    assert parsed.findings_text.startswith("Left Ventricle\nThe left ventricle is normal in size.")
    assert "Regurgitation: severe." in parsed.findings_text
    assert [r.field for r in parsed.readings] == ["lvef"]


def test_a_comment_after_findings_under_no_heading_opens_the_impression() -> None:
    parsed = parse_report("POST-PROCEDURE ECHO\nDate: 4 Dec 2026\n\nLV normal size, EF 60 %. TAPSE 21 mm. "
                          "Small posterior effusion, 4 mm.\n\nComment:\nSmall pericardial effusion.\n"
                          "Normal LV function.\n")
    assert parsed.impression == "Small pericardial effusion.\nNormal LV function."
    assert "EF 60 %" in parsed.findings_text and "Normal LV function" not in parsed.findings_text


def test_a_numbered_interpretation_after_a_pipe_table_opens_the_impression() -> None:
    parsed = parse_report("Indication: PH follow-up.\n\n| parameter | today |\n|---|---|\n"
                          "| TR Vmax | 2.8 m/s |\n| TAPSE | 20 mm |\n\nInterpretation:\n"
                          "1. Intermediate probability of PH.\n2. Continue therapy.\n")
    assert parsed.impression == "1. Intermediate probability of PH.\n2. Continue therapy."
    assert {r.field for r in parsed.readings} == {"tr_vmax", "tapse"}


def test_a_comment_after_text_without_values_stays_a_finding() -> None:
    parsed = parse_report("Indication: murmur.\n\nTechnically difficult study.\n\nComment:\n"
                          "Normal LV size.\n")
    assert parsed.impression is None
    assert "Normal LV size." in parsed.findings_text


@pytest.mark.parametrize("heading", ["Beurteilung (assessment):", "Zusammenfassung:", "JUICIO CLÍNICO:",
                                     "Eligibility conclusion", "CORE LAB SUMMARY", "Core lab interpretation",
                                     "Core-lab impression:", "Core-lab conclusions", "Final conclusions:",
                                     "FINAL CONCLUSION"])
def test_foreign_core_lab_and_final_headings_open_the_impression(heading: str) -> None:
    parsed = parse_report(FINDINGS + f"{heading}\n- Small pericardial effusion.\n- Normal LV function.\n")
    assert parsed.impression == "- Small pericardial effusion.\n- Normal LV function."


@pytest.mark.parametrize("heading", ["Clinic summary", "Interval summary", "Key points",
                                     "Diagnostic summary:", "Answer to clinical question:",
                                     "Conclusion & advice:",
                                     "URGENT - Conclusion:", "Bottom line for the referring team:",
                                     "Reporting physician's summary:"])
def test_clinic_and_acute_summary_headings_open_the_impression(heading: str) -> None:
    parsed = parse_report(FINDINGS + f"{heading}\n1. Small pericardial effusion.\n")
    assert parsed.impression == "1. Small pericardial effusion."


def test_a_clinical_summary_at_the_top_is_history() -> None:
    parsed = parse_report("Clinical summary: 64-year-old with dyspnoea.\n\n" + FINDINGS)
    assert parsed.impression is None


def test_a_heading_for_someone_that_is_no_summary_stays_text() -> None:
    parsed = parse_report(FINDINGS + "Request for the ward team:\nPlease repeat the study.\n")
    assert parsed.impression is None
