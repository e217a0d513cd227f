"""Every CSV export keeps text from data inert: a cell that a spreadsheet would run as a formula
(=, +, -, @, tab, carriage return) is written with a leading apostrophe (``files.csv_safe``)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import _db
import pytest

from echogpt.schemas import Study

db_url, people, pg_url = _db.db_url, _db.people, _db.pg_url  # fixtures

FORMULAS = ["=HYPERLINK(\"http://127.0.0.1:9/x\",\"open\")", "+1+cmd|' /C calc'!A0", "-2+3",
            "@SUM(A1:A9)", "\t=1"]


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _inert(cells: list[str], formulas: list[str] = FORMULAS) -> None:
    """No cell starts a formula; the formulas are there, neutralised."""
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")
                or (c.startswith("-") and not c.lstrip("-").replace(".", "").isdigit())]
    for formula in formulas:
        assert "'" + formula in cells


def test_reader_ratings_export() -> None:
    from echogpt.reader.admin import ratings_csv

    rows = [{"reader": "r1", "case_id": f, "dimension": "correctness", "value": -2, "comment": f}
            for f in FORMULAS]
    text = ratings_csv(rows)
    _inert(_cells(text))
    assert "-2" in _cells(text)  # numbers stay numbers


def test_reader_analysis_tables(tmp_path: Path) -> None:
    from echogpt.reader import analysis_output
    from echogpt.reader import stats as reader_stats

    rows = [{"reader": f, "case_id": f"c{i}", "position": i, "kind": "ab", "dimension": "correctness",
             "value": (i % 5) - 2, "source_a": "X", "source_b": "Y", "design_a": "X", "design_b": "Y",
             "toward_design_b": (i % 5) - 2, "comment": None, "seconds": 10.0}
            for i, f in enumerate(FORMULAS * 2)]
    res = reader_stats.analyze_rows("t", rows, None, None)
    analysis_output.write_analysis(res, tmp_path)
    _inert(_cells((tmp_path / "per_reader.csv").read_text(encoding="utf-8")))


def test_batch_results_export(people) -> None:
    from echogpt.batch import jobs as batch
    from echogpt.batch import worker as batch_worker

    studies = [Study(study_id=f + people.tag, findings_text="Normal LV size and function, LVEF 60%.")
               for f in FORMULAS]
    job = batch.create_job(people.db, people.doc, studies, mode="template")
    batch_worker.run_worker(job.id, people.db.url)
    cells = _cells(batch.export_results(people.db, people.doc, job.id, "csv"))
    _inert(cells, [f.strip() + people.tag for f in FORMULAS])  # study ids are stripped


def test_evaluation_per_sample(tmp_path: Path) -> None:
    from echogpt.evaluation.suite import evaluate

    studies = [{"study_id": f, "findings_text": "Normal LV, EF 60%.", "impression": "1. Normal LV."}
               for f in FORMULAS]
    preds = [{"study_id": f, "mode": "template", "impression": "1. Normal LV.", "stopped": True}
             for f in FORMULAS]
    (tmp_path / "s.jsonl").write_text("".join(json.dumps(r) + "\n" for r in studies), encoding="utf-8")
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(r) + "\n" for r in preds), encoding="utf-8")
    evaluate(tmp_path / "s.jsonl", {"sys": tmp_path / "p.jsonl"}, tmp_path / "out",
             metrics=("rouge", "length"), n_boot=100)
    cells = _cells((tmp_path / "out" / "per_sample.csv").read_text(encoding="utf-8"))
    _inert(cells, [f.strip() for f in FORMULAS])  # study ids are stripped


@pytest.mark.parametrize("path", ["echogpt", "app"])
def test_every_csv_writer_goes_through_csv_safe(path: str) -> None:
    """A new CSV writer that forgets csv_safe fails here (losses.csv holds only numbers)."""
    root = Path(__file__).resolve().parents[1] / path
    numbers_only = {"model/train.py", "model/dpo.py"}
    for file in root.rglob("*.py"):
        text = file.read_text(encoding="utf-8")
        rel = file.relative_to(root).as_posix()
        if rel in numbers_only:
            continue
        for marker in ("csv.writer(", "DictWriter(", ".to_csv("):
            if marker in text:
                assert "csv_safe" in text, f"{path}/{rel} writes CSV without csv_safe"
