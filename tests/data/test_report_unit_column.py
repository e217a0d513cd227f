"""A pipe table's 'Unit' column gives each value its unit ("| TAPSE | 24 | mm |" is 24 mm, not 24 cm),
also under a column header whose first cell, over the names, is left blank ("| | Value | Unit |")."""

from __future__ import annotations

import pytest

from echogpt.data.report_text import parse_report


def table(header: str) -> str:
    return ("Echo report, 14/10/2026\n\n"
            f"{header}\n"
            "|---|---|---|---|\n"
            "| TAPSE | 24 | mm | > 17 |\n"
            "| RV basal diameter | 38 | mm | < 42 |\n"
            "| E | 0.85 | m/s | |\n"
            "| Pericardial effusion | 6 | mm | |\n\n"
            "Right ventricle: normal size and function.\n\n"
            "IMPRESSION:\n1. Normal RV size and function.")


@pytest.mark.parametrize("header", ["| Parameter | Value | Unit | Reference |", "| | Value | Units | Ref |"])
def test_the_unit_column_gives_the_value_its_unit(header: str) -> None:
    parsed = parse_report(table(header))
    assert {r.field: r.raw for r in parsed.readings} == {
        "tapse": "24 mm", "rv_basal_diameter": "38 mm", "e_velocity": "0.85 m/s", "effusion_width": "6 mm"}
    assert "TAPSE: 24 mm (reference range > 17)" in parsed.findings_text.split("\n")
