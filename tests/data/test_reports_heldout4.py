"""The fourth held-out report set imports without errors and its annotation is well-formed.

Like the third set's test, it does not pin how the importer cuts each impression today: the set
exists to measure importer and checker changes, so a better import must not fail it.
"""

from __future__ import annotations

import json
from pathlib import Path

from echogpt.data.reports import read_reports

HELDOUT4 = Path(__file__).resolve().parents[1] / "fixtures" / "reports_heldout4"
STYLES = sorted(p.name for p in HELDOUT4.iterdir() if (p / "expected.jsonl").exists())
LABELS = {"supported", "not_factual", "not_checked"}
KEYS = {"report", "style", "correct", "impression_imported", "statements"}


def _rows(style: str) -> list[dict]:
    lines = (HELDOUT4 / style / "expected.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_fourth_heldout_set_has_four_styles_of_twelve_reports() -> None:
    assert STYLES == ["bse", "icu", "oncology", "valveclinic"]
    assert all(len(list((HELDOUT4 / s).glob("*.txt"))) == 12 for s in STYLES)


def test_every_report_imports_without_error() -> None:
    for style in STYLES:
        result = read_reports(HELDOUT4 / style)
        assert not result.errors and result.exit_code == 0, result.lines()
        names = sorted(f"{s.study_id}.txt" for s in result.studies)
        assert names == sorted(p.name for p in (HELDOUT4 / style).glob("*.txt"))


def test_annotation_is_well_formed_with_one_row_per_report() -> None:
    for style in STYLES:
        rows = _rows(style)
        assert sorted(r["report"] for r in rows) == sorted(p.name for p in (HELDOUT4 / style).glob("*.txt"))
        for row in rows:
            assert set(row) == KEYS, row["report"]
            assert row["style"] == style and row["correct"] is True, row["report"]
            assert isinstance(row["impression_imported"], bool), row["report"]
            assert row["statements"], row["report"]
            for statement in row["statements"]:
                assert set(statement) == {"text", "expected"}, row["report"]
                assert statement["text"].strip() and statement["expected"] in LABELS, row["report"]
