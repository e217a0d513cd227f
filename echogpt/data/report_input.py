"""The input of ``echogpt import-reports``: a folder of report files or a table of reports, their
numbering, the column mapping of a table, and the bytes of one report decoded as text.

    rows = table_rows(Path("reports.csv"), "csv", load_report_mapping(None))
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from echogpt.files import FileError

TABLE_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
                  ".pq": "parquet"}
NUMBERING = {"files": "files in name order, first file = 1",
             "csv": "CSV rows, header = row 1, first data row = 2",
             "jsonl": "JSONL lines, first line = 1", "parquet": "Parquet rows, first row = 1"}


def row_word(numbering: str) -> str:
    """'file', 'row' or 'line': how one report is counted in a numbering."""
    return "row" if numbering.startswith(("CSV", "Parquet")) else \
        "line" if numbering.startswith("JSONL") else "file"


class UnreadableReport(ValueError):
    """A report whose bytes are no text: ``kind`` is empty, binary or encoding."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class ReportMapping(BaseModel):
    """Which columns of a table hold the report text and the study's identifiers."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field("report_text", min_length=1, description="Column holding the whole report")
    study_id: str = Field("study_id", min_length=1, description="Column holding the study id")
    patient_id: str | None = Field("patient_id", description="Column holding the patient id")
    study_date: str | None = Field("study_date", description="Column holding the study date")
    delimiter: str | None = Field(None, min_length=1, max_length=1, description="CSV delimiter")


def load_report_mapping(source: str | Path | dict[str, Any] | ReportMapping | None) -> ReportMapping:
    """A report mapping from a JSON/YAML file or dict (None: the default column names).

    Raises:
        FileError: unreadable file or unknown keys.
    """
    if source is None or isinstance(source, ReportMapping):
        return source or ReportMapping()
    where = "mapping"
    if isinstance(source, str | Path):
        where = f"mapping file {source}"
        try:
            source = yaml.safe_load(Path(source).read_text("utf-8-sig"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
            raise FileError(f"{where}: cannot read it ({str(e).splitlines()[0]})") from None
    try:
        return ReportMapping.model_validate(source)
    except ValidationError as e:
        err = e.errors()[0]
        raise FileError(f"{where}: {'.'.join(map(str, err['loc']))}: {err['msg']} (keys: text, study_id, "
                        "patient_id, study_date, delimiter)") from None


def decode_report(data: bytes) -> str:
    """The text of a report file: UTF-8 (or UTF-16 with its byte-order mark).

    Raises:
        UnreadableReport: empty, binary, or not UTF-8 (one line, naming the byte and line).
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        data = data.decode("utf-16").encode("utf-8")
    if not data.strip():
        raise UnreadableReport("empty", "the report is empty")
    if b"\x00" in data or data[:4] in (b"%PDF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0") or data[:4] == b"PAR1":
        raise UnreadableReport("binary", "not a text file (binary content: a PDF, Word or zip file?); "
                               "save the report as UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise UnreadableReport("encoding", f"not UTF-8 text (byte 0x{data[e.start]:02x} on line {line}); "
                               "save the report as UTF-8") from None


def text_files(path: Path) -> tuple[list[Path], list[Path]]:
    if path.is_file():
        return [path], []
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    return [p for p in files if p.suffix.lower() == ".txt"], [p for p in files if p.suffix.lower() != ".txt"]


def table_rows(path: Path, fmt: str, mapping: ReportMapping) -> list[tuple[int, dict[str, Any] | str]]:
    """(row number, row or an error message) for each row of a table of reports."""
    data = path.read_bytes()
    if not data.strip():
        raise FileError(f"{path}: the file is empty")
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(pa.BufferReader(data))
        except (pa.ArrowException, OSError) as e:
            raise FileError(f"{path}: unreadable Parquet ({str(e).splitlines()[0]})") from None
        rows: list[tuple[int, dict[str, Any] | str]] = list(enumerate(table.to_pylist(), start=1))
        header = list(table.column_names)
    else:
        try:
            text = decode_report(data)
        except UnreadableReport as e:
            raise FileError(f"{path}: {e}") from None
        if fmt == "jsonl":
            rows = []
            for n, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError as e:
                        obj = f"invalid JSON: {e.msg} at column {e.colno}"
                    rows.append((n, obj if isinstance(obj, dict | str) else "expected a JSON object"))
            header = sorted({k for _, r in rows if isinstance(r, dict) for k in r})
        else:
            delim = mapping.delimiter or ("\t" if path.suffix.lower() == ".tsv" else ",")
            try:
                records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
            except csv.Error as e:
                raise FileError(f"{path}: unreadable CSV ({e})") from None
            header = [c.strip() for c in records[0]]
            rows = [(n, dict(zip(header, cells, strict=False)) if len(cells) == len(header) else
                     f"row has {len(cells)} cells, the header has {len(header)}")
                    for n, cells in enumerate(records[1:], start=2) if any(c.strip() for c in cells)]
    missing = [c for c in (mapping.text, mapping.study_id) if c not in header]
    if missing:
        raise FileError(f"{path}: no column {', '.join(repr(c) for c in missing)} (columns: "
                        f"{', '.join(header) or 'none'}); name the columns with --mapping")
    return rows
