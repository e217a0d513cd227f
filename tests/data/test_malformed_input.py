"""Malformed input to the study import: CSV syntax errors, JSON nested without bound, oversized
and non-text files. Each is a row-numbered reject or one FileError, never a traceback or a guess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from echogpt.data import load
from echogpt.data.load import FileError, load_studies, load_studies_bytes

DEEP = "[" * 100_000 + "]" * 100_000
"""Nesting far beyond Python's recursion limit."""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_unterminated_quote_is_a_file_error_naming_its_row(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", 'study_id,findings_text\nS1,"unterminated quote\nS2,ok\n')
    with pytest.raises(FileError, match=r"row 2 \(line 2\): a quoted field opened there is never closed"):
        load_studies(path)


def test_unterminated_quote_after_good_rows_and_multiline_fields(tmp_path: Path) -> None:
    text = 'study_id,findings_text\nS1,"two\nlines"\nS2,ok\nS3,"open\nS4,x\n'
    with pytest.raises(FileError, match=r"row 4 \(line 5\)"):
        load_studies(_write(tmp_path, "s.csv", text))


def test_unterminated_quote_in_a_long_file_is_the_same_error(tmp_path: Path) -> None:
    rows = "".join(f"S{i},{'x' * 200}\n" for i in range(1000))  # past the csv field limit
    with pytest.raises(FileError, match=r"row 2 \(line 2\).*quote left open"):
        load_studies(_write(tmp_path, "s.csv", 'study_id,findings_text\nS0,"open\n' + rows))


def test_stray_quote_rejects_its_row_and_keeps_the_rest(tmp_path: Path) -> None:
    text = 'study_id,findings_text\nS1,"abc"def\nS2,ok\nS3,"multi\nline"\nS4,"x"y\n'
    result = load_studies(_write(tmp_path, "s.csv", text))
    assert [s.study_id for s in result.studies] == ["S2", "S3"]
    assert result.studies[1].findings_text == "multi\nline"
    assert [(r.row, r.errors[0].type) for r in result.rejects] == [(2, "csv_syntax"), (5, "csv_syntax")]
    assert "line 6" in result.rejects[1].errors[0].message and result.rejects[1].raw == 'S4,"x"y'


def test_quote_inside_an_unquoted_field_is_text(tmp_path: Path) -> None:
    result = load_studies(_write(tmp_path, "s.csv", 'study_id,findings_text\nS1,LA 4" wide\n'))
    assert result.studies[0].findings_text == 'LA 4" wide'


def test_deep_json_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="nested more than 64 levels"):
        load_studies(_write(tmp_path, "s.json", DEEP))


def test_deep_json_upload_is_a_file_error() -> None:
    with pytest.raises(FileError, match="nested more than 64 levels"):
        load_studies_bytes(DEEP.encode(), "upload.json")


@pytest.mark.parametrize("depth", [500, 990, 100_000])
def test_deep_jsonl_line_is_a_rejected_row(tmp_path: Path, depth: int) -> None:
    deep = "[" * depth + "]" * depth
    good = json.dumps({"study_id": "S1", "findings_text": "ok"})
    text = good + "\n" + '{"study_id": "S2", "findings_text": "x", "measurements": ' + deep + "}\n"
    result = load_studies_bytes(text.encode(), "upload.jsonl")
    assert [s.study_id for s in result.studies] == ["S1"]
    assert result.rejects[0].row == 2 and "nested more than 64 levels" in result.rejects[0].reason()


def test_deep_json_in_a_csv_cell_is_a_rejected_row(tmp_path: Path) -> None:
    deep = "[" * 2000 + "]" * 2000
    result = load_studies(_write(tmp_path, "s.csv", f'study_id,findings_text,measurements\nS1,x,"{deep}"\n'))
    assert result.rejects[0].row == 2 and result.rejects[0].errors[0].field == "measurements"


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_deep_mapping_file_is_a_file_error(tmp_path: Path, suffix: str) -> None:
    mapping = _write(tmp_path, "m" + suffix, DEEP)
    with pytest.raises(FileError, match="mapping file .*nested more than 64 levels"):
        load_studies(_write(tmp_path, "s.csv", "study_id,findings_text\nS1,x\n"), mapping=mapping)


def test_invalid_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"study_id": "S1", "findings_text": "ok"}\n'
                     b'{"study_id": "S2", "findings_text": "\xff"}\n')
    with pytest.raises(FileError, match="not UTF-8 text .* line 2"):
        load_studies(path)


def test_folder_named_like_a_study_file(tmp_path: Path) -> None:
    (tmp_path / "studies.csv").mkdir()
    with pytest.raises(FileError, match="is a folder"):
        load_studies(tmp_path / "studies.csv")


def test_file_over_the_size_bound_is_refused_before_it_is_read(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "MAX_FILE_BYTES", 1024)
    path = _write(tmp_path, "s.csv", "study_id,findings_text\n" + "S1,x\n" * 400)
    with pytest.raises(FileError, match="larger than 1 KiB"):
        load_studies(path)


@pytest.mark.parametrize("data", [b"PAR1 not really parquet PAR1", b"plain text", b"\x00\x01\x02" * 50])
def test_parquet_that_is_not_parquet(data: bytes) -> None:
    with pytest.raises(FileError, match="Parquet"):
        load_studies_bytes(data, "s.parquet")
