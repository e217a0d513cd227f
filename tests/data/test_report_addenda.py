"""Addenda and corrections are findings of the study: never dropped, their corrected value is the one
stored, the superseded one is not read as current, and a re-issued impression is the impression."""

from __future__ import annotations

from echogpt.data.report_addenda import superseded_out
from echogpt.data.report_text import parse_report
from echogpt.data.reports import build_study

REPORT = ("TTE\nMRN: 4411\n\n"
          "Findings: LV normal, LVEF 62 %. Aortic root 4.3 cm. Central AR, mild.\n\n"
          "IMPRESSION:\n1. Mild AR.\n2. Normal LV function.\n\n"
          "Signed: Dr E. Lowther, 03/11/2026 11:40\n\n"
          "Addendum 14:20: the AR is moderate, not mild. Vena contracta 0.45 cm.\n"
          "Correction: aortic root 3.4 cm, not 4.3 cm as typed above.\n"
          "Revised impression:\n1. Moderate AR.\n2. Normal LV function.\n"
          "Dr E. Lowther, 03/11/2026 14:20\n")


def test_the_superseded_value_is_left_out_of_a_correction() -> None:
    assert superseded_out("LVEF 45 %, not 55 % as first reported (biplane).") == "LVEF 45 % (biplane)."
    assert superseded_out("the AR is moderate, not mild.") == "the AR is moderate."
    assert superseded_out("LAVI 43 mL/m2 (not 36)") == "LAVI 43 mL/m2"
    assert superseded_out("LVIDd was typed as 6.1 cm; the correct value is 5.1 cm.") == "LVIDd 5.1 cm."


def test_an_addendum_after_the_signature_is_findings_and_its_value_is_stored() -> None:
    parsed = parse_report(REPORT)
    assert "the AR is moderate." in parsed.findings_text
    assert "not mild" not in parsed.findings_text
    study, _ = build_study(parsed, "a1", {})
    assert study is not None and study.measurements is not None
    assert study.measurements.aortic_root == 3.4


def test_a_re_issued_impression_is_the_impression() -> None:
    parsed = parse_report(REPORT)
    assert parsed.impression == "1. Moderate AR.\n2. Normal LV function."
    assert any("Mild AR" in note for note in parsed.superseded)  # the first one, quoted, not lost
    assert not any("Mild AR" in note for note in parsed.unread)  # superseded, not unread: it excuses no claim


def test_an_addendum_before_the_title_is_findings() -> None:
    text = ("ADDENDUM (Dr S. Keller): LVIDd was typed as 6.1 cm below; the correct value is 5.1 cm.\n\n"
            "TTE REPORT\nFindings: LVIDd 6.1 cm, LVEF 58 %.\n\nConclusion:\nNormal LV size.\n")
    study, _ = build_study(parse_report(text), "a2", {})
    assert study is not None and study.measurements is not None
    assert study.measurements.lvidd == 5.1


def test_an_added_impression_joins_the_first() -> None:
    text = ("Findings: LVEF 35 %.\n\nImpression:\nReduced LV function.\n\nDr A. Bell, 01/12/2026\n\n"
            "Addendum: prior echo 06/2025 LVEF 60 %.\n"
            "Additional impression: New LV dysfunction since 06/2025.\n")
    parsed = parse_report(text)
    assert parsed.impression == "Reduced LV function.\nNew LV dysfunction since 06/2025."
