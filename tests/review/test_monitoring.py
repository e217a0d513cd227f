"""Monitoring per adapter version and week from the review records (SQLite and PostgreSQL):
approved unedited, edit distance, flags per draft on the model's own text, critical omissions
caught at review; the CSV goes through ``files.csv_safe``."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import _db
from sqlalchemy import select

from echogpt.review import monitoring
from echogpt.review.tables import ReviewRow
from echogpt.schemas import CheckResult, Omission, StatementCheck, Study

db_url, people, pg_url = _db.db_url, _db.people, _db.pg_url  # fixtures

TAMPONADE = Omission(finding="cardiac tamponade", severity="critical", evidence="RV collapse")


def check(sid: str, verdict: str = "supported", omissions: list[Omission] | None = None) -> CheckResult:
    return CheckResult(study_id=sid, statements=[StatementCheck(
        text="Normal LV.", start=0, end=10, verdict=verdict, reason="test", facts=[])],
        omissions=omissions or [])


def test_weekly_figures_per_version(people):
    p = people
    v = p.db.register_adapter(p.admin, f"/adapters/m-{p.tag}", "sft", name=f"m-{p.tag}").name
    ids = [f"MON{i}-{p.tag}" for i in range(4)]
    p.db.import_studies(p.admin, [Study(study_id=i, findings_text="LVEF 60%.") for i in ids])
    # 1: approved unedited, clean
    d = p.db.save_draft(p.doc, ids[0], "1. Normal LV.", "m@1", f"{v} (sft)", None, check(ids[0]))
    p.db.approve(p.doc, d.id, d.version)
    # 2: the model left the tamponade out and said something unsupported; the reviewer fixed both
    d = p.db.save_draft(p.doc, ids[1], "1. Mild MR.", "m@1", f"/adapters/m-{p.tag}", None,
                        check(ids[1], "unsupported", [TAMPONADE]))
    d = p.db.edit_draft(p.doc, d.id, "1. Cardiac tamponade.", d.version, check(ids[1]))
    p.db.approve(p.doc, d.id, d.version)
    # 3: rejected; 4: the base model, a week earlier
    d = p.db.save_draft(p.doc, ids[2], "1. Bad.", "m@1", v, None, check(ids[2], "contradicted"))
    p.db.reject(p.doc, d.id, "wrong", d.version)
    d = p.db.save_draft(p.doc, ids[3], "=1+1", "m@1", None, None, check(ids[3]))
    p.db.approve(p.doc, d.id, d.version)
    with p.db.transaction() as s:  # (PostgreSQL tests share a database: only this test's rows)
        review = s.scalars(select(ReviewRow).where(ReviewRow.draft_id == d.id)).one()
        review.at = review.at - timedelta(days=7)

    rows = [r for r in monitoring.weekly(p.db, p.admin) if r.version in (v, monitoring.BASE)]
    mine = [r for r in rows if r.version == v]
    assert len(mine) == 1
    m = mine[0]
    assert (m.drafts, m.approved) == (3, 2)
    assert m.approved_unedited == 1 / 3
    assert m.edit_distance == (0 + 2) / 2  # "Mild MR." -> "Cardiac tamponade.": 2 words replaced
    assert m.flags_per_draft == (0 + 2 + 1) / 3  # unsupported + critical omission; contradicted
    assert m.critical_caught == 1
    base = [r for r in rows if r.version == monitoring.BASE]
    assert base and base[-1].week < m.week and base[-1].week.weekday() == 0
    text = monitoring.to_csv(rows)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert list(parsed[0]) == list(monitoring.WeekRow.model_fields)
    assert "monitoring.read" in [e.action for e in p.db.audit_log(p.admin)]


def test_monitoring_csv_cells_are_safe(people):
    row = monitoring.WeekRow(version="=HYPERLINK(1)", week="2026-11-30", drafts=1, approved=1,
                             approved_unedited=1.0, edit_distance=0.0, flags_per_draft=0.0,
                             critical_caught=0)
    assert "'=HYPERLINK(1)" in monitoring.to_csv([row])
