"""Bad input to the commands that read files: each is one line on stderr and exit 2, never a
traceback (validate, check, prompt)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from echogpt.cli import app

DEEP = "[" * 100_000 + "]" * 100_000
STUDY = {"study_id": "S1", "findings_text": "Normal left ventricular size and systolic function."}


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output


def _one_error_line(output: str) -> str:
    assert "Traceback" not in output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


@pytest.fixture
def study(tmp_path: Path) -> Path:
    path = tmp_path / "study.json"
    path.write_text(json.dumps(STUDY), encoding="utf-8")
    return path


def test_validate_unterminated_csv_quote_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text('study_id,findings_text\nS1,"unterminated quote\nS2,ok\n', encoding="utf-8")
    code, out = _run("validate", str(path))
    assert code == 2 and "row 2 (line 2)" in _one_error_line(out)
    assert not (tmp_path / "s.csv.rejects.jsonl").exists()


def test_validate_deep_json_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(DEEP, encoding="utf-8")
    code, out = _run("validate", str(path))
    assert code == 2 and "nested more than 64 levels" in _one_error_line(out)


def test_validate_a_folder_exits_2(tmp_path: Path) -> None:
    (tmp_path / "s.jsonl").mkdir()
    code, out = _run("validate", str(tmp_path / "s.jsonl"))
    assert code == 2 and "is a folder" in _one_error_line(out)


@pytest.mark.parametrize("content", [DEEP, '{"study_id": "S1", "findings_text": ' + DEEP + "}"],
                         ids=["array", "field"])
def test_check_deep_study_exits_2(tmp_path: Path, content: str) -> None:
    path = tmp_path / "deep.json"
    path.write_text(content, encoding="utf-8")
    code, out = _run("check", "--study", str(path), "--impression", "Normal LV size.")
    assert code == 2 and "nested more than 64 levels" in _one_error_line(out)
    code, out = _run("prompt", str(path))
    assert code == 2 and "nested more than 64 levels" in _one_error_line(out)


@pytest.mark.parametrize("data", [bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
                                  "Normal.".encode("utf-16")], ids=["bytes", "png", "utf16"])
def test_check_binary_impression_file_exits_2(tmp_path: Path, study: Path, data: bytes) -> None:
    path = tmp_path / "impression.bin"
    path.write_bytes(data)
    code, out = _run("check", "--study", str(study), "--impression", f"@{path}")
    line = _one_error_line(out)
    assert code == 2 and "impression file" in line and ("UTF-8" in line or "NUL" in line)


def test_check_folders_and_oversized_files_exit_2(tmp_path: Path, study: Path) -> None:
    code, out = _run("check", "--study", str(study), "--impression", f"@{tmp_path}")
    assert code == 2 and "is a folder" in _one_error_line(out)
    code, out = _run("check", "--study", str(tmp_path), "--impression", "Normal.")
    assert code == 2 and "is a folder" in _one_error_line(out)
    big = tmp_path / "big.txt"
    big.write_text("Normal left ventricular size. " * 40_000, encoding="utf-8")  # 1.2 MB
    code, out = _run("check", "--study", str(study), "--impression", f"@{big}")
    assert code == 2 and "larger than 1 MiB" in _one_error_line(out)


def test_check_a_good_impression_file_still_works(tmp_path: Path, study: Path) -> None:
    path = tmp_path / "impression.txt"
    path.write_text("1. Normal left ventricular size and systolic function.\n", encoding="utf-8")
    code, out = _run("check", "--study", str(study), "--impression", f"@{path}")
    assert code in (0, 1) and "Traceback" not in out and "error:" not in out
