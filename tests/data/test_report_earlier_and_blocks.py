"""Values of an earlier study are never this study's, and indented blocks under a label line stay in
the findings: a dated baseline or previous-study line, a prior word in a clause with decimals, a
"Label:" line over indented lines after a non-findings section."""

from __future__ import annotations

import pytest

from echogpt.data.report_text import parse_report


def _values(report: str) -> list[tuple[str, str]]:
    return [(r.field, r.raw) for r in parse_report(report).readings]


@pytest.mark.parametrize("label", ["Baseline (02/2026):", "Previous 11/2025:", "Prior (08/26/2026):",
                                   "Baseline (pre-sunitinib 02/2026):", "Post-TAVI baseline (12/2025):",
                                   "Pre-TAVI (2025):", "Previous (pre-BPA, 14/04/2026):",
                                   "Previous: TTE 20 Nov 2024 -", "Previous: 01/12/2024,",
                                   "Prior: Nov 28, 2025 -", "Previous screen (17 November 2025):"])
def test_a_dated_line_about_an_earlier_study_is_a_comparison_line(label: str) -> None:
    parsed = parse_report(f"ECHO\nPatient: A  MRN 1\n{label} LVEF 40%, AVA 1.25 cm2.\n\nLV: LVEF 60%. "
                          "AVA 1.12 cm2.\n\nIMPRESSION:\n1. Normal LV.")
    assert [(r.field, r.raw) for r in parsed.readings] == [("lvef", "60 %"), ("ava", "1.12 cm2")]
    assert f"Comparison with prior study: {label} LVEF 40%" in parsed.findings_text


@pytest.mark.parametrize("line", ["Previous: none available.", "Previous: not available, LVEF 40%."])
def test_a_previous_label_without_a_date_opens_no_comparison(line: str) -> None:
    parsed = parse_report(f"ECHO\n{line}\n\nLV: LVEF 60%.\n\nIMPRESSION:\n1. Normal LV.")
    assert "Comparison with prior study" not in parsed.findings_text


def test_baseline_without_a_date_stays_the_resting_stage_of_a_stress_echo() -> None:
    parsed = parse_report("DOBUTAMINE STRESS ECHO\nBaseline: normal wall motion, LVEF 60%.\n"
                          "Peak stress: hyperdynamic.\n\nIMPRESSION:\n1. Negative.")
    assert [s.kind for s in parsed.sections if s.heading == "Baseline"] == ["stage"]
    assert ("lvef", "60 %") in [(r.field, r.raw) for r in parsed.readings]


@pytest.mark.parametrize("line", ["Previous 2025 study showed Vmax 3.1 m/s, MG 22 mmHg, AVA 1.25 cm2.",
                                  "TAVI 11/2025. Pre-TAVI LVEF 40%."])
def test_a_decimal_point_does_not_end_the_clause_about_an_earlier_study(line: str) -> None:
    assert _values(f"FINDINGS:\n{line}\nAVA 1.12 cm2. LVEF 52%.\n\nIMPRESSION: Fine.") == [
        ("ava", "1.12 cm2"), ("lvef", "52 %")]


TAVI = ("POST-TAVI ECHO\nDate: 27 Nov 2026\nProcedure: transfemoral TAVI, SAPIEN 3 26 mm.\n"
        "BSA 1.86 m2  HR 66\n\nAortic prosthesis: well seated, normal leaflet motion.\n"
        "  Vmax 2.1 m/s, mean gradient 9 mmHg\n  Paravalvular regurgitation: trace.\n"
        "LV: normal size, LVEF 58%.\n\nImpression:\n1. Normally functioning TAVI.\n")


def test_an_indented_block_under_a_label_line_is_findings_after_a_procedure_line() -> None:
    parsed = parse_report(TAVI)
    assert parsed.findings_text.startswith("Aortic prosthesis: well seated, normal leaflet motion.\n"
                                           "Vmax 2.1 m/s, mean gradient 9 mmHg\n"
                                           "Paravalvular regurgitation: trace.")
    assert ("av_mean_gradient", "9 mmHg") in [(r.field, r.raw) for r in parsed.readings]


def test_a_label_line_without_indented_lines_after_it_opens_no_block() -> None:
    # inside the procedure's paragraph (no blank line before it): the label line stays there
    parsed = parse_report(TAVI.replace("HR 66\n\n", "HR 66\n").replace("  Vmax", "Vmax")
                          .replace("  Paravalvular", "Paravalvular"))
    assert "Aortic prosthesis" not in parsed.findings_text


def test_an_indented_block_under_a_label_naming_an_earlier_study_is_no_findings_block() -> None:
    parsed = parse_report(TAVI.replace("HR 66\n\n", "HR 66\n").replace(
        "Aortic prosthesis: well seated, normal leaflet motion.", "Previous echo 2025:"))
    assert "Vmax 2.1" not in parsed.findings_text


def test_values_in_a_section_about_how_the_study_was_done_are_noted_as_unread() -> None:
    parsed = parse_report("TTE\nProcedure: standard views.\nIVC 23 mm, RAP 15 mmHg, sPAP 53 mmHg.\n\n"
                          "FINDINGS:\nLV normal, LVEF 60%.\n\nIMPRESSION:\n1. Normal LV.")
    assert parsed.unread == ["values under 'Procedure' were not read as findings: "
                             "\"IVC 23 mm, RAP 15 mmHg, sPAP 53 mmHg.\""]
    assert "RAP 15" not in parsed.findings_text


def test_a_procedure_without_values_of_the_heart_is_no_unread_part() -> None:
    parsed = parse_report("TTE\nProcedure: TAVI 10/2025 for severe AS (pre: Vmax 4.5 m/s, AVA 0.7 cm2).\n\n"
                          "FINDINGS:\nLV normal, LVEF 60%.\n\nIMPRESSION:\n1. Normal LV.")
    assert parsed.unread == []


def test_lines_under_no_heading_in_a_report_with_findings_are_noted_as_unread() -> None:
    parsed = parse_report("VALVE CLINIC\nTEER 05/2026: 2 x MitraClip for severe MR.\n\nFINDINGS:\n"
                          "Mitral valve: two clips, mild residual MR.\n\nIMPRESSION:\n1. Mild residual MR.")
    assert parsed.unread == ["lines under no heading were not read as findings: "
                             "\"TEER 05/2026: 2 x MitraClip for severe MR.\""]  # the title line is no part


def test_a_report_without_findings_heading_reads_its_unlabelled_text_and_notes_nothing() -> None:
    parsed = parse_report("Mild MR. Normal LV, LVEF 60%.\n\nIMPRESSION:\n1. Mild MR.")
    assert parsed.unread == [] and parsed.findings_text.startswith("Mild MR.")


def _fields(text: str) -> dict[str, str]:
    return {r.field: r.raw for r in parse_report(text).readings}


TODAY = "LV normal size (LVIDd 5.3 cm), biplane EF 61 %. No pericardial effusion.\n"
SUMMARY = "\nConclusions:\n1) No pericardial effusion.\n"


def test_a_one_line_comparison_ends_at_the_blank_line_and_the_findings_are_todays() -> None:
    text = ("Patient no. 0042-88156 / date 22 Nov 2026\nM 52. BSA 2.11 m2.\n"
            "Comparison: echo 14/03/2026 - moderate effusion 12 mm, LVIDd 5.9 cm.\n\n" + TODAY + SUMMARY)
    parsed = parse_report(text)
    assert _fields(text)["lvidd"] == "5.3 cm"  # today's, not the earlier study's 5.9
    assert "LVIDd 5.3 cm" in parsed.findings_text
    assert "Comparison with prior study: echo 14/03/2026" in parsed.findings_text
    compared = [s for s in parsed.sections if s.kind == "comparison"]
    assert [s.text for s in compared] == ["echo 14/03/2026 - moderate effusion 12 mm, LVIDd 5.9 cm."]


def test_lines_right_under_a_one_line_comparison_continue_it() -> None:
    text = ("MRN 448812  Date: 27 Nov 2026\nComparison: echo 14/03/2026 - LVEF 40 %,\n"
            "LVIDd 5.9 cm.\n\n" + TODAY + SUMMARY)
    assert _fields(text)["lvidd"] == "5.3 cm"
    compared = [s for s in parse_report(text).sections if s.kind == "comparison"]
    assert compared[0].text.endswith("LVIDd 5.9 cm.")


def test_a_comparison_line_ending_in_a_colon_keeps_the_list_after_the_blank_line() -> None:
    text = ("MRN 448812  Date: 27 Nov 2026\nComparison: echo of 14/03/2026:\n\n"
            "- LVIDd 5.9 cm\n- LVEF 40 %\n\nFINDINGS:\n" + TODAY + SUMMARY)
    assert _fields(text)["lvidd"] == "5.3 cm"
    compared = [s for s in parse_report(text).sections if s.kind == "comparison"]
    assert "LVIDd 5.9 cm" in compared[0].text
