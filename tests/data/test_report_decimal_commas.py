"""Decimal commas: "1,95 m2" is 1.95 where the report writes decimals with commas, never its integer
part; lists and thousands are no decimals; a comma that cannot be read without guessing is left unread
with a note."""

from __future__ import annotations

from echogpt.data.report_numbers import decimal_points, uses_decimal_commas
from echogpt.data.report_text import parse_report
from echogpt.data.reports import build_study

COMMAS = ("ECOCARDIOGRAMA\nPatient: male, 70 years, BSA 1,95 m2.\n\n"
          "Findings: LVEDD 48 mm, EF 58 %. Vmax 2,4 m/s over the aortic valve. E/A 0,7. RWT 0,50.\n\n"
          "CONCLUSION:\n1. Normal LV function.\n")


def test_a_decimal_comma_with_a_unit_is_a_decimal_point() -> None:
    assert uses_decimal_commas("SC 1,92 m2")
    assert decimal_points("SC 1,92 m2. E/A 0,7.")[0] == "SC 1.92 m2. E/A 0.7."


def test_lists_and_thousands_are_not_decimals() -> None:
    text, _ = decimal_points("BSA 1,95 m2. VTI LVOT 18,20,21 cm. LVEDV 1,250 mL. Beats 18, 20, 21.")
    assert "18,20,21" in text and "1,250" in text and "18, 20, 21" in text and "1.95" in text


def test_a_decimal_comma_bsa_and_velocity_are_stored_whole() -> None:
    study, _ = build_study(parse_report(COMMAS), "c1", {})
    assert study is not None and study.patient is not None and study.measurements is not None
    assert study.patient.bsa_m2 == 1.95
    assert study.measurements.e_a_ratio == 0.7


def test_a_lone_comma_in_a_report_with_points_is_not_truncated_but_noted() -> None:
    report = ("TTE\nPatient: male, 70 years, BSA 1,95\n\nFindings: LVIDd 4.8 cm, LVEF 58 %.\n\n"
              "CONCLUSION:\n1. Normal LV function.\n")
    parsed = parse_report(report)
    study, _ = build_study(parsed, "c2", {})
    assert study is not None
    assert study.patient is None or study.patient.bsa_m2 is None
    assert any("1,95" in note for note in parsed.unread)
