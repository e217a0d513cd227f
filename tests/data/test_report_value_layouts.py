"""Layouts of names and values: paired names with paired values ("EDV / ESV 100 / 42 mL") store each
value under its own name, in order, while slashes that pair no names (a blood pressure, a date, a
ratio) are left as they are; a dotted leader ("AV Vmax ....... 2.8 m/s") links a name to its value."""

from __future__ import annotations

import pytest

from echogpt.data.report_text import parse_report


def _values(findings: str) -> list[tuple[str, str]]:
    parsed = parse_report(f"FINDINGS:\n{findings}\n\nIMPRESSION:\n1. Normal LV.")
    return [(r.field, r.raw) for r in parsed.readings]


@pytest.mark.parametrize("line", ["EDV / ESV       100 / 42 mL", "LV EDV / ESV (Biplane): 100 / 42 mL",
                                  "EDV/ESV 100/42 mL"])
def test_paired_names_with_paired_values_store_both_in_order(line: str) -> None:
    assert _values(line) == [("lvedv", "100 mL"), ("lvesv", "42 mL")]


@pytest.mark.parametrize("line, expected", [("E/A 0.8. BP 132/76 mmHg.", [("e_a_ratio", "0.8")]),
                                            ("Date/Time 12/01/2026. LVEF 60 %.", [("lvef", "60 %")])])
def test_a_slash_that_pairs_no_names_and_values_is_left_alone(line: str, expected: list) -> None:
    assert _values(line) == expected


def test_a_dotted_leader_links_a_name_to_its_value() -> None:
    assert _values("Aortic valve: bicuspid.\n  AV Vmax ................ 2.8 m/s\n"
                   "  Mean gradient .......... 17 mmHg\n  Sinuses ................ 39 mm") == [
        ("av_vmax", "2.8 m/s"), ("av_mean_gradient", "17 mmHg"), ("aortic_root", "39 mm")]
