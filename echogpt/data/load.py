"""Study import and validation (JSONL, JSON, CSV, Parquet) with row-numbered rejects.

Every row either becomes a :class:`~echogpt.schemas.Study` or a :class:`RejectedRow` carrying
its row number, the raw row and each error; nothing is dropped. An unreadable file raises
:class:`FileError` (exit 2 in ``echogpt validate``). The format readers live in ``row_readers``,
the result records in ``import_result`` (re-exported here).

    result = load_studies("studies.csv", mapping="lab.mapping.json"); write_rejects(result.rejects, "r.jsonl")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from echogpt.data.import_result import NUMBERING, FieldError, Format, ImportResult, RejectedRow
from echogpt.data.mapping import (
    ColumnMapping,
    MappingError,
    field_path_problem,
    load_mapping,
    to_record,
)
from echogpt.data.row_readers import Row, csv_rows, json_rows, jsonl_rows, parquet_rows
from echogpt.data.splits import split_by_patient
from echogpt.files import (
    FileError,
    data_hash,
    decode_text,
    jsonable,
    read_bytes,
    read_jsonl,
    write_jsonl,
)
from echogpt.schemas import Study

__all__ = ["FileError", "FieldError", "RejectedRow", "ImportResult", "load_studies",
           "load_studies_bytes", "write_rejects", "read_jsonl", "write_jsonl", "data_hash",
           "split_by_patient"]

FORMATS: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv",
                              ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}
"""File suffix -> format."""

MAX_FILE_BYTES = 2**30
"""1 GiB: the largest study file read at once (it takes about eight times its size in memory
while validated); a larger export is split into parts."""

_ROW_WORD: dict[Format, str] = {"jsonl": "line", "json": "item", "csv": "row", "parquet": "row"}


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
        rows, tabular = parquet_rows(data, name, cols), True
    else:
        text = decode_text(data, name)
        if fmt == "csv":
            delimiter = (cols.delimiter if cols and cols.delimiter else
                         "\t" if name.lower().endswith(".tsv") else ",")
            rows, tabular = csv_rows(text, name, cols, delimiter), True
        elif fmt == "json":
            rows, tabular = json_rows(text, name), False
        else:
            rows, tabular = jsonl_rows(text), False
    if not rows:
        raise FileError(f"{name}: no data rows")
    return _validate_rows(rows, name, fmt, cols, tabular)


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
