"""Tick-box layouts: a ticked option reads as stated, an unticked one is no finding, and a mark under a
"No" column is a negation, never the finding itself."""

from __future__ import annotations

from echogpt.data.report_text import parse_report
from echogpt.data.report_ticks import tick_lines

CHECKLIST = ("TTE TEMPLATE\n"
             "Indication: murmur.\n\n"
             "CHECKLIST                          Y    N\n"
             "LV dilated                              X\n"
             "Aortic stenosis                    X\n"
             "Pericardial effusion                    X\n\n"
             "Conclusion\n1. Aortic stenosis.")

YES_NO_VALUE = ("                           Yes   No   Value\n"
                "RV dilated                  ✔          basal 48 mm\n"
                "LV dilated                        ✔    LVIDd 4.2 cm\n")


def test_unticked_options_are_no_finding_and_ticked_ones_read_as_stated() -> None:
    assert tick_lines("Size: [x] Normal  [ ] Mildly dilated  [ ] Severely dilated") == "Size: Normal"
    assert tick_lines("☐ Reduced systolic function   ☑ Normal systolic function") == \
        "Normal systolic function"
    assert tick_lines("Geometry: ( ) Normal  (•) Concentric remodelling") == \
        "Geometry: Concentric remodelling"
    assert tick_lines("AR: [ ] None [ ] Mild [x] Moderate [ ] Severe") == "AR: Moderate"


def test_a_line_of_unticked_boxes_only_is_dropped() -> None:
    assert tick_lines("[X] LV size normal\n[ ] LV thrombus\n[ ] Pericardial effusion") == "LV size normal"


def test_text_after_an_unticked_option_is_kept() -> None:
    assert tick_lines("Left atrium: [x] Normal  [ ] Dilated      LAVI 26 mL/m2") == \
        "Left atrium: Normal  LAVI 26 mL/m2"


def test_a_ticked_no_is_a_negation() -> None:
    assert tick_lines("  RA collapse ........ [ ] Yes [x] No") == "  RA collapse: absent"
    assert tick_lines("LV thrombus: [ ] Present  [x] Absent") == "LV thrombus: absent"


def test_a_mark_under_the_no_column_is_a_negation() -> None:
    lines = tick_lines(CHECKLIST).split("\n")
    assert "LV dilated: absent" in lines
    assert "Aortic stenosis: present" in lines
    assert "Pericardial effusion: absent" in lines
    assert "CHECKLIST" in lines


def test_yes_no_value_columns_keep_the_value() -> None:
    lines = tick_lines(YES_NO_VALUE).split("\n")
    assert lines[0] == "RV dilated: present; basal 48 mm"
    assert lines[1] == "LV dilated: absent; LVIDd 4.2 cm"


def test_the_findings_never_state_an_unticked_or_no_column_finding() -> None:
    parsed = parse_report(CHECKLIST + "\n\nLV: [ ] Dilated [x] Normal\n[ ] LV thrombus")
    assert "LV dilated: absent" in parsed.findings_text
    assert "thrombus" not in parsed.findings_text
    assert "Dilated" not in parsed.findings_text.replace("LV dilated: absent", "")
