"""Monitoring each adapter version in use, week by week, from the review records: the share of
drafts approved unedited, the word edit distance from draft to final, the flags per draft, and
the critical omissions reviewers caught. For the admin page's plot and its CSV download.

A draft counts in the week (ISO, starting Monday, UTC) of its review decision, approved or
rejected; drafts replaced by a regeneration were never decided and do not count. Its version is
the adapter it was drafted with (the version's name, its "name (method)" label or its folder);
"base model" when none. Flags are those approval asks to confirm (``workflow.approval_flags``) on
the model's own text (drafts stored unchecked are left out of that mean); a critical omission is
caught when the model's draft omitted a critical finding that the approved final no longer omits.

    rows = weekly(db, admin); text = to_csv(rows)
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from echogpt.files import csv_safe
from echogpt.review import workflow
from echogpt.review.accounts import User
from echogpt.review.database import Database, load_check
from echogpt.review.tables import AdapterRow, DraftRow, ReportRow, ReviewRow

BASE = "base model"
MEASURES: dict[str, str] = {
    "approved_unedited": "Drafts approved unedited (share)",
    "edit_distance": "Edit distance, draft to final (words, mean)",
    "flags_per_draft": "Flags per draft (mean)",
    "critical_caught": "Critical omissions caught at review (count)",
}
"""Column -> label, for the plot's measure picker."""


class WeekRow(BaseModel):
    """One version's figures in one week."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str
    week: date  # the Monday
    drafts: int  # decided (approved or rejected)
    approved: int
    approved_unedited: float | None  # share of decided drafts
    edit_distance: float | None  # mean over approved drafts
    flags_per_draft: float | None
    critical_caught: int


def _version_of(adapter: str | None, versions: list[AdapterRow]) -> str:
    if not adapter:
        return BASE
    for v in versions:
        if adapter in (v.name, v.path) or adapter.startswith(f"{v.name} ("):
            return v.name
    try:
        resolved = Path(adapter).resolve()
        return next((v.name for v in versions if Path(v.path).resolve() == resolved), adapter)
    except (OSError, ValueError):
        return adapter


def _critical(check_json: str | None) -> set[str]:
    check = load_check(check_json)
    return {o.finding for o in check.omissions if o.severity == "critical"} if check else set()


def weekly(db: Database, user: User) -> list[WeekRow]:
    """Per version and week, oldest week first (admins: ``adapter.list`` and ``audit.read``)."""
    with db.transaction() as s:
        me = db.acting(s, user, "adapter.list")
        db.acting(s, me, "audit.read")
        versions = list(s.scalars(select(AdapterRow)))
        q = (select(ReviewRow, DraftRow, ReportRow)
             .join(DraftRow, DraftRow.id == ReviewRow.draft_id)
             .outerjoin(ReportRow, ReportRow.review_id == ReviewRow.id).order_by(ReviewRow.id))
        groups: dict[tuple[str, date], list[dict]] = defaultdict(list)
        for review, draft, report in s.execute(q):
            day = review.at.date()
            original = draft.model_check_json or draft.check_json
            checked = load_check(original)
            item = {"approved": review.decision == "approved" and report is not None,
                    "flags": len(workflow.approval_flags(checked)) if checked else None}
            if item["approved"]:
                item["unedited"] = report.final_text.strip() == draft.model_text.strip()
                item["distance"] = workflow.word_edit_distance(draft.model_text, report.final_text)
                item["caught"] = len(_critical(original) - _critical(draft.check_json))
            groups[(_version_of(draft.adapter, versions), day - timedelta(days=day.weekday()))].append(item)
        db.audit(s, me, "monitoring.read", detail=f"weeks={len(groups)}")
    return [_row(version, week, items) for (version, week), items in sorted(
        groups.items(), key=lambda kv: (kv[0][1], kv[0][0]))]


def _row(version: str, week: date, items: list[dict]) -> WeekRow:
    approved = [i for i in items if i["approved"]]
    n = len(items)
    return WeekRow(version=version, week=week, drafts=n, approved=len(approved),
                   approved_unedited=sum(i.get("unedited", False) for i in items) / n if n else None,
                   edit_distance=(sum(i["distance"] for i in approved) / len(approved)
                                  if approved else None),
                   flags_per_draft=(sum(i["flags"] for i in checked) / len(checked)
                                    if (checked := [i for i in items if i["flags"] is not None]) else None),
                   critical_caught=sum(i.get("caught", 0) for i in approved))


def to_csv(rows: list[WeekRow]) -> str:
    """The rows as CSV text (cells through ``files.csv_safe``, like every CSV the copilot writes)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(WeekRow.model_fields))
    writer.writeheader()
    writer.writerows({k: csv_safe(v) for k, v in r.model_dump().items()} for r in rows)
    return buf.getvalue()
