"""The second held-out report set imports without errors and its annotation matches the import's cut.

Where the importer finds no impression (a summary heading it does not know), the annotation carries
``"impression_imported": false`` and the statements of the summary the report was written with;
once the importer finds that impression, its cut must lie within the annotation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from echogpt.data.report_text import parse_report
from echogpt.data.reports import read_reports
from echogpt.text import split_statements

HELDOUT2 = Path(__file__).resolve().parents[1] / "fixtures" / "reports_heldout2"
STYLES = sorted(p.name for p in HELDOUT2.iterdir() if (p / "expected.jsonl").exists())
LABELS = {"supported", "not_factual", "not_checked"}


def test_second_heldout_set_has_four_styles_of_at_least_fifteen_reports() -> None:
    assert len(STYLES) >= 4
    assert all(len(list((HELDOUT2 / s).glob("*.txt"))) >= 15 for s in STYLES)


def _flat(text: str) -> str:
    """Whitespace collapsed, so that a statement is found in a text whatever its line breaks."""
    return re.sub(r"\s+", " ", text).strip()


def test_every_report_imports_and_its_annotation_covers_the_imported_impression() -> None:
    """Robust to importer and splitter improvements: each imported statement lies inside the annotated
    statements (the same cut, a finer or a coarser one), and no statement annotated supported is lost:
    it is still in the impression, or the import now (rightly) keeps it in the findings or history."""
    for style in STYLES:
        result = read_reports(HELDOUT2 / style)
        assert not result.errors and result.exit_code == 0, result.lines()
        rows = [json.loads(x) for x in (HELDOUT2 / style / "expected.jsonl").read_text("utf-8").splitlines()]
        by_id = {s.study_id: s for s in result.studies}
        assert sorted(r["report"] for r in rows) == sorted(f"{i}.txt" for i in by_id)
        for row in rows:
            study = by_id[row["report"].removesuffix(".txt")]
            assert row["statements"] and {s["expected"] for s in row["statements"]} <= LABELS
            if not study.impression:  # an impression found once is never lost again
                assert row["impression_imported"] is False, row["report"]
                continue
            annotated = " ".join(_flat(s["text"]) for s in row["statements"])
            for cut in split_statements(study.impression):  # the same cut, a finer or a coarser one
                assert _flat(cut.text) in annotated, (row["report"], cut.text)
            parsed = parse_report((HELDOUT2 / style / row["report"]).read_text("utf-8"))
            history = " ".join(sec.text for sec in parsed.sections if sec.kind in ("history", "indication"))
            kept = " ".join(_flat(t) for t in (study.impression, study.findings_text, history))
            lost = [
                s["text"]
                for s in row["statements"]
                if s["expected"] == "supported" and _flat(s["text"]) not in kept
            ]
            assert not lost, (row["report"], lost)
