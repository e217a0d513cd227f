"""A two-column key/value table whose rows include "| Date | 28/11/2026 |" is a table of fields, not
a serial table with one row per study ("| Date | LVEF | AV Vmax |"): it is read, not left unread."""

from __future__ import annotations

from echogpt.data.report_text import parse_report

FIELDS = ("| Field | Value |\n|---|---|\n| Sex / age | M / 66 |\n| Date | 03/11/2026 |\n"
          "| BSA | 1.90 m2 |\n\n"
          "## Measurements\n| Measurement | Value |\n|---|---|\n| AV Vmax | 2.6 m/s |\n| LVEF | 60 % |\n\n"
          "## Findings\nMild aortic stenosis. Normal LV size and function.\n\n"
          "## Impression\n- Mild aortic stenosis.")
SERIAL = ("## Findings\nMild aortic stenosis.\n\n| Date | AV Vmax | Mean gradient |\n|---|---|---|\n"
          "| 03/11/2025 | 2.4 m/s | 12 mmHg |\n| 03/11/2026 | 2.6 m/s | 15 mmHg |\n\n"
          "## Impression\n- Mild aortic stenosis.")


def test_a_date_field_row_is_no_serial_table() -> None:
    parsed = parse_report(FIELDS)
    assert not [u for u in parsed.unread if "serial table" in u]


def test_a_serial_table_is_still_left_unread() -> None:
    assert [u for u in parse_report(SERIAL).unread if "serial table" in u]
