"""Struck-out edits of a reviewed report: the reviewer's word and value are the report; the struck ones
are neither findings, nor values, nor impression, and are kept in a note."""

from __future__ import annotations

from echogpt.data.report_struck import drop_struck
from echogpt.data.report_text import parse_report
from echogpt.data.reports import build_study

REPORT = ("TTE\nMRN: 5521\n\n"
          "Findings: LV normal size. LVEF 57 %. ~~Mildly reduced~~ Normal systolic function [DR: normal].\n"
          "TR Vmax 2.9 m/s. RAP ~~8~~ 3 mmHg. RVSP ~~42~~ 37 mmHg.\n\n"
          "IMPRESSION:\n1. ~~Mildly reduced~~ Normal LV systolic function.\n"
          "2. RVSP 37 mmHg. ~~Refer to heart failure clinic~~ Routine follow-up.\n")


def test_the_struck_text_is_taken_out_and_named() -> None:
    text, notes = drop_struck("RVSP ~~42~~ 37 mmHg; repeat in a year ~~or sooner~~.")
    assert text == "RVSP 37 mmHg; repeat in a year."
    assert notes and "'42'" in notes[0] and "'or sooner'" in notes[0]
    assert drop_struck("no edit ~ here") == ("no edit ~ here", [])


def test_the_reviewers_value_is_stored_and_the_struck_word_is_no_finding() -> None:
    parsed = parse_report(REPORT)
    assert "Mildly reduced" not in parsed.findings_text and "~~" not in parsed.findings_text
    assert "Normal systolic function" in parsed.findings_text
    assert parsed.impression is not None and "Mildly reduced" not in parsed.impression
    assert "Refer to heart failure clinic" not in parsed.impression
    study, _ = build_study(parsed, "s1", {})
    assert study is not None and study.measurements is not None
    assert (study.measurements.rap, study.measurements.rvsp) == (3.0, 37.0)
    assert any("'Mildly reduced'" in note for note in parsed.superseded)
