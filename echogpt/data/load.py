"""Study import and validation (JSONL, JSON, CSV, Parquet) with row-numbered rejects.

Every row either becomes a :class:`~echogpt.schemas.Study` or a :class:`RejectedRow` carrying
its row number, the raw row and each error; nothing is dropped. An unreadable file raises
:class:`FileError` (exit 2 in ``echogpt validate``).

    result = load_studies("studies.csv", mapping="lab.mapping.json"); write_rejects(result.rejects, "r.jsonl")
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field

from echogpt.data.mapping import (
    ColumnMapping,
    MappingError,
    field_path_problem,
    header_problems,
    load_mapping,
    to_record,
)
from echogpt.data.splits import split_by_patient
from echogpt.files import (
    FileError,
    data_hash,
    decode_text,
    jsonable,
    parse_json,
    read_bytes,
    read_jsonl,
    write_jsonl,
)
from echogpt.schemas import Study

__all__ = ["FileError", "FieldError", "RejectedRow", "ImportResult", "load_studies",
           "load_studies_bytes", "write_rejects", "read_jsonl", "write_jsonl", "data_hash",
           "split_by_patient"]

Format = Literal["jsonl", "json", "csv", "parquet"]
FORMATS: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv",
                              ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}
"""File suffix -> format."""

NUMBERING: dict[Format, str] = {
    "jsonl": "JSONL lines, first line = 1",
    "json": "array items, first item = 1",
    "csv": "CSV rows, header = row 1, first data row = 2",
    "parquet": "Parquet rows, first row = 1",
}
"""How row numbers count, per format (said in every message that gives a row number)."""

MAX_FILE_BYTES = 2**30
"""1 GiB: the largest study file read at once (it takes about eight times its size in memory
while validated); a larger export is split into parts."""

_ROW_WORD: dict[Format, str] = {"jsonl": "line", "json": "item", "csv": "row", "parquet": "row"}


class FieldError(BaseModel):
    """One reason a row was rejected."""

    model_config = ConfigDict(extra="forbid")
    field: str = Field(description="Dotted Study field path ('' for the whole row)")
    type: str = Field(description="Error type, e.g. implausible_value, missing, json_invalid")
    message: str
    value: Any = Field(None, description="The offending value as read")
    expected: str | None = Field(None, description="Allowed range or values, when known")
    column: str | None = Field(None, description="Source column, when it differs from field")


class RejectedRow(BaseModel):
    """A row that did not become a Study, with every reason."""

    model_config = ConfigDict(extra="forbid")
    row: int = Field(description="1-based row number; see 'numbering'")
    numbering: str = Field(description="How rows are counted in this file")
    study_id: str | None = Field(None, description="The row's study_id, if it could be read")
    raw: Any = Field(description="The original row: an object, a list of CSV cells or the line text")
    errors: list[FieldError] = Field(min_length=1)

    def reason(self) -> str:
        """One line: row number, then each error's field and message."""
        word = {"JSONL": "line", "array": "item"}.get(self.numbering.split(" ", 1)[0], "row")
        parts = [f"{e.field or '(row)'}: {e.message}" for e in self.errors]
        return f"{word} {self.row}: " + "; ".join(parts)


class ImportResult(BaseModel):
    """The outcome of reading one file: valid studies, rejected rows, where they came from."""

    model_config = ConfigDict(extra="forbid")
    source: str
    format: Format
    numbering: str
    studies: list[Study] = Field(default_factory=list)
    rejects: list[RejectedRow] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def counts(self) -> dict[str, int]:
        """rows read, valid and rejected (rows == valid + rejected)."""
        return {"rows": len(self.studies) + len(self.rejects), "valid": len(self.studies),
                "rejected": len(self.rejects)}


def detect_format(name: str) -> Format:
    """The format of a file from its suffix.

    Raises:
        FileError: for a suffix that is not .jsonl/.ndjson/.json/.csv/.tsv/.parquet/.pq.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise FileError(f"{name}: unknown file type '{suffix or '(none)'}'; use one of "
                        f"{', '.join(FORMATS)}")
    return FORMATS[suffix]


def load_studies(path: str | Path, mapping: str | Path | dict[str, Any] | ColumnMapping | None = None
                 ) -> ImportResult:
    """Read and validate every row of a study file.

    Args:
        path: a .jsonl, .json, .csv, .tsv or .parquet file.
        mapping: a column-mapping file (or parsed mapping); None when the columns are already
            Study field paths (``measurements.lvidd``).

    Returns:
        The valid studies and the rejected rows (row number, raw row, every error).

    Raises:
        FileError: the file or the mapping cannot be read, is empty, or lacks a required column.
    """
    path = Path(path)
    fmt = detect_format(path.name)
    data = read_bytes(path, limit=MAX_FILE_BYTES)
    return load_studies_bytes(data, str(path), mapping=mapping, fmt=fmt)


def load_studies_bytes(data: bytes, name: str,
                       mapping: str | Path | dict[str, Any] | ColumnMapping | None = None,
                       fmt: Format | None = None) -> ImportResult:
    """Like :func:`load_studies` for file contents in memory (e.g. an upload in the app).

    Args:
        data: the file's bytes.
        name: the file name (its suffix picks the format unless ``fmt`` is given).
        mapping: a column-mapping file or parsed mapping, or None.
        fmt: the format, overriding the suffix.

    Returns:
        The valid studies and the rejected rows.

    Raises:
        FileError: unreadable, empty or headerless content, or an unusable mapping.
    """
    fmt = fmt or detect_format(name)
    try:
        cols = load_mapping(mapping) if mapping is not None else None
    except MappingError as e:
        raise FileError(str(e)) from None
    if not data.strip():
        raise FileError(f"{name}: the file is empty")
    if fmt == "parquet":
        rows, tabular = _parquet_rows(data, name, cols), True
    else:
        text = decode_text(data, name)
        if fmt == "csv":
            delimiter = (cols.delimiter if cols and cols.delimiter else
                         "\t" if name.lower().endswith(".tsv") else ",")
            rows, tabular = _csv_rows(text, name, cols, delimiter), True
        elif fmt == "json":
            rows, tabular = _json_rows(text, name), False
        else:
            rows, tabular = _jsonl_rows(text), False
    if not rows:
        raise FileError(f"{name}: no data rows")
    return _validate_rows(rows, name, fmt, cols, tabular)


# ---------------------------------------------------------------- readers
# Each reader yields (row number, raw row, parsed object or a FieldError).

Row = tuple[int, Any, "dict[str, Any] | FieldError"]


def _jsonl_rows(text: str) -> list[Row]:
    rows: list[Row] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            parsed = _parse_object(line)
            # the raw row is the object as read, or the line's text when it is no JSON object
            rows.append((number, line if isinstance(parsed, FieldError) else parsed, parsed))
    return rows


def _parse_object(text: str) -> dict[str, Any] | FieldError:
    try:
        obj = parse_json(text, constants=False)
    except ValueError as e:
        msg = f"invalid JSON: {e.msg} at column {e.colno}" if isinstance(e, json.JSONDecodeError) \
            else f"invalid JSON: {e}"
        return FieldError(field="", type="json_invalid", message=msg, value=text[:200])
    if not isinstance(obj, dict):
        return FieldError(field="", type="not_an_object", value=jsonable(obj),
                          message=f"expected a JSON object, got {type(obj).__name__}")
    try:  # a "\ud800" escape decodes to text that cannot be encoded (nor reported) again
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as e:
        return FieldError(field="", type="invalid_unicode", value=text[:200],
                          message=f"invalid JSON text: unpaired surrogate escape "
                                  f"\\u{ord(e.object[e.start]):04x}")
    return obj


def _json_rows(text: str, name: str) -> list[Row]:
    try:
        doc = parse_json(text, constants=False)
    except ValueError as e:
        raise FileError(f"{name}: not valid JSON ({str(e).splitlines()[0]}); use .jsonl for one "
                        "object per line") from None
    items = doc if isinstance(doc, list) else [doc]
    rows: list[Row] = []
    for number, item in enumerate(items, start=1):
        parsed = item if isinstance(item, dict) else FieldError(
            field="", type="not_an_object", value=jsonable(item),
            message=f"expected a JSON object, got {type(item).__name__}")
        rows.append((number, jsonable(item), parsed))
    return rows


def _csv_rows(text: str, name: str, mapping: ColumnMapping | None, delimiter: str) -> list[Row]:
    records = _csv_records(text, name, delimiter)
    if not records or isinstance(records[0][2], FieldError) or not any(c.strip() for c in records[0][2]):
        raise FileError(f"{name}: the first row must be a header naming the columns")
    header = [c.strip() for c in records[0][2]]
    problems = header_problems(header, mapping)
    if problems:
        raise FileError(f"{name}: " + "; ".join(problems))
    rows: list[Row] = []
    for number, raw, cells in records[1:]:
        if isinstance(cells, FieldError):
            rows.append((number, raw, cells))
        elif not any(c.strip() for c in cells):
            continue  # a blank line is not a row (its number is still counted)
        elif len(cells) != len(header):
            rows.append((number, cells, FieldError(
                field="", type="row_length", value=None, expected=f"{len(header)} cells",
                message=f"row has {len(cells)} cells, the header has {len(header)}")))
        else:
            row = dict(zip(header, cells, strict=True))
            rows.append((number, row, row))
    return rows


def _csv_records(text: str, name: str, delimiter: str) -> list[tuple[int, Any, list[str] | FieldError]]:
    """(row number, raw, cells) per CSV row, header = row 1; a row with a stray quote is a FieldError.

    A quote left open swallows every row after it, so where its field was meant to end cannot be
    known: that is an error for the whole file (naming the row and line it opened on), never a
    guess at the rows after it.
    """
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, Any, list[str] | FieldError]] = []
    while True:
        start = reader.line_num + 1  # the physical line this row begins on
        try:
            cells = next(reader)
        except StopIteration:
            return records
        except csv.Error as e:
            where = f"row {len(records) + 1} (line {start})"
            if "end of data" in str(e):
                raise FileError(f"{name}: {where}: a quoted field opened there is never closed, so "
                                "the rows after it cannot be told apart; close the quote (a quote "
                                "inside a quoted field is written twice: \"\")") from None
            if "field limit" in str(e):
                raise FileError(f"{name}: {where}: a field longer than {csv.field_size_limit()} "
                                "characters (a quote left open?)") from None
            raw = "".join(lines[start - 1:reader.line_num]).rstrip("\r\n")
            records.append((len(records) + 1, raw, FieldError(
                field="", type="csv_syntax", value=raw[:200],
                message=f"malformed CSV on line {start}: {e} (a quote inside a quoted field is "
                        "written twice: \"\")")))
            continue
        records.append((len(records) + 1, cells, cells))


def _parquet_rows(data: bytes, name: str, mapping: ColumnMapping | None) -> list[Row]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if data[:4] != b"PAR1" or data[-4:] != b"PAR1":
        raise FileError(f"{name}: not a Parquet file (no PAR1 marker)")
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as e:
        raise FileError(f"{name}: unreadable Parquet ({str(e).splitlines()[0]})") from None
    problems = header_problems(list(table.column_names), mapping)
    if problems:
        raise FileError(f"{name}: " + "; ".join(problems))
    return [(n, jsonable(r), r) for n, r in enumerate(table.to_pylist(), start=1)]


# ---------------------------------------------------------------- validation


def _validate_rows(rows: list[Row], name: str, fmt: Format, mapping: ColumnMapping | None,
                   tabular: bool) -> ImportResult:
    result = ImportResult(source=name, format=fmt, numbering=NUMBERING[fmt])
    first_row: dict[str, int] = {}
    word = _ROW_WORD[fmt]
    for number, raw, parsed in rows:
        errors: list[FieldError] = []
        if isinstance(parsed, FieldError):
            errors.append(parsed)
        else:
            record, columns, conflicts = to_record(parsed, mapping, tabular)
            errors += [FieldError(field=f, type="conflicting_columns", message=m,
                                  column=c if c != f else None) for f, c, m in conflicts]
            try:
                study = Study.model_validate(record)
            except ValidationError as e:
                errors += [_field_error(err, columns) for err in e.errors(include_url=False)]
            else:
                if not errors and study.study_id in first_row:
                    errors.append(FieldError(
                        field="study_id", type="duplicate_study_id", value=study.study_id,
                        column=columns.get("study_id"),
                        message=f"study_id '{study.study_id}' already used by {word} "
                                f"{first_row[study.study_id]}; the first one is kept"))
                elif not errors:
                    first_row[study.study_id] = number
                    result.studies.append(study)
                    continue
        result.rejects.append(RejectedRow(row=number, numbering=NUMBERING[fmt], raw=jsonable(raw),
                                          study_id=_raw_id(parsed, mapping), errors=errors))
    return result


def _raw_id(parsed: Any, mapping: ColumnMapping | None) -> str | None:
    if not isinstance(parsed, dict):
        return None
    keys = [s.column for s in mapping.columns if s.field == "study_id"] if mapping else []
    for key in [*keys, "study_id"]:
        value = parsed.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None


def _field_error(err: Any, columns: dict[str, str]) -> FieldError:
    field = ".".join(str(p) for p in err["loc"])
    ctx = err.get("ctx") or {}
    kind = err["type"]
    # name the source column only where a mapping renamed it (else it is the field path itself)
    column = next((c for f, c in columns.items()
                   if c != f and (field == f or field.startswith(f + "."))), None)
    return FieldError(field=field, type=kind, message=err["msg"],
                      value=None if kind == "missing" else jsonable(err.get("input")),
                      expected=_expected(kind, ctx, field), column=column)


def _expected(kind: str, ctx: dict[str, Any], field: str) -> str | None:
    if "min" in ctx and "max" in ctx:
        unit = ctx.get("unit") or ""
        return f"{ctx['min']:g}-{ctx['max']:g} {unit}".strip()
    if "allowed" in ctx:
        allowed = ctx["allowed"]
        return "one of: " + (", ".join(map(str, allowed)) if isinstance(allowed, list) else str(allowed))
    if "expected" in ctx:
        return str(ctx["expected"])
    bounds = [f"{op} {ctx[k]}" for k, op in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
              if k in ctx]
    if bounds:
        return " and ".join(bounds)
    if kind == "missing":
        return "a value (required)"
    if kind == "extra_forbidden":
        return _suggest(field)
    return None


def _suggest(field: str) -> str:
    problem = field_path_problem(field) or ""
    if "did you mean" in problem:
        return problem.split("; ")[-1]
    parent = field.rsplit(".", 1)[0] if "." in field else "Study"
    return f"a field of {parent} (see data_schemas/study.schema.json)"


def write_rejects(rejects: list[RejectedRow], path: str | Path) -> Path:
    """Write rejected rows as JSONL (one row per line: row, numbering, study_id, raw, errors).

    Args:
        rejects: the rejected rows (an empty list writes an empty file).
        path: output file; written atomically.

    Returns:
        The path written.
    """
    return write_jsonl(rejects, path)
