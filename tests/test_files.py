"""Core file helpers: bounded reading, JSON/YAML nesting bound, and CSV cells kept inert."""

from __future__ import annotations

from pathlib import Path

import pytest

from echogpt.files import (
    MAX_DEPTH,
    FileError,
    check_depth,
    csv_safe,
    parse_json,
    parse_yaml,
    read_bytes,
    read_jsonl,
)

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 500, 990, 100_000])
def test_json_nested_past_the_bound_is_one_value_error(depth: int) -> None:
    with pytest.raises(ValueError, match=f"nested more than {MAX_DEPTH} levels"):
        parse_json("[" * depth + "]" * depth)


def test_json_at_the_bound_and_constants() -> None:
    assert check_depth(parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH)) is None
    assert parse_json('{"a": NaN}')["a"] != 0
    with pytest.raises(ValueError, match="NaN is not valid JSON"):
        parse_json('{"a": NaN}', constants=False)


def test_yaml_nested_past_the_bound_is_one_value_error() -> None:
    with pytest.raises(ValueError, match="nested more than"):
        parse_yaml(DEEP)
    assert parse_yaml("a: [1, {b: 2}]") == {"a": [1, {"b": 2}]}


def test_read_jsonl_deep_line_names_it(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n{"a": ' + DEEP + "}\n", encoding="utf-8")
    with pytest.raises(FileError, match="line 2: invalid JSON .*nested more than"):
        read_jsonl(path)


def test_read_bytes_refuses_folders_missing_and_oversized(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="is a folder"):
        read_bytes(tmp_path)
    with pytest.raises(FileError, match="no such file"):
        read_bytes(tmp_path / "nope")
    path = tmp_path / "x"
    path.write_bytes(b"x" * 2049)
    assert read_bytes(path, limit=2049) == b"x" * 2049
    with pytest.raises(FileError, match="larger than 2 KiB"):
        read_bytes(path, limit=2048)
    with pytest.raises(FileError, match="larger than 1 MiB"):
        read_bytes("/dev/zero", limit=2**20)  # an endless file is read only up to the bound


@pytest.mark.parametrize(("cell", "written"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("Normal LV. =1", "Normal LV. =1"),
    ("-1.5", "-1.5"),
    ("+3", "+3"),
    ("-2e-3", "-2e-3"),
    ("", ""),
    (-1.5, -1.5),
    (None, None),
])
def test_csv_safe(cell: object, written: object) -> None:
    assert csv_safe(cell) == written
