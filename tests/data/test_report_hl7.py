"""HL7 v2 result messages (ORU^R01) pasted as report text: the narrative OBX rows read as the report
under their sections' headings, numeric rows as measurements, PID/OBR as the header; a malformed or
hostile message imported as written with a one-line warning, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from echogpt.data.report_hl7 import is_message, message_report, message_table
from echogpt.data.report_sections import heading_kind
from echogpt.data.report_text import parse_report
from echogpt.data.reports import read_reports

MSH = "MSH|^~\\&|ECHOSYS|CARDIOLOGY|EHR|HOSP|202611201130||ORU^R01^ORU_R01|MSG0001|P|2.5.1"
PID = "PID|1||4471823^^^HOSP^MR~NHS555^^^NHS^NH||DOE^JANE||19580314|F"
# OBR-4 the service, OBR-7 the observation date-time, OBR-31 the reason, OBR-32 the interpreter
OBR = ("OBR|1|ORD55|ECH889|93306^Transthoracic echocardiogram^CPT|||202611201030" + "|" * 23
       + "|Dyspnoea on exertion^^^^^|12&Smith&Ann&&&Dr&MD")

# the report's text in TX rows, its headings written as lines of it
TX_LINES = "\n".join([MSH, PID, OBR,
                      "OBX|1|TX|&GDT||TRANSTHORACIC ECHOCARDIOGRAM||||||F",
                      "OBX|2|TX|&GDT||FINDINGS:||||||F",
                      "OBX|3|TX|&GDT||The left ventricle is normal in size. LVEF 58 %.||||||F",
                      "OBX|4|TX|&GDT||Mild mitral regurgitation.||||||F",
                      "NTE|1||Images of fair quality.",
                      "OBX|5|TX|&GDT||||||||F",
                      "OBX|6|TX|&GDT||IMPRESSION:||||||F",
                      "OBX|7|TX|&GDT||1. Normal LV size and systolic function.||||||F",
                      "OBX|8|TX|&GDT||2. Mild mitral regurgitation.||||||F",
                      "NTE|1||Electronically signed by Dr Ann Smith 20/11/2026 11:29"])

# findings and impression each in an OBX coded by its LOINC heading, lines as ~ repetitions, CRLF
CODED = "\r\n".join([MSH, "PID|1||A-99812^^^H^MR||ROE^RICHARD||19700505|M",
                     "OBR|1||X1|ECHO^Echocardiogram|||20261121093000",
                     "NTE|1||Electronically signed by Dr B. Khan",  # signed before the rows it signs
                     "OBX|1|TX|59776-5^Procedure findings^LN||Normal LV size.~LVEF 60 %.||||||F",
                     "OBX|2|TX|19005-8^Impression^LN||Normal study.~No pericardial effusion.||||||F",
                     ""])

# the whole report in one OBX, its lines broken by \.br\ and its delimiters escaped
ONE_ROW = "\n".join([MSH, PID, "OBR|1||X2|ECHO^TTE|||20261122",
                     "OBX|1|FT|REPORT^Echo report||FINDINGS:\\.br\\LV normal\\F\\RV normal. "
                     "E\\T\\A ratio 0.8 \\X41\\\\S\\1. Trace TR \\E\\ no PE.\\.br\\"
                     "\\.sp\\IMPRESSION:\\.br\\1. Normal study."
                     "||||||F"])

NUMBERS = "\n".join([MSH, PID, OBR,
                     "OBX|1|NM|18043-0^LV ejection fraction^LN||58|%^percent^UCUM|52-72|N|||F",
                     "OBX|2|NM|TAPSE^TAPSE||21|mm|17-30||||F",
                     "OBX|3|SN|RVSP^RVSP||^32|mm[Hg]^mmHg^UCUM|||||F",
                     "OBX|4|TX|&GDT||Normal biventricular function.||||||F",
                     "OBX|5|TX|&IMP||Normal study.||||||F"])


def test_only_a_message_is_read_as_one() -> None:
    assert is_message(TX_LINES) and is_message("\ufeff" + CODED)
    assert not is_message("Findings:\nMSH|^~\\&| in a line\nImpression:\nNormal.")
    assert message_report("Findings:\nLV normal.") is None


def test_text_rows_with_heading_lines_keep_their_sections_and_header() -> None:
    parsed = parse_report(TX_LINES)
    assert parsed.impression == "1. Normal LV size and systolic function.\n2. Mild mitral regurgitation."
    assert "The left ventricle is normal in size. LVEF 58 %." in parsed.findings_text
    assert "Images of fair quality." in parsed.findings_text  # an NTE comment where it stands
    assert "TRANSTHORACIC" not in parsed.findings_text and "signed" not in parsed.findings_text
    assert parsed.header["patient_id"] == "4471823"
    assert parsed.header["study_date"] == "2026-11-20"
    assert parsed.header["patient.sex"] == "F" and parsed.header["patient.age"] == "68"
    assert parsed.indication == "Dyspnoea on exertion"
    text = message_report(TX_LINES).text
    assert text.rstrip().endswith("Interpreted by: Dr Ann Smith, MD")  # the signature after the impression


def test_sections_in_their_own_coded_rows_get_their_headings() -> None:
    report = message_report(CODED)
    assert "FINDINGS:\nNormal LV size.\nLVEF 60 %.\n\nIMPRESSION:\nNormal study." in report.text
    assert report.text.endswith("No pericardial effusion.\n\nElectronically signed by Dr B. Khan\n")
    parsed = parse_report(CODED)
    assert parsed.impression == "Normal study.\nNo pericardial effusion."
    assert parsed.findings_text == "Normal LV size.\nLVEF 60 %."
    assert parsed.header["patient_id"] == "A-99812" and parsed.header["study_date"] == "2026-11-21"


@pytest.mark.parametrize("entry", message_table().sections, ids=lambda e: e.kind)
def test_each_heading_written_is_read_as_its_section(entry) -> None:
    if entry.kind == "addendum":  # after the impression: findings of this study, no impression
        parsed = parse_report(f"Findings:\nLV normal.\n\nImpression:\nNormal.\n\n{entry.heading}\nLVEF 50 %.")
        assert parsed.impression == "Normal." and "LVEF 50 %." in parsed.findings_text
    else:
        assert heading_kind(entry.heading)[0] == entry.kind


@pytest.mark.parametrize("identifier,heading", [
    ("&IMP", "IMPRESSION:"), ("IMP^Impression^L", "IMPRESSION:"), ("^ECHO CONCLUSION", "IMPRESSION:"),
    ("55110-1^Conclusions^LN", "IMPRESSION:"), ("&GDT", "FINDINGS:"), ("18782-3^Study observation^LN",
                                                                      "FINDINGS:"),
    ("18785-6^Reason for study^LN", "INDICATION:")])
def test_an_identifier_that_names_a_section_opens_it(identifier: str, heading: str) -> None:
    message = "\n".join([MSH, f"OBX|1|TX|{identifier}||Some text.||||||F"])
    assert message_report(message).text == f"{heading}\nSome text.\n"


def test_the_service_ordered_names_the_study_type_and_untyped_rows_are_text() -> None:
    message = "\n".join([MSH, "PID|1||77||X^Y||19600101|Male",
                         "OBR|1||X3|93312^Transesophageal echocardiogram",
                         "OBX|1||&GDT||No thrombus in the left atrial appendage.",
                         "OBX|2|TX|&IMP||No LAA thrombus."])
    parsed = parse_report(message, title="msg_01.txt")
    assert parsed.study_type == "TEE" and parsed.header["patient.sex"] == "M"
    assert parsed.findings_text == "No thrombus in the left atrial appendage."


def test_escapes_are_read_and_line_breaks_kept() -> None:
    text = message_report(ONE_ROW).text
    assert "FINDINGS:\nLV normal|RV normal. E&A ratio 0.8 A^1. Trace TR \\ no PE.\n\nIMPRESSION:\n" in text
    parsed = parse_report(ONE_ROW)
    assert parsed.impression == "1. Normal study."
    assert "\\" not in message_report("\n".join([MSH, "OBX|1|TX|X||a\\.br\\b||||||F"])).text
    # a backslash that starts no escape is text ("E\A"), not a sequence eaten up to the next one
    literal = message_report("\n".join([MSH, "OBX|1|TX|X||E\\A 0.8, LVEF 55 \\%"])).text
    assert "E\\A 0.8, LVEF 55 \\%" in literal


def test_numeric_rows_become_measurements() -> None:
    report = message_report(NUMBERS)
    assert "Measurements:\nLV ejection fraction 58 %\nTAPSE 21 mm\nRVSP 32 mmHg\n" in report.text
    readings = {r.field: r.raw for r in parse_report(NUMBERS).readings}
    assert readings["lvef"] == "58 %" and readings["tapse"] == "21 mm" and readings["rvsp"] == "32 mmHg"
    assert parse_report(NUMBERS).impression == "Normal study."


@pytest.mark.parametrize("text,why", [
    ("\n".join([MSH, PID, OBR]), "no OBX"),
    ("\n".join([MSH, PID, "this line was wrapped by the mail program", "OBX|1|TX|&IMP||Normal.||||||F"]),
     "segment 3"),
    ("MSH|", "MSH"), ("MSH|^~\\&", "OBX"), ("MSH|^~\\&|\nOBX|1|NM|x||||||", "no text")])
def test_a_malformed_message_is_imported_as_written_with_a_warning(text: str, why: str) -> None:
    report = message_report(text)
    assert report.text == text and len(report.warnings) == 1
    assert report.warnings[0].startswith("HL7 message not read") and "\n" not in report.warnings[0]
    assert why in report.warnings[0] or why == "MSH"
    assert parse_report(text).format_notes == report.warnings


def test_a_hostile_message_loses_nothing_and_raises_nothing() -> None:
    rows = [f"OBX|{i}|TX|&GDT||Finding number {i}.||||||F" for i in range(1, 20001)]
    report = message_report("\n".join([MSH, PID, OBR, *rows]))
    assert report.text.count("Finding number") == 20000 and "Finding number 20000." in report.text
    binary = "\n".join([MSH, "OBX|1|TX|&GDT||\x01\x02\x7f\xff\ufffd\\X00\\\\X\\\\Zfoo\\||||||F",
                        "OBX|2|ED|PDF^Report||^AP^PDF^Base64^JVBERi0xLjQK||||||F", "OBX|3|TX|^^^^^^"])
    report = message_report(binary)
    assert "\x00" not in report.text and "\x01" not in report.text and "\\Zfoo\\" in report.text
    assert any("ED data" in w for w in report.warnings)
    parse_report(binary)


def test_a_row_the_sender_marked_wrong_or_deleted_is_not_read() -> None:
    text = "\n".join([MSH, PID, OBR,
                      "OBX|1|TX|&GDT||Moderate aortic stenosis.||||||W",
                      "OBX|2|TX|&GDT||Mild aortic stenosis.||||||C",
                      "OBX|3|TX|&GDT||Small pericardial effusion.||||||D",
                      "OBX|4|TX|&IMP||Mild aortic stenosis.||||||F"])
    report = message_report(text)
    assert "Moderate" not in report.text and "effusion" not in report.text
    assert report.text.count("Mild aortic stenosis.") == 2
    assert [w.split(" (")[0] for w in report.warnings] == ["OBX 1", "OBX 3"]
    assert "marked wrong (OBX-11 W)" in report.warnings[0] and "deleted" in report.warnings[1]


def _version(status: str, impression: str, order: str = "ECH889") -> list[str]:
    obr = OBR.replace("ECH889", order).split("|")
    obr[25] = status
    return [MSH, PID, "|".join(obr), f"OBX|1|TX|&GDT||LVEF 35 %.||||||{status}",
            f"OBX|2|TX|&IMP||{impression}||||||{status}"]


def test_of_several_versions_of_one_report_the_final_one_is_read() -> None:
    text = "\n".join([*_version("P", "Preliminary: reduced LV function."),
                      *_version("F", "Moderately reduced LV function."),
                      *_version("P", "An addendum still in draft.")])
    report = message_report(text)
    assert "Moderately reduced LV function." in report.text
    assert "Preliminary" not in report.text and "addendum" not in report.text
    assert report.warnings == ["the file holds 3 HL7 messages of order ECH889: message 2 (result "
                               "status F) is read, the other versions are left out"]
    assert parse_report(text).impression == "Moderately reduced LV function."


def test_messages_of_different_orders_are_all_read() -> None:
    text = "\n".join([*_version("F", "First study."), *_version("F", "Second study.", order="ECH890")])
    report = message_report(text)
    assert "First study." in report.text and "Second study." in report.text
    assert "different orders" in report.warnings[0]


def test_a_folder_of_messages_imports_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "echo_a.txt").write_text(TX_LINES, encoding="utf-8")
    (tmp_path / "echo_b.txt").write_bytes(CODED.encode("utf-8"))
    (tmp_path / "echo_c.txt").write_text("\n".join([MSH, PID, OBR]), encoding="utf-8")
    result = read_reports(tmp_path)
    studies = {s.study_id: s for s in result.studies}
    a, b = studies["echo_a"], studies["echo_b"]
    assert a.patient_id == "4471823" and str(a.study_date) == "2026-11-20"
    assert a.impression == "1. Normal LV size and systolic function.\n2. Mild mitral regurgitation."
    assert a.indication == "Dyspnoea on exertion" and a.patient.sex.value == "female"
    assert a.patient.age == 68 and a.measurements.lvef.low == 58
    assert b.patient_id == "A-99812" and b.impression == "Normal study.\nNo pericardial effusion."
    notes = [i for i in result.issues if i.type == "hl7"]
    assert [(i.study_id, i.severity) for i in notes] == [("echo_c", "warning")]
    assert "no OBX" in notes[0].message
