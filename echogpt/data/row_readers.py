"""Readers of the study file formats (JSONL, JSON, CSV/TSV, Parquet): each yields
(row number, raw row, parsed object or a :class:`FieldError`); an unreadable file raises FileError.

    rows = csv_rows(text, "studies.csv", mapping=None, delimiter=",")
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from echogpt.data.import_result import FieldError
from echogpt.data.mapping import ColumnMapping, header_problems
from echogpt.files import FileError, jsonable, parse_json

# Each reader yields (row number, raw row, parsed object or a FieldError).

Row = tuple[int, Any, "dict[str, Any] | FieldError"]


def jsonl_rows(text: str) -> list[Row]:
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


def json_rows(text: str, name: str) -> list[Row]:
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


def csv_rows(text: str, name: str, mapping: ColumnMapping | None, delimiter: str) -> list[Row]:
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


def parquet_rows(data: bytes, name: str, mapping: ColumnMapping | None) -> list[Row]:
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
