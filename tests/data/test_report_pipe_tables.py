"""Pipe tables of names and values ("| LVEF | 59 % | 52-72 % |", with or without a "|---|" row) are
read as measurements: each row a "Name: value" finding line, the column names and the separator row
no finding, a normal-range column never the value."""

from __future__ import annotations

from echogpt.data.report_columns import pipe_table
from echogpt.data.report_text import parse_report

TABLE = ("Valve clinic echo, 14/10/2026\n\n"
         "| Measurement | Value | Normal range |\n"
         "|:------------|------:|--------------|\n"
         "| LVIDd | 5.1 cm | 4.2-5.8 cm |\n"
         "| LVEF | 59 % | 52-72 % |\n"
         "| AV peak velocity | 3.2 m/s | < 2.5 m/s |\n"
         "| TAPSE | 2.2 cm | > 1.7 cm |\n\n"
         "Aortic valve: calcified, mildly restricted.\n\n"
         "IMPRESSION:\n1. Mild aortic stenosis.")


def test_a_pipe_table_with_a_separator_row_is_read_as_measurements() -> None:
    parsed = parse_report(TABLE)
    assert {r.field: r.raw for r in parsed.readings} == {"lvidd": "5.1 cm", "lvef": "59 %",
                                                          "av_vmax": "3.2 m/s", "tapse": "2.2 cm"}
    assert parsed.unread == []  # the table is no longer quoted as lines under no heading


def test_each_row_is_a_finding_line_and_the_column_names_are_none() -> None:
    lines = parse_report(TABLE).findings_text.split("\n")
    assert lines[:4] == ["LVIDd: 5.1 cm (reference range 4.2-5.8 cm)", "LVEF: 59 % (reference range 52-72 %)",
                         "AV peak velocity: 3.2 m/s (reference range < 2.5 m/s)",
                         "TAPSE: 2.2 cm (reference range > 1.7 cm)"]
    assert not any("Measurement" in line or "---" in line for line in lines)


def test_the_value_column_is_the_one_named_value_not_the_normal_range() -> None:
    table = pipe_table([(1, "| Parameter | Normal | Result |"), (2, "|---|---|---|"),
                        (3, "| RVSP | < 35 mmHg | 41 mmHg |"), (4, "| LAVi | < 34 mL/m2 | 30 mL/m2 |")])
    assert table is not None and table.taken == {1, 2, 3, 4}
    assert table.current == [(3, "RVSP: 41 mmHg (reference range < 35 mmHg)"),
                             (4, "LAVi: 30 mL/m2 (reference range < 34 mL/m2)")]


def test_a_table_without_a_separator_row_and_paired_names() -> None:
    table = pipe_table([(1, "| Parameter | Value |"), (2, "| IVSd / LVPWd | 1.2 / 1.1 cm |"),
                        (3, "| TR Vmax | 2.6 m/s |")])
    assert table is not None
    assert [text for _, text in table.current] == ["IVSd: 1.2; LVPWd: 1.1 cm", "TR Vmax: 2.6 m/s"]


def test_rows_of_name_value_cells_are_another_layout() -> None:
    assert pipe_table([(1, "LVIDd 4.6 cm | IVSd 0.9 cm | LVPWd 0.9 cm"), (2, "EF 60% | GLS -20%")]) is None
