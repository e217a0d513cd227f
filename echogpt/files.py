"""JSONL files: strict reading, atomic writing, and the data hash training records.

``FileError`` is the one error for a file that cannot be read at all (exit 2 in the CLI).

    write_jsonl(studies, "train.jsonl"); rows = read_jsonl("train.jsonl"); h = data_hash("train.jsonl")
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel


class FileError(Exception):
    """A file that cannot be read (missing, wrong encoding, malformed, empty); one-line message."""


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
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        raise FileError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise FileError(f"{path}: not UTF-8 text (byte offset {e.start})") from None
    except OSError as e:
        raise FileError(f"{path}: cannot read it ({e.strerror or e})") from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise FileError(f"{path} line {number}: invalid JSON ({e.msg})") from None
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
