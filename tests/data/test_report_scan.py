"""Text extracted from scanned and faxed reports: page headers and footers dropped mid-report and
named, lines broken at a fixed width rejoined, only where the text shows those shapes."""

from __future__ import annotations

from echogpt.data.report_scan import KEPT_PLACE, drop_page_furniture, rejoin_wrapped, scanned_text
from echogpt.data.report_text import parse_report

SCAN = """NORTH SHORE HOSPITAL   |   CARDIOLOGY   |   CONFIDENTIAL
Patient ID: NS-1002      Date: 03/11/2026
Height 170 cm  Weight 70 kg  BSA 1.81 m2
Indication: breathlessness on exertion, ECG with lateral T wave chan-
ges.

Left ventricle: normal cavity size and wall thickness. Reduced global sys-
tolic function with inferior hypokinesis and a thinned basal inferior
wall. EF 41 % by biplane Simpson.  No thrombus.
IVC normal calibre with normal respiratory collapse, RAP 3 mmHg. RVSP
24 mmHg.

NORTH SHORE HOSPITAL  -  Cardiology                      Page 1 of 2
CONFIDENTIAL - contains patient identifiable information

Conclusion:
1. Mildly reduced LV systolic function, biplane EF 41 %, with inferior hypo-
kinesis and a thinned basal inferior wall.
2. Normal RV size and function; estimated RVSP 24 mmHg.
___  Dr P. Lindqvist
                                                          Page 2 of 2
"""


def test_page_footers_mid_report_are_dropped_and_named() -> None:
    text, dropped = scanned_text(SCAN)
    assert "Page 1 of 2" not in text and "contains patient identifiable" not in text
    assert dropped[:2] == ["NORTH SHORE HOSPITAL  -  Cardiology  Page 1 of 2",
                           "CONFIDENTIAL - contains patient identifiable information"]
    assert text.startswith("NORTH SHORE HOSPITAL")  # the letterhead at the top stays


def test_a_page_number_beside_text_goes_alone() -> None:
    kept, dropped = drop_page_furniture(["A", "B", "C", "Dr K. Osei, Consultant Cardiologist    Page 2 of 2"])
    assert kept[-1] == "Dr K. Osei, Consultant Cardiologist" and dropped == ["Page 2 of 2"]


def test_wrapped_lines_and_hyphenated_words_are_rejoined_keeping_line_numbers() -> None:
    text, _ = scanned_text(SCAN)
    assert len(text.split("\n")) == len(SCAN.split("\n"))  # a joined line leaves a rule in its place
    text = "\n".join(line for line in text.split("\n") if line != KEPT_PLACE)
    assert "1. Mildly reduced LV systolic function, biplane EF 41 %, with inferior hypokinesis and a " \
           "thinned basal inferior wall.\n2. Normal RV" in text
    assert "T wave changes." in text and "RAP 3 mmHg. RVSP 24 mmHg." in text


def test_a_hyphen_stays_where_its_first_part_is_a_word_of_the_report() -> None:
    lines = ["Aortic valve: thickened and echo-", "bright cusps. The echo windows were poor.",
             "Left ventricle: normal size, sys-", "tolic function normal. Normal dia-", "stolic function.",
             "Right ventricle: normal."]
    assert [line for line in rejoin_wrapped(lines) if line != KEPT_PLACE] == [
        "Aortic valve: thickened and echo-bright cusps. The echo windows were poor.",
        "Left ventricle: normal size, systolic function normal. Normal diastolic function.",
        "Right ventricle: normal."]


def test_text_without_the_shape_of_a_fixed_width_is_left_alone() -> None:
    text = "Findings:\nLV normal, EF 60 %. RVSP\n24 mmHg.\n\nImpression:\n1. Normal LV\n2. Mild MR\n"
    assert scanned_text(text) == (text, [])


def test_a_report_written_in_lower_case_is_not_rejoined() -> None:
    lines = ["lv: ivsd 1.2 lvidd 4.4 lvpwd 1.2 cm. ef 65 % (biplane). no rwma",
             "mitral: e 0.48 m/s a 0.72 m/s, lat e' 7 cm/s, e/e' 8. lavi 32 ml/m2",
             "av: trileaflet, mild sclerosis, vmax 1.8 m/s. mild central ar",
             "rv normal, tapse 20. tr trace, vmax 2.4 m/s, ivc 1.4 cm collapses"]
    assert rejoin_wrapped(lines) == lines


def test_the_scanned_impression_is_its_sentences_without_signature_or_footer() -> None:
    parsed = parse_report(SCAN)
    assert parsed.impression == ("1. Mildly reduced LV systolic function, biplane EF 41 %, with inferior "
                                 "hypokinesis and a thinned basal inferior wall.\n2. Normal RV size and "
                                 "function; estimated RVSP 24 mmHg.")
    assert parsed.furniture[-1] == "Page 2 of 2"
    assert {r.field for r in parsed.readings} >= {"lvef", "rvsp"}
