"""The second held-out report set imports without errors and its annotation matches the import's cut.

Where the importer finds no impression (a summary heading it does not know), the annotation carries
``"impression_imported": false`` and the statements of the summary the report was written with;
once the importer finds that impression, its cut must equal the annotation.
"""

from __future__ import annotations

import json
from pathlib import Path

from echogpt.data.reports import read_reports
from echogpt.text import split_statements

HELDOUT2 = Path(__file__).resolve().parents[1] / "fixtures" / "reports_heldout2"
STYLES = sorted(p.name for p in HELDOUT2.iterdir() if (p / "expected.jsonl").exists())
LABELS = {"supported", "not_factual", "not_checked"}


def test_second_heldout_set_has_four_styles_of_at_least_fifteen_reports() -> None:
    assert len(STYLES) >= 4
    assert all(len(list((HELDOUT2 / s).glob("*.txt"))) >= 15 for s in STYLES)


def test_every_report_imports_and_its_annotation_matches_the_imported_impression() -> None:
    for style in STYLES:
        result = read_reports(HELDOUT2 / style)
        assert not result.errors and result.exit_code == 0, result.lines()
        rows = [json.loads(x) for x in (HELDOUT2 / style / "expected.jsonl").read_text("utf-8").splitlines()]
        by_id = {s.study_id: s for s in result.studies}
        assert sorted(r["report"] for r in rows) == sorted(f"{i}.txt" for i in by_id)
        for row in rows:
            study = by_id[row["report"].removesuffix(".txt")]
            assert row["statements"] and {s["expected"] for s in row["statements"]} <= LABELS
            if not study.impression:
                assert row["impression_imported"] is False, row["report"]
                continue
            assert row["impression_imported"] is True, row["report"]
            assert [s.text for s in split_statements(study.impression)] == [
                s["text"] for s in row["statements"]
            ], row["report"]
