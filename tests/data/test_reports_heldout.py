"""The held-out report set imports whole and its annotation matches the statements the import cuts."""

from __future__ import annotations

import json
from pathlib import Path

from echogpt.data.reports import read_reports
from echogpt.text import split_statements

HELDOUT = Path(__file__).resolve().parents[1] / "fixtures" / "reports_heldout"
# two letterhead lines of a sign-off annotated `supported` when they were still cut into the impression
SIGNATURE_LINES = {"Director, Heart Valve Clinic", "Structural Heart and Valve Clinic"}
STYLES = sorted(p.name for p in HELDOUT.iterdir() if (p / "expected.jsonl").exists())


def test_every_heldout_report_imports_with_its_impression_and_annotated_statements() -> None:
    assert len(STYLES) >= 3
    for style in STYLES:
        result = read_reports(HELDOUT / style)
        assert not result.errors and result.exit_code == 0, result.lines()
        lines = (HELDOUT / style / "expected.jsonl").read_text("utf-8").splitlines()
        rows = [json.loads(line) for line in lines]
        assert len(rows) == len(result.studies) >= 20
        by_id = {s.study_id: s for s in result.studies}
        for row in rows:
            study = by_id[row["report"].removesuffix(".txt")]
            assert study.impression, row["report"]
            cut = [s.text for s in split_statements(study.impression)]
            kept = set(cut)
            annotated = [s["text"] for s in row["statements"]]
            # the annotation was written when the sign-off after the summary was still cut into the
            # impression; the import now keeps it aside, never a finding statement
            assert cut == [t for t in annotated if t in cut], row["report"]
            dropped = [s for s in row["statements"] if s["text"] not in kept | SIGNATURE_LINES]
            assert all(s["expected"] != "supported" for s in dropped), (row["report"], dropped)
            assert {s["expected"] for s in row["statements"]} <= {"supported", "not_factual", "not_checked"}
