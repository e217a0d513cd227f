"""Comparison tables: this study's column is read as its values, the other columns as the prior."""

from __future__ import annotations

import pytest

from echogpt.data.report_columns import dates_of, split_columns
from echogpt.data.report_text import parse_report

ALIGNED = ["                        11-20-2026      11-14-2025",
           "IVSd                    1.8 cm          1.7 cm",
           "LVEF (biplane)          48 %            50 %",
           "TR Vmax / RVSP          3.0 m/s / 44    2.8 m/s / 39 mmHg"]
PIPED = ["Parameter         | 12/01/2026 | 06/02/2026", "LVEF              | 25%        | 35%",
         "TAPSE             | 1.5 cm     | 1.9 cm"]


def rows(lines: list[str]) -> list[tuple[int, str]]:
    return list(enumerate(lines, start=1))


def test_aligned_columns_the_later_date_is_this_study() -> None:
    split = split_columns(rows(ALIGNED), None)
    assert split is not None
    assert [t for _, t in split.current] == ["IVSd 1.8 cm", "LVEF (biplane) 48 %", "TR Vmax 3.0 m/s",
                                             "RVSP 44"]
    assert split.earlier == "11-14-2025: IVSd 1.7 cm; LVEF (biplane) 50 %; TR Vmax 2.8 m/s; RVSP 39 mmHg"


def test_dates_that_read_either_way_are_told_apart_by_the_study_date() -> None:
    split = split_columns(rows(PIPED), "December 1, 2026")
    assert split is not None and [t for _, t in split.current] == ["LVEF 25%", "TAPSE 1.5 cm"]
    assert split_columns(rows(PIPED), "2026-02-06") is not None  # day-first: the second column
    assert [t for _, t in split_columns(rows(PIPED), "2026-02-06").current] == ["LVEF 35%", "TAPSE 1.9 cm"]


def test_columns_that_cannot_be_told_apart_are_left_as_written() -> None:
    split = split_columns(rows(PIPED), None)
    assert split is not None and split.unread and not split.current and not split.taken
    assert split_columns(rows(["LVEF 25%.", "TAPSE 1.5 cm."]), None) is None


@pytest.mark.parametrize(("header", "value"), [("today | prior", "25%"), ("Baseline | Current", "35%")])
def test_worded_column_labels(header: str, value: str) -> None:
    split = split_columns(rows([f"Measure | {header}", "LVEF | 25% | 35%"]), None)
    assert split is not None and split.current == [(2, f"LVEF {value}")]


def test_dates_of_a_label() -> None:
    assert len(dates_of("06/02/2026")) == 2 and len(dates_of("2026-11-20")) == 1 and not dates_of("LVEF")


def test_a_report_with_a_comparison_table_stores_this_study_s_values_only() -> None:
    text = ("Date of study: December 1, 2026\nDx: DCM (LVEF 35% since 2023).\n\nComparison table:\n"
            + "\n".join(PIPED) + "\nNo LV thrombus.\n\nImpression:\n- LVEF 25%, from 35%.")
    parsed = parse_report(text)
    assert [(r.field, r.raw) for r in parsed.readings] == [("lvef", "25 %"), ("tapse", "1.5 cm")]
    assert "Comparison with prior study: 06/02/2026: LVEF 35%; TAPSE 1.9 cm" in parsed.findings_text
    assert "No LV thrombus." in parsed.findings_text


def test_a_previous_echo_heading_with_a_date_ends_on_its_line() -> None:
    text = ("Previous echo: 11-14-2025\n\n" + "\n".join(ALIGNED) + "\n\nQualitative: mild MR.\n\n"
            "IMPRESSION:\nMild MR.")
    parsed = parse_report(text)
    assert "Qualitative: mild MR." in parsed.findings_text
    assert not any(s.kind == "comparison" and "mild MR" in s.text for s in parsed.sections)


def test_a_value_in_brackets_after_was_is_the_prior_s() -> None:
    parsed = parse_report("FINDINGS:\nTR Vmax 2.5 m/s, RAP 3 mmHg, RVSP 28 mmHg  "
                          "(was 3.1 m/s, RAP 8, RVSP 46 mmHg)\n\nIMPRESSION: RVSP 28 mmHg.")
    assert [(r.field, r.raw) for r in parsed.readings] == [("tr_vmax", "2.5 m/s"), ("rap", "3 mmHg"),
                                                          ("rvsp", "28 mmHg")]


def test_a_table_whose_columns_cannot_be_told_apart_is_noted_as_unread() -> None:
    parsed = parse_report("FINDINGS:\n" + "\n".join(PIPED) + "\n\nIMPRESSION:\nLVEF 25%.")
    assert parsed.unread and "could not be told apart" in parsed.unread[0]
    serial = parse_report("FINDINGS:\n| date | LVIDd |\n| 05/20/2026 | 6.2 cm |\n| 11/17/2026 | 5.9 cm |\n\n"
                          "IMPRESSION:\nLV decompressed.")
    assert serial.unread and "one row per study" in serial.unread[0]


def test_a_one_line_symptoms_heading_ends_at_the_blank_line_and_today_marks_the_column() -> None:
    text = ("Symptoms: progressive exertional dyspnoea.\n\nMeasurements (today)            2024 (same lab)\n"
            "AV prosthesis Vmax  4.1 m/s     2.7 m/s\nLVEF (biplane)      56 %        60 %\n\n"
            "Prosthetic aortic valve: thickened cusps.\n\nQuestion: rule out obstruction.\n\n"
            "Impression:\nSVD.")
    parsed = parse_report(text)
    assert [(r.field, r.raw) for r in parsed.readings] == [("av_vmax", "4.1 m/s"), ("lvef", "56 %")]
    assert "Prosthetic aortic valve: thickened cusps." in parsed.findings_text
    assert "2024 (same lab): AV prosthesis Vmax 2.7 m/s; LVEF (biplane) 60 %" in parsed.findings_text
    assert parsed.indication == "rule out obstruction. Symptoms: progressive exertional dyspnoea."
