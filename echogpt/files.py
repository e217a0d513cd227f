"""Files in and out: bounded reading, strict JSON/JSONL/YAML parsing, atomic writing, CSV cells made
inert for spreadsheets, and the data hash training records.

``FileError`` is the one error for a file that cannot be read at all (exit 2 in the CLI).

    write_jsonl(studies, "train.jsonl"); rows = read_jsonl("train.jsonl"); h = data_hash("train.jsonl")
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel


class FileError(Exception):
    """A file that cannot be read (missing, wrong encoding, malformed, empty); one-line message."""


MAX_DEPTH = 64
"""Deepest nesting of lists and objects accepted in JSON or YAML input. A Study nests three
levels; input nested hundreds deep would exhaust Python's recursion limit in the code after it."""


def read_bytes(path: str | Path, limit: int | None = None) -> bytes:
    """A file's bytes, reading at most ``limit`` + 1 of them.

    Args:
        path: the file.
        limit: the largest size accepted, in bytes (None: any size).

    Returns:
        The contents.

    Raises:
        FileError: a missing file, a folder, an unreadable file, or one larger than ``limit``.
    """
    path = Path(path)
    if path.is_dir():
        raise FileError(f"{path}: is a folder, not a file")
    try:
        with path.open("rb") as fh:
            data = fh.read(-1 if limit is None else limit + 1)
    except FileNotFoundError:
        raise FileError(f"{path}: no such file") from None
    except OSError as e:
        raise FileError(f"{path}: cannot read it ({e.strerror or e})") from None
    if limit is not None and len(data) > limit:
        raise FileError(f"{path}: larger than {_size(limit)}, the most accepted here")
    return data


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} bytes"


def decode_text(data: bytes, name: str) -> str:
    """The bytes as UTF-8 text (a byte-order mark dropped).

    Raises:
        FileError: bytes that are not UTF-8 (naming the line of the first bad byte), or text
            holding NUL characters (a binary or UTF-16 file).
    """
    if data[:4] == b"PAR1":
        raise FileError(f"{name}: this is a Parquet file, not text; give it a .parquet name")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise FileError(f"{name}: not UTF-8 text (byte 0x{data[e.start]:02x} on line {line}); "
                        "save the file as UTF-8") from None
    if "\x00" in text:
        raise FileError(f"{name}: contains NUL bytes (a binary or UTF-16 file?); save it as UTF-8 "
                        "text")
    return text


def parse_json(text: str, *, constants: bool = True) -> Any:
    """``json.loads`` that fails with one ``ValueError`` for any malformed input.

    Args:
        text: JSON text.
        constants: accept ``NaN`` and ``Infinity`` (not JSON, but Python writes them).

    Returns:
        The parsed value.

    Raises:
        ValueError: invalid JSON (a ``json.JSONDecodeError``), a constant where none is allowed,
            or nesting deeper than ``MAX_DEPTH``.
    """
    try:
        value = json.loads(text) if constants else json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from None
    check_depth(value)
    return value


def parse_yaml(text: str) -> Any:
    """``yaml.safe_load`` with the nesting bound of :func:`parse_json`.

    Raises:
        yaml.YAMLError: invalid YAML.
        ValueError: nesting deeper than ``MAX_DEPTH``.
    """
    import yaml

    try:
        value = yaml.safe_load(text)
    except RecursionError:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from None
    check_depth(value)
    return value


def check_depth(value: Any) -> None:
    """Raise ``ValueError`` when lists and dicts nest deeper than ``MAX_DEPTH`` (checked without
    recursion, so it never exhausts the stack itself)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > MAX_DEPTH:
            raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
        stack.extend((child, depth + 1) for child in children)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def csv_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    apostrophe (OWASP, "CSV Injection"); numbers, and text that is just a number such as
    ``-1.5``, are left as they are.

    Args:
        value: one cell.

    Returns:
        The cell to write.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def jsonable(value: Any) -> Any:
    """The value as plain JSON: non-finite floats, dates and other objects become text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)


def _record(record: Any, exclude_none: bool) -> Any:
    if isinstance(record, BaseModel):
        return record.model_dump(mode="json", exclude_none=exclude_none)
    return record


def _line(record: Any, exclude_none: bool) -> str:
    return json.dumps(_record(record, exclude_none), ensure_ascii=False, allow_nan=False)


def write_jsonl(records: Iterable[Any], path: str | Path, exclude_none: bool = False) -> Path:
    """Write records (pydantic models or plain dicts) one per line, atomically.

    The lines go to a temporary file in the same folder, which then replaces ``path``, so a
    reader never sees half a file and a failed write leaves the old file in place.

    Args:
        records: models (dumped in JSON mode) or JSON-ready dicts.
        path: the output file; its folder is created.
        exclude_none: leave out fields that are None (compact canonical study records).

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for record in records:
                fh.write(_line(record, exclude_none) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read a JSONL file of objects (blank lines skipped).

    Args:
        path: the file.

    Returns:
        One dict per non-blank line.

    Raises:
        FileError: missing file, not UTF-8, or a line that is not a JSON object (with its
            1-based line number).
    """
    path = Path(path)
    text = decode_text(read_bytes(path), str(path))
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = parse_json(line)
        except ValueError as e:
            raise FileError(f"{path} line {number}: invalid JSON ({getattr(e, 'msg', e)})") from None
        if not isinstance(obj, dict):
            raise FileError(f"{path} line {number}: expected a JSON object, got {type(obj).__name__}")
        rows.append(obj)
    return rows


def data_hash(path_or_records: str | Path | Iterable[Any]) -> str:
    """SHA-256 identifying training or evaluation data, recorded next to every run's outputs: the
    one data hash, so an adapter's ``train_hash`` (``echogpt_adapter.json``) and an evaluation's
    ``studies_hash`` (``metrics.json``) of the same file are equal.

    A ``.jsonl`` file hashes its records (key order and whitespace do not matter), so
    ``data_hash("x.jsonl") == data_hash(read_jsonl("x.jsonl"))``; any other file hashes its bytes;
    a folder hashes its files' names and hashes; records (models or dicts) hash their canonical JSON.

    Args:
        path_or_records: a file, a folder, or an iterable of records.

    Returns:
        64 hex digits.

    Raises:
        FileError: a path that does not exist or cannot be read.
    """
    digest = hashlib.sha256()
    if isinstance(path_or_records, str | Path):
        path = Path(path_or_records)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                digest.update(f"{child.relative_to(path).as_posix()}\0{data_hash(child)}\n".encode())
            return digest.hexdigest()
        if not path.exists():
            raise FileError(f"{path}: no such file")
        if path.suffix.lower() not in (".jsonl", ".ndjson"):
            try:
                return hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as e:
                raise FileError(f"{path}: cannot read it ({e.strerror or e})") from None
        path_or_records = read_jsonl(path)
    for record in path_or_records:
        canonical = json.dumps(_record(record, exclude_none=False), sort_keys=True,
                               separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        digest.update(canonical.encode("utf-8") + b"\n")
    return digest.hexdigest()


def whole_lines(path: Path) -> str:
    """The text of a file appended to line by line, with a torn last line (a write killed midway)
    cut off the file first; "" when the file does not exist.

    Args:
        path: A JSONL output that a resumable command appends to.

    Returns:
        Its whole lines.
    """
    if not path.is_file():
        return ""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        logging.getLogger(__name__).warning("dropping a torn last line from %s", path)
        with open(path, "r+b") as f:
            f.truncate(cut)
        data = data[:cut]
    return data.decode("utf-8")


def append_line(handle: Any, line: str) -> None:
    """Write one line and flush it to disk, so that a kill leaves only whole lines behind."""
    handle.write(line + "\n")
    handle.flush()
    os.fsync(handle.fileno())

