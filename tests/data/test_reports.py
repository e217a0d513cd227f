"""Free-text report import: sections, study type, measurement tables, broken files, tables of reports, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from echogpt.cli import app
from echogpt.data.report_text import heading_kind, parse_report, split_sections
from echogpt.data.reports import FileError, import_reports, read_reports
from echogpt.text import split_statements

REPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "reports"
STYLES = sorted(p.name for p in REPORTS.iterdir() if (p / "expected.jsonl").exists())


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- headings and sections


@pytest.mark.parametrize(("line", "kind", "rest"), [
    ("FINDINGS", "findings", ""),
    ("FINDINGS:", "findings", ""),
    ("Findings:", "findings", ""),
    ("FINDINGS: Normal LV size.", "findings", "Normal LV size."),
    ("Reason for exam: chest pain", "indication", "chest pain"),
    ("REASON FOR EXAMINATION", "indication", ""),
    ("Clinical history: hypertension", "history", "hypertension"),
    ("Sedation: midazolam 2 mg", "sedation", "midazolam 2 mg"),
    ("CONCLUSIONS", "impression", ""),
    ("Conclusion:", "impression", ""),
    ("Final impression: Normal study.", "impression", "Normal study."),
    ("Interpretation summary:", "impression", ""),
    ("Summary", "impression", ""),
    ("RECOMMENDATIONS:", "recommendations", ""),
    ("Measurements", "measurements", ""),
    ("M-MODE", "measurements", ""),
    ("2D/M-MODE", "measurements", ""),
    ("Findings (post-bypass):", "findings", ""),
    ("PEAK (20 mcg/kg/min):", "stage", ""),
    ("Mitral valve: mild MR.", "anatomy", "mild MR."),
    ("MITRAL VALVE", "anatomy", ""),
    ("1. Impression:", "impression", ""),
    ("IMP:", "impression", ""),
])
def test_heading_forms(line: str, kind: str, rest: str) -> None:
    found = heading_kind(line)
    assert found is not None and found[0] == kind and found[2] == rest


@pytest.mark.parametrize("line", [
    "Normal LV size and function.", "The impression is of a normal study.", "LV normal in size",
    "Mitral valve", "Summary of the patient's symptoms was reviewed today by me.", "",
])
def test_body_lines_are_not_headings(line: str) -> None:
    assert heading_kind(line) is None


def test_inline_heading_inside_a_paragraph() -> None:
    parsed = parse_report("The LV is normal in size. Mild MR. IMPRESSION: Normal LV. Mild MR.")
    assert parsed.findings_text == "The LV is normal in size. Mild MR."
    assert parsed.impression == "Normal LV. Mild MR."


def test_numbered_findings_lose_their_markers_and_the_impression_keeps_them() -> None:
    parsed = parse_report("FINDINGS:\n1. Left ventricle: normal.\n2) Mild MR.\n(3) No effusion.\n\n"
                          "IMPRESSION:\n1. Normal LV.\n2. Mild MR.")
    assert parsed.findings_text == "Left ventricle: normal.\nMild MR.\nNo effusion."
    assert parsed.impression == "1. Normal LV.\n2. Mild MR."
    assert [s.text for s in split_statements(parsed.impression)] == ["Normal LV.", "Mild MR."]


def test_anatomy_subheadings_stay_in_the_findings_with_their_label() -> None:
    parsed = parse_report("Indication: AF.\nLEFT VENTRICLE: normal size.\nMITRAL VALVE\nMild MR.\n"
                          "Impression: Mild MR.")
    assert parsed.findings_text == "LEFT VENTRICLE: normal size.\nMITRAL VALVE\nMild MR."
    assert parsed.indication == "AF."


TEE = """TRANSOESOPHAGEAL ECHOCARDIOGRAM
Indication: Atrial fibrillation. Evaluate for left atrial appendage thrombus.
History: Prior stroke, mitral valve repair 2019.
Consent: Risks including perforation discussed; written consent obtained.
Sedation: Midazolam 3 mg IV and fentanyl 50 mcg IV.
Procedure: The probe was passed without difficulty into the oesophagus.

Findings:
Normal LV size and function. No left atrial appendage thrombus. Mild MR.

Cardioversion: Synchronised DC cardioversion with 200 J restored sinus rhythm.
Recommendations: Continue anticoagulation; consider repeat TTE.

Impression:
1. No left atrial appendage thrombus.
2. Mild mitral regurgitation.
"""


def test_indication_history_consent_sedation_and_procedure_never_become_findings() -> None:
    parsed = parse_report(TEE)
    assert parsed.findings_text == ("Normal LV size and function. No left atrial appendage thrombus. "
                                    "Mild MR.")
    for words in ("Evaluate", "stroke", "repair", "perforation", "Midazolam", "mcg", "probe", "200 J",
                  "anticoagulation", "TTE"):
        assert words not in parsed.findings_text
    # the reason first; the history and how the study was done follow it, labelled, lost nowhere
    assert parsed.indication.startswith("Atrial fibrillation. Evaluate for left atrial appendage thrombus. "
                                        "History: Prior stroke, mitral valve repair 2019.")
    assert "Sedation: Midazolam 3 mg IV" in parsed.indication and "200 J" in parsed.indication
    assert parsed.study_type == "TEE"
    assert parsed.impression is not None and "Continue" not in parsed.impression


def test_procedure_sentences_inside_the_findings_are_taken_out() -> None:
    parsed = parse_report("FINDINGS:\nNo LAA thrombus. Cardioversion with 150 J restored sinus rhythm.\n"
                          "Fentanyl 50 mcg given for discomfort.\n"
                          "At 20 mcg/kg/min new inferior hypokinesis.\nIMPRESSION: No thrombus.")
    assert parsed.findings_text == "No LAA thrombus.\nAt 20 mcg/kg/min new inferior hypokinesis."
    assert any("150 J" in ln for s in parsed.sections if s.kind == "procedure" for ln in s.lines)


@pytest.mark.parametrize("opening", [
    "Echocardiogram for chest pain in a young man.",
    "The study was requested to look for a source of embolism.",
    "This 72-year-old woman was referred for assessment of a murmur.",
    "Transthoracic echocardiogram performed for evaluation of dyspnea."])
def test_the_opening_reason_for_the_study_becomes_the_indication(opening: str) -> None:
    parsed = parse_report(f"{opening} The left ventricle is normal. Mild MR.\n\nIMPRESSION: Mild MR.")
    assert parsed.indication == opening
    assert parsed.findings_text == "The left ventricle is normal. Mild MR."


def test_an_opening_finding_stays_a_finding() -> None:
    parsed = parse_report("The left ventricle is dilated. Severe MR.\n\nIMPRESSION: Severe MR.")
    assert parsed.indication is None and parsed.findings_text.startswith("The left ventricle is dilated.")


def test_a_one_paragraph_report_after_a_history_heading_keeps_its_findings() -> None:
    parsed = parse_report("Clinical history: hypertension. The LV is normal in size. Mild MR.\n\n"
                          "IMPRESSION: Mild MR.")
    assert parsed.findings_text == "The LV is normal in size. Mild MR."


@pytest.mark.parametrize("one_line", ["Views: subcostal and apical only.", "Indication: shock.",
                                      "Image quality: poor."])
def test_a_paragraph_after_a_one_line_heading_stays_in_the_findings(one_line: str) -> None:
    parsed = parse_report(f"BEDSIDE ECHO\n{one_line}\n\nModerate pericardial effusion.\nRV: normal size.\n"
                          "\nImpression: Moderate effusion.")
    assert parsed.findings_text.splitlines()[0] == "Moderate pericardial effusion."
    assert one_line.split(": ")[1] not in parsed.findings_text


def test_a_line_right_after_a_one_line_heading_is_still_no_finding() -> None:
    parsed = parse_report("Indication: dyspnoea.\nReferred by the chest clinic.\nFINDINGS: Mild MR.\n"
                          "IMPRESSION: Mild MR.")
    assert parsed.findings_text == "Mild MR."


@pytest.mark.parametrize("closing", ["Electronically signed by A. Reader, MD on 01/02/2026",
                                     "Yours sincerely,\n\nB. Writer", "Reading physician: C. Smith",
                                     "cc: Dr D. Jones, general practice"])
def test_a_sign_off_after_the_impression_is_no_impression(closing: str) -> None:
    parsed = parse_report(f"FINDINGS: Mild MR.\n\nIMPRESSION\nMild mitral regurgitation.\n\n{closing}\n"
                          "Letterhead line")
    assert parsed.impression == "Mild mitral regurgitation."
    assert "Letterhead" not in parsed.findings_text


@pytest.mark.parametrize("gap", ["\n", "\n\n"])
def test_the_plan_after_a_numbered_impression_stays_in_it_as_a_plan(gap: str) -> None:
    from echogpt.checker.check import check
    from echogpt.schemas import Study

    parsed = parse_report(f"FINDINGS: Severe AS. Mild MR.\n\nConclusions:\n1. Severe aortic stenosis.\n"
                          f"2. Mild mitral\nregurgitation.{gap}Refer to the heart team for TAVR.\n"
                          "Cath lab activated per interventional attending.")
    assert parsed.impression == ("1. Severe aortic stenosis.\n2. Mild mitral\nregurgitation.\n"
                                 "Refer to the heart team for TAVR.\nCath lab activated per interventional "
                                 "attending.")
    study = Study.model_validate({"study_id": "S1", "findings_text": parsed.findings_text})
    assert [s.verdict for s in check(parsed.impression, study).statements][-2:] == ["not_factual"] * 2


def test_a_letter_s_history_before_its_echo_paragraph_is_no_finding() -> None:
    parsed = parse_report("Dear Dr Hale,\n\nShe was treated for severe aortic regurgitation in 2019.\n\n"
                          "Her echocardiogram today shows mild aortic regurgitation.\n\n"
                          "Conclusions:\n1. Mild aortic regurgitation.")
    assert parsed.findings_text == "Her echocardiogram today shows mild aortic regurgitation."
    assert any("2019" in s.text for s in parsed.sections if s.kind == "history")


def test_prose_without_an_echo_paragraph_keeps_all_its_findings() -> None:
    parsed = parse_report("The LV is normal.\n\nThe echo was otherwise normal apart from mild MR.\n\n"
                          "IMPRESSION: Mild MR.")
    assert parsed.findings_text.startswith("The LV is normal.")


def test_lines_broken_mid_sentence_are_joined_in_the_findings() -> None:
    parsed = parse_report("FINDINGS\nMitral Valve: Moderate functional mitral\nregurgitation, central.\n"
                          "Aortic Valve: Normal.\nLVIDd 5.2 cm\nIVSd 1.0 cm\n\nIMPRESSION: Moderate MR.")
    assert parsed.findings_text.splitlines() == [
        "Mitral Valve: Moderate functional mitral regurgitation, central.", "Aortic Valve: Normal.",
        "LVIDd 5.2 cm", "IVSd 1.0 cm"]


@pytest.mark.parametrize(("line", "field"), [("LVESD index 1.9 cm/m2", None), ("LVIDs 4.0 cm", "lvids"),
                                             ("LVIDs (indexed) 1.9 cm/m2", None), ("LVESD: 1.9 cm/m2", None),
                                             ("Ascending aorta indexed 2.2 cm/m2", None),
                                             ("LA volume index 34 mL/m2", "lavi"), ("LAVI 34 mL/m2", "lavi")])
def test_an_indexed_value_is_not_read_as_the_raw_measurement(line: str, field: str | None) -> None:
    readings = parse_report(f"MEASUREMENTS\n{line}\n\nFINDINGS: Normal LV.\nIMPRESSION: Normal.").readings
    assert [r.field for r in readings] == ([field] if field else [])


def test_stress_stage_headings_stay_as_labels_of_their_findings() -> None:
    parsed = parse_report("STRESS ECHO\nRest images: Normal LV. EF 60%.\n\nPEAK STRESS\n"
                          "New apical hypokinesis.\nCavity dilates.\n\nImpression: Inducible ischaemia.")
    assert parsed.findings_text.splitlines() == ["Rest images: Normal LV. EF 60%.",
                                                 "PEAK STRESS: New apical hypokinesis. Cavity dilates."]


@pytest.mark.parametrize("prior", ["Last year the mean gradient was 25 mmHg.",
                                   "Two years ago the mean gradient was 25 mmHg."])
def test_a_value_of_an_earlier_study_is_not_read_as_this_one(prior: str) -> None:
    report = f"FINDINGS: Aortic valve: mean gradient 29 mmHg. {prior}\nIMPRESSION: AS."
    readings = parse_report(report).readings
    assert [(r.field, r.raw) for r in readings] == [("av_mean_gradient", "29 mmHg")]


def test_header_lines_give_identifiers_and_the_patient() -> None:
    sections = split_sections("MRN: 123  Date: 2024-03-01\nAge: 67   Sex: F   Height: 1.62 m\nFINDINGS: ok")
    assert [s.kind for s in sections][:2] == ["header", "header"]
    study = read_reports_text("MRN: 123\nDate: 12 March 2024\nAge: 67 years  Sex: F  Height: 162 cm  "
                              "Weight: 70 kg\nFINDINGS: Normal LV.\nIMPRESSION: Normal.")
    assert study.patient_id == "123" and str(study.study_date) == "2024-03-12"
    assert study.patient is not None and study.patient.sex == "female" and study.patient.bsa_m2


def test_a_header_patient_id_that_is_no_identifier_is_a_warning(tmp_path: Path) -> None:
    text = "MRN: John Smith\nFINDINGS: Normal LV.\nIMPRESSION: Normal."
    result = read_reports(_write(tmp_path, "r1.txt", text))
    assert result.studies[0].patient_id == "r1"
    assert [i.type for i in result.issues] == ["bad_patient_id"]


def read_reports_text(text: str, name: str = "r1.txt"):  # noqa: ANN201 - a Study
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        result = read_reports(_write(Path(tmp), name, text))
    assert not result.errors, result.lines()
    return result.studies[0]


@pytest.mark.parametrize(("text", "kind"), [
    ("TRANSESOPHAGEAL ECHOCARDIOGRAM\nFINDINGS: LAA free of thrombus.", "TEE"),
    ("Procedure: TOE probe passed.\nFindings: No thrombus.", "TEE"),
    ("DOBUTAMINE STRESS ECHO\nRest: normal.\nPeak: normal.", "stress"),
    ("Protocol: Bruce, 10 METs.\nRest images: normal.", "stress"),
    ("FINDINGS: Normal LV.\nRECOMMENDATIONS: consider TEE.", "TTE"),
    ("Indication: TEE requested, TTE first.\nFINDINGS: Normal LV.", "TTE"),
])
def test_study_type(text: str, kind: str) -> None:
    assert parse_report(text).study_type == kind


# ---------------------------------------------------------------- measurement tables

TABLE = """MEASUREMENTS
LVIDd 52 mm     LVIDs 3.6 cm
IVSd 1.1   LVPWd: 1,0 cm
EF: 55-60%
Ao root 3.4
LA vol index 38 mL/m2
MV E 0.9 m/s
TAPSE 2.1 cm
E/e' 14
IVC collapse >50%
Aortic valve: Vmax 2.1 m/s, mean gradient 9 mmHg
Mitral valve
  mean gradient 4 mmHg
  area 2.9 cm2

FINDINGS:
Normal LV. The mitral valve area by pressure half-time is 3.1 square centimetres.

IMPRESSION:
Normal study.
"""


def test_measurement_table_read_and_converted() -> None:
    m = read_reports_text(TABLE).measurements
    assert m is not None
    assert (m.lvidd, m.lvids, m.ivsd, m.lvpwd, m.aortic_root) == (5.2, 3.6, 1.1, 1.0, 3.4)
    assert m.lvef is not None and (m.lvef.low, m.lvef.high) == (55, 60)
    assert (m.lavi, m.e_velocity, m.tapse) == (38, 90, 2.1)  # E 0.9 m/s -> 90 cm/s
    assert (m.av_vmax, m.av_mean_gradient) == (2.1, 9)  # bound to the aortic valve named on the line
    assert (m.mv_mean_gradient, m.mva) == (4, 2.9)  # bound to the "Mitral valve" block
    assert m.ivc_collapse is None  # ">50%" is no value
    assert m.e_prime_septal is None and m.e_prime_lateral is None  # "E/e' 14" is no e'
    assert m.e_e_prime_avg == 14  # an unqualified E/e' is the average


def test_implausible_and_conflicting_values_are_warnings_with_their_line_and_stay_in_the_text(
        tmp_path: Path) -> None:
    path = _write(tmp_path, "r.txt", "MEASUREMENTS\nLVIDd 52\nEF: 155%\nAo root 3.4 m/s\nTAPSE 2.1 cm\n"
                                     "\nFINDINGS:\nTAPSE 1.8 cm. Normal LV.\n\nIMPRESSION:\nNormal LV.")
    result = read_reports(path)
    assert result.exit_code == 0 and len(result.studies) == 1
    study = result.studies[0]
    assert study.measurements is not None and study.measurements.tapse == 2.1
    assert study.measurements.lvidd is None and study.measurements.lvef is None
    warnings = {i.type: i for i in result.issues}
    assert set(warnings) == {"implausible_value", "unknown_unit", "conflicting_value"}
    lvidd = next(i for i in result.issues if "LVIDd" in i.message)
    assert "line 2" in lvidd.message and "looks like mm" in lvidd.message and lvidd.row == 1
    assert "line 4" in warnings["unknown_unit"].message
    assert "LVIDd 52" in study.findings_text and "EF: 155%" in study.findings_text


def test_warnings_name_the_line_of_the_report(tmp_path: Path) -> None:
    path = _write(tmp_path, "r.txt", "TTE\nFINDINGS\n--------\nNormal LV. MEASUREMENTS: LVIDd 52\n\n"
                                     "IMPRESSION: Normal LV.")
    result = read_reports(path)
    assert [i.type for i in result.issues] == ["implausible_value"]
    assert "(line 4)" in result.issues[0].message


def test_a_value_binds_once_and_not_to_the_prior_study(tmp_path: Path) -> None:
    result = read_reports(_write(tmp_path, "r.txt", (
        "FINDINGS: The mitral valve area by pressure half-time is 0.9 square centimetres. "
        "RV now normal (TAPSE 2.1 cm); previously dilated with TAPSE 1.2 cm.\nIMPRESSION: MS.")))
    m = result.studies[0].measurements
    assert m is not None and (m.mva, m.mv_pht, m.tapse) == (0.9, None, 2.1)
    assert result.issues == []


def test_measurement_names_do_not_bind_across_prose() -> None:
    m = read_reports_text("FINDINGS: A 1.2 cm mobile mass. The LA is 4.1 cm. E 80 cm/s. LV normal, EF 60%.\n"
                          "IMPRESSION: Mass.").measurements
    assert m is not None and m.lvef is not None and m.lvef.low == 60
    assert m.a_velocity is None and m.la_diameter is None and m.e_velocity is None


# ---------------------------------------------------------------- whole inputs and the CLI


def test_every_fixture_report_imports_with_its_impression_and_annotated_statements() -> None:
    for style in STYLES:
        result = read_reports(REPORTS / style)
        assert not result.errors, result.lines()
        rows = [json.loads(line) for line in (REPORTS / style / "expected.jsonl").read_text().splitlines()]
        assert len(rows) == len(result.studies) >= 19
        by_id = {s.study_id: s for s in result.studies}
        for row in rows:
            study = by_id[row["report"].removesuffix(".txt")]
            assert study.impression, row["report"]
            assert [s.text for s in split_statements(study.impression)] == \
                [s["text"] for s in row["statements"]]
            assert {s["expected"] for s in row["statements"]} <= {"supported", "not_factual", "not_checked"}
    assert len(STYLES) >= 8


def test_every_imported_report_can_be_checked() -> None:
    from echogpt.checker.check import check

    for style in STYLES:
        for study in read_reports(REPORTS / style).studies:
            result = check(study.impression or "", study)
            assert len(result.statements) == len(split_statements(study.impression or "")), study.study_id


def test_styles_detect_their_study_type() -> None:
    assert {s.study_type for s in read_reports(REPORTS / "tee").studies} == {"TEE"}
    assert {s.study_type for s in read_reports(REPORTS / "stress").studies} == {"stress"}
    assert {s.study_type for s in read_reports(REPORTS / "numbered").studies} == {"TTE"}


def test_broken_files_are_rejected_one_line_each_and_nothing_is_dropped(tmp_path: Path) -> None:
    out, rejects = tmp_path / "s.jsonl", tmp_path / "r.jsonl"
    res = CliRunner().invoke(app, ["import-reports", str(REPORTS / "broken"), "--out", str(out),
                                   "--rejects", str(rejects)])
    assert res.exit_code == 1, res.output
    issues = [json.loads(line) for line in rejects.read_text().splitlines()]
    errors = {Path(i["file"]).name: i for i in issues if i["severity"] == "error"}
    assert {n: e["type"] for n, e in errors.items()} == {
        "empty.txt": "empty", "blank_lines.txt": "empty", "scanned_pdf.txt": "binary",
        "latin1_export.txt": "encoding", "header_only.txt": "no_findings"}
    assert "byte 0xb2 on line 2" in errors["latin1_export.txt"]["message"]
    assert all(e["row"] >= 1 and "\n" not in e["message"] for e in errors.values())
    studies = [json.loads(line) for line in out.read_text().splitlines()]
    assert {s["study_id"] for s in studies} == {"implausible_values", "no_impression", "windows_utf16"}
    assert "Normal left ventricular size" in next(s for s in studies if s["study_id"] == "windows_utf16")[
        "findings_text"]
    assert "impression" not in next(s for s in studies if s["study_id"] == "no_impression")
    assert "imported without an impression: no_impression" in res.output
    skipped = [i for i in issues if i["type"] == "skipped"]
    assert [Path(i["file"]).name for i in skipped] == ["scan_of_report.docx"]
    assert len(studies) + len(errors) == 8  # every .txt file is a study or an error


def test_a_clean_folder_exits_0_and_writes_no_rejects_file(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _write(folder, "a.txt", "FINDINGS: Normal LV.\nIMPRESSION: Normal LV.")
    res = CliRunner().invoke(app, ["import-reports", str(folder), "--out", str(tmp_path / "s.jsonl")])
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "s.jsonl.rejects.jsonl").exists()
    assert json.loads((tmp_path / "s.jsonl").read_text())["impression"] == "Normal LV."


@pytest.mark.parametrize("setup", ["missing", "empty_folder", "suffix", "bad_mapping", "no_text_column"])
def test_unreadable_input_exits_2(tmp_path: Path, setup: str) -> None:
    args = {"missing": [str(tmp_path / "nope")],
            "empty_folder": [str(tmp_path)],
            "suffix": [str(_write(tmp_path, "r.docx", "x"))],
            "bad_mapping": [str(REPORTS / "csv" / "reports.csv"), "--mapping",
                            str(_write(tmp_path, "m.json", '{"txt": "report_text"}'))],
            "no_text_column": [str(REPORTS / "csv" / "reports.csv")]}[setup]
    res = CliRunner().invoke(app, ["import-reports", *args, "--out", str(tmp_path / "o" / "s.jsonl")])
    assert res.exit_code == 2, res.output
    assert res.output.count("\n") == 1 and "error:" in res.output


def test_csv_of_reports_with_a_mapping(tmp_path: Path) -> None:
    out, rejects = tmp_path / "s.jsonl", tmp_path / "r.jsonl"
    res = CliRunner().invoke(app, ["import-reports", str(REPORTS / "csv" / "reports.csv"), "--mapping",
                                   str(REPORTS / "csv" / "reports.mapping.json"), "--out", str(out),
                                   "--rejects", str(rejects)])
    assert res.exit_code == 1, res.output
    studies = {s["study_id"]: s for s in map(json.loads, out.read_text().splitlines())}
    assert len(studies) == 6
    assert studies["ACC-1001"]["patient_id"] == "MRN501" and studies["ACC-1001"]["study_date"] == "2024-01-05"
    assert studies["ACC-1002"]["study_date"] == "2024-03-12"
    assert studies["ACC-1004"]["study_date"] == "2024-06-25"  # 25/06/2024: the day is clear
    assert "study_date" not in studies["ACC-1006"]  # 03/04/2024 could be March or April
    issues = [json.loads(line) for line in rejects.read_text().splitlines()]
    by_row = {(i["row"], i["type"]) for i in issues}
    assert by_row == {(7, "bad_date"), (8, "empty"), (9, "duplicate_study_id")}
    assert "row 9 (reports.csv): error: study id 'ACC-1002' already used by row 3" in res.output


def test_jsonl_and_parquet_tables_of_reports(tmp_path: Path) -> None:
    rows = [{"id": "R1", "text": "FINDINGS: Normal LV.\nIMPRESSION: Normal LV."},
            {"id": "R2", "text": "FINDINGS: Mild MR.\nCONCLUSION: Mild MR."}]
    mapping = {"text": "text", "study_id": "id", "patient_id": None, "study_date": None}
    jsonl = _write(tmp_path, "r.jsonl", "\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    result = read_reports(jsonl, mapping)
    assert [s.study_id for s in result.studies] == ["R1", "R2"]
    assert [(i.row, i.type) for i in result.issues] == [(3, "unreadable")]
    assert result.issues[0].line().startswith("line 3 (r.jsonl): error: invalid JSON")
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "r.parquet")
    result = read_reports(tmp_path / "r.parquet", mapping)
    assert [s.impression for s in result.studies] == ["Normal LV.", "Mild MR."] and not result.issues


def test_outputs_must_differ_from_the_input(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.txt", "FINDINGS: x\nIMPRESSION: y")
    with pytest.raises(FileError):
        import_reports(path, out=path)


def test_heading_and_name_tables_are_validated() -> None:
    from pydantic import ValidationError

    from echogpt.data.report_measurements import NameTable, name_table
    from echogpt.data.report_text import SectionTable, section_table

    assert "impression" in section_table().headings and "lvidd" in name_table().names
    raw = json.loads((Path(__file__).resolve().parents[2] / "echogpt" / "resources" /
                      "report_sections.json").read_text())
    with pytest.raises(ValidationError, match="extra"):
        SectionTable.model_validate({**raw, "heading": {}})
    with pytest.raises(ValidationError):
        NameTable.model_validate({"_about": "x", "names": {}, "in_context": {}})
