"""Study import (JSONL, JSON, CSV, Parquet, mappings), rejects, JSONL helpers, splits, hashes, CLI."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from echogpt.cli import app
from echogpt.data.load import (
    FileError,
    data_hash,
    load_studies,
    load_studies_bytes,
    read_jsonl,
    split_by_patient,
    write_jsonl,
    write_rejects,
)
from echogpt.data.validation import validate_file
from echogpt.schemas import Study

EXAMPLES = Path(__file__).resolve().parents[2] / "data_schemas" / "examples"
GOOD = {"study_id": "S1", "findings_text": "Normal study."}


def _jsonl(tmp_path: Path, lines: list[str], name: str = "s.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _csv(tmp_path: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- JSONL


def test_jsonl_rows_are_numbered_by_line(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [
        json.dumps(GOOD),
        "",                                                                  # blank: counted, not a row
        json.dumps({"study_id": "S2", "findings_text": "x", "measurements": {"lvidd": 52}}),
        "{not json",
        json.dumps({"study_id": "S3", "findings_text": "x", "measurements": {"lvidd": "52 mm"}}),
    ])
    result = load_studies(path)
    assert [s.study_id for s in result.studies] == ["S1", "S3"]
    assert result.studies[1].measurements.lvidd == pytest.approx(5.2)
    assert [r.row for r in result.rejects] == [3, 4]
    assert result.counts == {"rows": 4, "valid": 2, "rejected": 2}
    lvidd, bad_json = result.rejects
    assert (lvidd.errors[0].field, lvidd.errors[0].type) == ("measurements.lvidd", "implausible_value")
    assert lvidd.errors[0].expected == "2.5-9.5 cm" and lvidd.errors[0].value == 52
    assert bad_json.errors[0].type == "json_invalid" and bad_json.raw == "{not json"
    assert lvidd.raw["study_id"] == "S2"  # a parsed line is kept as its object
    assert bad_json.reason().startswith("line 4: ")


def test_every_error_of_a_row_is_reported(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [json.dumps({"study_id": "S1", "patient": {"age": 12},
                                         "measurements": {"lvid": 5}})])
    (reject,) = load_studies(path).rejects
    found = {(e.field, e.type) for e in reject.errors}
    assert found == {("patient.age", "not_adult"), ("measurements.lvid", "extra_forbidden"),
                     ("findings_text", "missing")}
    unknown = next(e for e in reject.errors if e.type == "extra_forbidden")
    assert "measurements.lvids" in unknown.expected or "measurements.lvidd" in unknown.expected


def test_duplicate_study_id_rejects_the_second(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [json.dumps(GOOD), json.dumps({**GOOD, "findings_text": "again"})])
    result = load_studies(path)
    assert [s.findings_text for s in result.studies] == ["Normal study."]
    (reject,) = result.rejects
    assert reject.row == 2 and reject.errors[0].type == "duplicate_study_id"
    assert "line 1" in reject.errors[0].message


@pytest.mark.parametrize(("line", "kind"), [
    ("[1, 2]", "not_an_object"), ('"text"', "not_an_object"),
    ('{"study_id": "S", "findings_text": NaN}', "json_invalid"),
    ('{"study_id": "\\ud800", "findings_text": "x"}', "invalid_unicode"),
])
def test_malformed_jsonl_lines_are_rejected_with_their_number(tmp_path: Path, line: str,
                                                              kind: str) -> None:
    result = load_studies(_jsonl(tmp_path, [json.dumps(GOOD), line]))
    assert [(r.row, r.errors[0].type) for r in result.rejects] == [(2, kind)]


def test_dotted_keys_in_jsonl_are_nested(tmp_path: Path) -> None:
    row = {**GOOD, "measurements.lvef": "55–60 %", "patient.sex": "F"}
    (study,) = load_studies(_jsonl(tmp_path, [json.dumps(row)])).studies
    assert (study.measurements.lvef.low, study.measurements.lvef.high) == (55, 60)
    assert study.patient.sex == "female"


def test_json_array(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps([GOOD, {"study_id": "S2"}]), encoding="utf-8")
    result = load_studies(path)
    assert len(result.studies) == 1 and result.rejects[0].reason().startswith("item 2: ")


# ---------------------------------------------------------------- CSV


def test_csv_dotted_columns_and_row_numbers(tmp_path: Path) -> None:
    path = _csv(tmp_path, "study_id,findings_text,measurements.lvidd,patient.age,"
                          "findings.mitral.regurgitation,findings.wall_motion.basal inferior\n"
                          'A,"Text, with a comma",5.2,70,2+,hypokinesis\n'
                          "B,x,99,12,severe,\n"
                          "\n"
                          "C,t,,,,\n")
    result = load_studies(path)
    a, c = result.studies
    assert a.findings_text == "Text, with a comma" and a.measurements.lvidd == 5.2
    assert a.findings.mitral.regurgitation == "moderate" and a.findings.wall_motion == {4: "hypokinetic"}
    assert c.measurements is None and c.patient is None  # empty cells are "not measured"
    (b,) = result.rejects
    assert b.row == 3 and b.raw["study_id"] == "B" and b.study_id == "B"
    assert {e.field for e in b.errors} == {"measurements.lvidd", "patient.age"}
    assert "header = row 1" in result.numbering


def test_csv_row_with_wrong_cell_count_is_rejected(tmp_path: Path) -> None:
    result = load_studies(_csv(tmp_path, "study_id,findings_text\nA,x\nB,x,extra\n"))
    (reject,) = result.rejects
    assert reject.row == 3 and reject.errors[0].type == "row_length" and reject.raw == ["B", "x", "extra"]


def test_csv_json_cell_fills_a_list(tmp_path: Path) -> None:
    path = _csv(tmp_path, 'study_id,findings_text,findings.aortic.morphology\nA,x,"[""bicuspid""]"\n')
    (study,) = load_studies(path).studies
    assert study.findings.aortic.morphology == ["bicuspid"]


@pytest.mark.parametrize(("text", "says"), [
    ("study_id,measurements.lvidd\nA,5\n", "findings_text"),
    ("findings_text\nx\n", "study_id"),
    ("study_id,findings_text,lvidd\nA,x,5\n", "unknown column"),
    ("study_id,findings_text,measurements.lvid\nA,x,5\n", "did you mean"),
    ("study_id,findings_text,study_id\nA,x,B\n", "duplicate column"),
    ("study_id,findings_text\n", "no data rows"),
    ("", "empty"),
    ("  \n\n", "empty"),
])
def test_unusable_csv_is_a_file_error(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(FileError, match=says):
        load_studies(_csv(tmp_path, text))


def test_wrong_encoding_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes("study_id,findings_text\nA,Größe\n".encode("latin-1"))
    with pytest.raises(FileError, match="not UTF-8.*line 2"):
        load_studies(path)


def test_utf8_bom_and_utf16_files(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes("study_id,findings_text\nA,x\n".encode("utf-8-sig"))
    assert len(load_studies(path).studies) == 1
    path.write_bytes("study_id,findings_text\nA,x\n".encode("utf-16"))
    with pytest.raises(FileError):
        load_studies(path)


@pytest.mark.parametrize(("name", "says"), [("nope.jsonl", "no such file"), ("s.txt", "unknown file type")])
def test_missing_file_and_unknown_type(tmp_path: Path, name: str, says: str) -> None:
    (tmp_path / "s.txt").write_text("x", encoding="utf-8")
    with pytest.raises(FileError, match=says):
        load_studies(tmp_path / name)


# ---------------------------------------------------------------- Parquet


def test_parquet_with_dotted_and_nested_columns(tmp_path: Path) -> None:
    table = pa.table({
        "study_id": ["P1", "P2", "P3"],
        "findings_text": ["a", "b", "c"],
        "measurements.lvidd": [5.0, float("nan"), 52.0],          # NaN = not measured
        "patient": [{"age": 60, "sex": "M"}, None, {"age": 70, "sex": "F"}],
    })
    path = tmp_path / "s.parquet"
    pq.write_table(table, path)
    result = load_studies(path)
    assert [s.study_id for s in result.studies] == ["P1", "P2"]
    assert result.studies[1].measurements is None and result.studies[0].patient.sex == "male"
    (reject,) = result.rejects
    assert reject.row == 3 and reject.errors[0].field == "measurements.lvidd"


def test_not_parquet_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    path.write_text("study_id,findings_text\n", encoding="utf-8")
    with pytest.raises(FileError, match="not a Parquet file"):
        load_studies(path)
    path.write_bytes(b"PAR1garbagePAR1")
    with pytest.raises(FileError, match="Parquet"):
        load_studies(path)


def test_parquet_named_csv_is_a_file_error(tmp_path: Path) -> None:
    pq.write_table(pa.table({"study_id": ["A"], "findings_text": ["x"]}), tmp_path / "s.csv")
    with pytest.raises(FileError, match="Parquet file"):
        load_studies(tmp_path / "s.csv")


# ---------------------------------------------------------------- mappings


def test_example_lab_export_with_its_mapping() -> None:
    result = load_studies(EXAMPLES / "lab_export.csv", mapping=EXAMPLES / "lab_export.mapping.yaml")
    assert not result.rejects
    first, second = result.studies
    assert first.study_id == "A-1001" and first.patient_id == "M-77"
    assert first.measurements.lvidd == pytest.approx(5.2)           # 52 mm
    assert first.patient.height_cm == pytest.approx(177.8)          # 70 in
    assert first.patient.weight_kg == pytest.approx(81.65, abs=0.01)  # 180 lb
    assert first.findings.mitral.regurgitation == "mild"            # lab code "Mi"
    assert second.findings.wall_motion == {4: "hypokinetic"}
    assert second.impression.startswith("1. Severely dilated LV")


def test_mapping_unit_applies_to_bare_numbers_only(tmp_path: Path) -> None:
    mapping = {"columns": [{"column": "LVIDd_mm", "field": "measurements.lvidd", "unit": "mm"}]}
    path = _csv(tmp_path, "study_id,findings_text,LVIDd_mm\nA,x,52\nB,x,5.1 cm\nC,x,520\n")
    result = load_studies(path, mapping=mapping)
    assert [s.measurements.lvidd for s in result.studies] == pytest.approx([5.2, 5.1])
    (reject,) = result.rejects
    assert reject.errors[0].column == "LVIDd_mm" and reject.errors[0].value == "520 mm"


def test_mapping_value_map_and_ignore(tmp_path: Path) -> None:
    mapping = {"columns": [{"column": "MR", "field": "findings.mitral.regurgitation",
                            "values": {"Mod": "moderate"}}], "ignore": ["Operator"]}
    path = _csv(tmp_path, "study_id,findings_text,MR,Operator\nA,x, mod ,bob\nB,x,zz,amy\n")
    result = load_studies(path, mapping=mapping)
    assert result.studies[0].findings.mitral.regurgitation == "moderate"
    assert result.rejects[0].errors[0].expected.startswith("one of: none, trace")


def test_unmapped_unknown_column_needs_ignore(tmp_path: Path) -> None:
    path = _csv(tmp_path, "study_id,findings_text,Operator\nA,x,bob\n")
    with pytest.raises(FileError, match="Operator.*ignore"):
        load_studies(path)
    assert len(load_studies(path, mapping={"ignore": ["Operator"]}).studies) == 1


def test_required_field_may_come_from_a_mapped_column(tmp_path: Path) -> None:
    mapping = {"columns": [{"column": "Accession", "field": "study_id"}]}
    with pytest.raises(FileError, match="study_id.*Accession"):
        load_studies(_csv(tmp_path, "findings_text\nx\n"), mapping=mapping)


@pytest.mark.parametrize(("mapping", "says"), [
    ({"columns": [{"column": "a", "field": "measurements.lvid"}]}, "did you mean 'measurements.lvids'"),
    ({"columns": [{"column": "a", "field": "measurements.lvidd", "unit": "kg"}]}, "unit 'kg'"),
    ({"columns": [{"column": "a", "field": "patient.weight_kg", "unit": "stone"}]}, "stone"),
    ({"columns": [{"column": "a", "field": "patient.age", "unit": "years"}]}, "takes no unit"),
    ({"columns": [{"column": "a", "field": "findings.wall_motion.basal apex"}]}, "segment"),
    ({"columns": [{"column": "a", "field": "study_id"}, {"column": "b", "field": "study_id"}]}, "both"),
    ({"colums": []}, "colums"),
    ([1], "expected an object"),
])
def test_bad_mapping_is_a_file_error(tmp_path: Path, mapping: object, says: str) -> None:
    path = _csv(tmp_path, "study_id,findings_text\nA,x\n")
    with pytest.raises(FileError, match=says):
        load_studies(path, mapping=mapping)


def test_mapping_file_that_is_not_json(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text("{columns: [", encoding="utf-8")
    with pytest.raises(FileError, match="mapping file .* not valid JSON"):
        load_studies(_csv(tmp_path, "study_id,findings_text\nA,x\n"), mapping=bad)


# ---------------------------------------------------------------- rejects and JSONL helpers


def test_rejects_file_holds_row_raw_and_errors(tmp_path: Path) -> None:
    result = load_studies(_csv(tmp_path, "study_id,findings_text,patient.age\nA,x,12\nB,x,\n"))
    write_rejects(result.rejects, tmp_path / "r.jsonl")
    (line,) = read_jsonl(tmp_path / "r.jsonl")
    assert line["row"] == 2 and line["raw"] == {"study_id": "A", "findings_text": "x", "patient.age": "12"}
    (err,) = line["errors"]
    assert err["field"] == "patient.age" and err["type"] == "not_adult" and err["value"] == "12"
    assert err["expected"] == "18-120" and "under 18" in err["message"]


def test_write_jsonl_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "out" / "x.jsonl"
    write_jsonl([{"a": 1}, Study.model_validate(GOOD)], path)
    assert [r.get("a") or r["study_id"] for r in read_jsonl(path)] == [1, "S1"]
    with pytest.raises(ValueError):
        write_jsonl([{"a": 2}, {"b": float("nan")}], path)   # NaN is not JSON: nothing replaced
    assert read_jsonl(path)[0] == {"a": 1}
    assert [p.name for p in path.parent.iterdir()] == ["x.jsonl"]  # no temporary file left


def test_read_jsonl_names_the_bad_line(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="line 2"):
        read_jsonl(_jsonl(tmp_path, ['{"a": 1}', "{oops"]))


def test_data_hash(tmp_path: Path) -> None:
    a = _jsonl(tmp_path, ['{"a": 1, "b": 2}'], "a.jsonl")
    b = _jsonl(tmp_path, ['{ "b": 2,  "a": 1 }', ""], "b.jsonl")
    c = _jsonl(tmp_path, ['{"a": 1, "b": 3}'], "c.jsonl")
    assert data_hash(a) == data_hash(b) == data_hash([{"b": 2, "a": 1}])
    assert data_hash(a) != data_hash(c) and len(data_hash(a)) == 64
    assert data_hash(tmp_path) != data_hash([{"a": 1, "b": 2}])
    with pytest.raises(FileError):
        data_hash(tmp_path / "missing.jsonl")


# ---------------------------------------------------------------- splits


def _studies(n: int, per_patient: int = 2) -> list[Study]:
    return [Study(study_id=f"S{i}", patient_id=f"P{i // per_patient}", findings_text="x")
            for i in range(n)]


def test_split_keeps_patients_together_and_is_deterministic() -> None:
    studies = _studies(3000)
    parts = split_by_patient(studies, seed=7)
    assert list(parts) == ["train", "val", "test"]
    patients = [{s.patient_id for s in part} for part in parts.values()]
    assert not (patients[0] & patients[1] or patients[0] & patients[2] or patients[1] & patients[2])
    assert sum(len(p) for p in parts.values()) == 3000
    assert 0.75 < len(parts["train"]) / 3000 < 0.85 and 0.06 < len(parts["test"]) / 3000 < 0.14
    assert split_by_patient(studies, seed=7) == parts
    assert split_by_patient(studies, seed=8) != parts


def test_split_is_stable_when_rows_are_added() -> None:
    before = split_by_patient(_studies(400), seed=1)
    after = split_by_patient(_studies(900), seed=1)
    for name, part in before.items():
        assert {s.study_id for s in part} <= {s.study_id for s in after[name]}


def test_split_fractions_are_checked() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        split_by_patient(_studies(4), fractions={"train": 0.5, "test": 0.2})
    only = split_by_patient(_studies(10), fractions={"train": 1.0, "test": 0.0})
    assert len(only["train"]) == 10 and only["test"] == []


# ---------------------------------------------------------------- validate command


def test_validate_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    good = _jsonl(tmp_path, [json.dumps(GOOD)], "good.jsonl")
    mixed = _jsonl(tmp_path, [json.dumps(GOOD), "{bad", json.dumps({"study_id": "S2"})], "mixed.jsonl")
    empty = _jsonl(tmp_path, [], "empty.jsonl")
    ok = runner.invoke(app, ["validate", str(good)])
    assert ok.exit_code == 0 and "1 valid, 0 rejected" in ok.output
    some = runner.invoke(app, ["validate", str(mixed), "--rejects", str(tmp_path / "r.jsonl")])
    assert some.exit_code == 1 and "2 rejected" in some.output
    assert "line 2:" in some.output and "line 3: findings_text" in some.output
    assert [r["row"] for r in read_jsonl(tmp_path / "r.jsonl")] == [2, 3]
    bad = runner.invoke(app, ["validate", str(empty)])
    assert bad.exit_code == 2 and "empty" in bad.output and "Traceback" not in bad.output


def test_validate_default_rejects_path_and_canonical_out(tmp_path: Path) -> None:
    path = _csv(tmp_path, "study_id,findings_text,measurements.lvidd\nA,x,52 mm\nB,x,52\n")
    report = validate_file(path, out=tmp_path / "clean.jsonl", check_consistency=False)
    assert report.exit_code == 1 and report.rejects_path == tmp_path / "s.csv.rejects.jsonl"
    assert read_jsonl(report.rejects_path)[0]["row"] == 3
    again = validate_file(tmp_path / "clean.jsonl", check_consistency=False)
    assert again.exit_code == 0 and again.result.studies[0].measurements.lvidd == pytest.approx(5.2)
    assert not (tmp_path / "clean.jsonl.rejects.jsonl").exists()


def test_validate_counts_consistency_warnings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("echogpt.guidelines.consistency")
    fake.consistency_warnings = lambda study: (
        [types.SimpleNamespace(message="LVEF disagrees with volumes")] if study.study_id == "S2" else [])
    monkeypatch.setitem(sys.modules, "echogpt.guidelines.consistency", fake)
    path = _jsonl(tmp_path, [json.dumps(GOOD), json.dumps({**GOOD, "study_id": "S2"})])
    report = validate_file(path)
    assert report.exit_code == 0 and report.warnings == ["S2: LVEF disagrees with volumes"]
    assert "1 consistency warning(s) (not rejections)" in report.lines()


def test_validate_without_the_guideline_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "echogpt.guidelines.consistency", None)  # import raises ImportError
    report = validate_file(_jsonl(tmp_path, [json.dumps(GOOD)]))
    assert report.warnings is None and not any("consistency" in line for line in report.lines())


def test_upload_bytes_are_read_like_a_file() -> None:
    result = load_studies_bytes(b"study_id,findings_text\nA,x\nA,y\n", "upload.csv")
    assert len(result.studies) == 1 and result.rejects[0].errors[0].type == "duplicate_study_id"


def test_dotted_key_merges_into_its_block_without_changing_the_raw_row(tmp_path: Path) -> None:
    merged = {**GOOD, "measurements": {"lvef": 50}, "measurements.lvidd": 5.0}
    clash = {**GOOD, "study_id": "S2", "measurements": {"lvidd": 5}, "measurements.lvidd": 6}
    result = load_studies(_jsonl(tmp_path, [json.dumps(merged), json.dumps(clash)]))
    (study,) = result.studies
    assert study.measurements.lvidd == 5.0 and study.measurements.lvef.low == 50
    (reject,) = result.rejects
    assert reject.raw == clash and reject.errors[0].type == "conflicting_columns"
    assert "'measurements' and 'measurements.lvidd'" in reject.errors[0].message


def test_validate_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [json.dumps(GOOD)])
    with pytest.raises(FileError, match="different files"):
        validate_file(path, rejects=path)
    assert read_jsonl(path) == [GOOD]


def test_reject_table_has_one_row_per_error(tmp_path: Path) -> None:
    from echogpt.data.validation import reject_table

    result = load_studies(_csv(tmp_path, "study_id,findings_text,patient.age,measurements.lvidd\n"
                                         "A,x,12,52\nB,x,,\n"))
    table = reject_table(result.rejects)
    assert [(t["row"], t["study_id"], t["field"]) for t in table] == [
        (2, "A", "patient.age"), (2, "A", "measurements.lvidd")]


def test_tsv_and_mapping_delimiter(tmp_path: Path) -> None:
    tsv = _csv(tmp_path, "study_id\tfindings_text\nA\tx, y\n", "s.tsv")
    assert load_studies(tsv).studies[0].findings_text == "x, y"
    semi = _csv(tmp_path, "study_id;findings_text;patient.weight_kg\nA;x;70,5\n")
    (study,) = load_studies(semi, mapping={"delimiter": ";"}).studies
    assert study.patient.weight_kg == pytest.approx(70.5)  # decimal comma


def test_load_still_exports_the_records_and_readers_moved_out_of_it() -> None:
    from echogpt.data import import_result, load, row_readers

    for name in ("FieldError", "RejectedRow", "ImportResult", "NUMBERING"):
        assert getattr(load, name) is getattr(import_result, name), name
    assert {"FieldError", "RejectedRow", "ImportResult"} <= set(load.__all__)
    assert all(hasattr(load, name) for name in load.__all__)
    assert load.Row is row_readers.Row
