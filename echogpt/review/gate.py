"""The version gate: each adapter version's evaluation on the held-out set, the comparison of every
version with the active one, and the activation guard and rollback that act on that comparison.

``echogpt.batch.gate`` drafts the held-out set as a batch job and stores the figures here; this
module opens its own transactions (like ``batch.jobs``) so the store stays one noun.

"Worse" is simple on purpose: a version is worse than the active one when the mean of any clinical
measure is worse at all, whatever the confidence intervals (fact-F1 lower; hallucinated-statement
rate, share of studies with a critical omission or with a high-severity omission higher). Making
such a version active, or one whose evaluation is not finished, needs a typed reason, which is
audited. Every activation carries the comparison the admin saw (``VersionRow.seen``): when the
active version or either evaluation changed since, it is refused as stale.

    rows = comparison(db, admin).rows; activate(db, admin, "dpo-2", rows[0].seen, reason=None)
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from echogpt.review.accounts import User
from echogpt.review.database import AdapterVersion, Database
from echogpt.review.tables import AdapterEvaluationRow, AdapterRow, AuditRow, utcnow


class Measure(NamedTuple):
    """A metric the gate shows: its label, direction, and whether "worse" on it needs a reason."""

    label: str
    higher_is_better: bool
    clinical: bool


MEASURES: dict[str, Measure] = {
    "fact_f1": Measure("fact-F1", True, True),
    "hallucination_rate": Measure("hallucinated statements", False, True),
    "critical_omission": Measure("critical omissions", False, True),
    "high_omission": Measure("high omissions", False, True),
    "rougeL": Measure("ROUGE-L", True, False),
    "stopped": Measure("stop rate", True, False),
}
"""Per-sample columns of ``evaluation.metrics.COLUMNS`` the gate stores, in table order."""

TOLERANCE = 1e-9  # means closer than this are equal (floating-point noise, not a difference)


class StaleComparison(Exception):
    """The active version or an evaluation changed after the admin's page was drawn."""


class ReasonRequired(Exception):
    """Activating this version needs a typed reason; ``reasons`` says why."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("activation needs a typed reason: " + "; ".join(reasons))


class Evaluation(BaseModel):
    """A version's gate evaluation: ``metrics`` maps a measure to mean, ci_low, ci_high and n."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    status: str  # pending | done | failed
    job_id: int | None
    eval_set: str
    n: int
    metrics: dict[str, dict[str, Any]]
    error: str | None
    revision: int
    started_at: datetime
    finished_at: datetime | None


class VersionRow(BaseModel):
    """One version beside the active one, as the admin page shows it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: AdapterVersion
    evaluation: Evaluation | None
    worse_on: list[str]  # clinical measures worse than the active version's
    needs_reason: list[str]  # why activating it needs a typed reason (empty: it does not)
    seen: str  # what the admin saw; :func:`activate` refuses a different one


class Comparison(BaseModel):
    """Every version, newest first, with the active one and the version a rollback would restore."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    active: str | None
    previous: str | None  # the version active before the current one (rollback's target)
    rollback_seen: str
    rows: list[VersionRow]


# ---------------------------------------------------------------- evaluations


def _evaluation(row: AdapterEvaluationRow | None) -> Evaluation | None:
    if row is None:
        return None
    return Evaluation(status=row.status, job_id=row.job_id, eval_set=row.eval_set, n=row.n,
                      metrics=json.loads(row.metrics_json or "{}"), error=row.error,
                      revision=row.revision, started_at=row.started_at, finished_at=row.finished_at)


def _eval_row(s: Session, adapter_id: int) -> AdapterEvaluationRow | None:
    return s.scalars(select(AdapterEvaluationRow).where(
        AdapterEvaluationRow.adapter_id == adapter_id)).one_or_none()


def record_evaluation(db: Database, user: User, name: str, job_id: int, eval_set: str,
                      n: int) -> Evaluation:
    """Record that version ``name`` is being evaluated by batch job ``job_id`` (pending; audited).

    A version evaluated before is evaluated afresh: its old figures go.
    """
    with db.transaction() as s:
        me = db.acting(s, user, "adapter.register")
        version = db.adapter_row(s, name)
        row = _eval_row(s, version.id)
        if row is None:
            row = AdapterEvaluationRow(adapter_id=version.id, eval_set=eval_set, n=n, revision=0)
            s.add(row)
        row.status, row.job_id, row.eval_set, row.n = "pending", job_id, eval_set, n
        row.metrics_json = row.error = row.finished_at = None
        row.started_at, row.revision = utcnow(), (row.revision or 0) + 1
        s.flush()
        db.audit(s, me, "adapter.evaluate", entity="adapter", entity_id=version.id,
                 detail=f"{name} job={job_id} n={n} set={eval_set}")
        return _evaluation(row)


def finish_evaluation(db: Database, job_id: int, metrics: dict[str, dict[str, Any]] | None,
                      error: str | None = None) -> tuple[str, Evaluation] | None:
    """Store the figures (or the failure) of the evaluation batch job ``job_id`` drafted; the
    worker's side, like ``batch.lease.end_job``. Returns (version name, evaluation), or None when
    the job evaluates no pending evaluation (a plain batch job, a superseded or finished one)."""
    with db.transaction() as s:
        row = s.scalars(select(AdapterEvaluationRow).where(
            AdapterEvaluationRow.job_id == job_id).with_for_update()).one_or_none()
        if row is None or row.status != "pending":
            return None
        row.status = "done" if metrics is not None and error is None else "failed"
        row.metrics_json = json.dumps(metrics) if metrics is not None else None
        row.error, row.finished_at, row.revision = error, utcnow(), row.revision + 1
        return s.get(AdapterRow, row.adapter_id).name, _evaluation(row)


def awaits_scores(db: Database, job_id: int) -> bool:
    """True when batch job ``job_id`` drafts an evaluation that is still pending (the worker's side)."""
    with db.transaction() as s:
        return s.scalar(select(AdapterEvaluationRow.id).where(
            AdapterEvaluationRow.job_id == job_id, AdapterEvaluationRow.status == "pending")) is not None


def evaluation_of(db: Database, user: User, name: str) -> Evaluation | None:
    """Version ``name``'s gate evaluation, None when it was never evaluated."""
    with db.transaction() as s:
        db.acting(s, user, "adapter.list")
        return _evaluation(_eval_row(s, db.adapter_row(s, name).id))


# ---------------------------------------------------------------- comparison


def worse_on(candidate: dict[str, dict[str, Any]], active: dict[str, dict[str, Any]]) -> list[str]:
    """The clinical measures on which ``candidate``'s mean is worse than ``active``'s (see the
    module docstring), e.g. ``["fact-F1 0.612 < 0.700"]``; measures either lacks are skipped."""
    out = []
    for key, m in MEASURES.items():
        a, b = (candidate.get(key) or {}).get("mean"), (active.get(key) or {}).get("mean")
        if not m.clinical or a is None or b is None:
            continue
        if (a < b - TOLERANCE) if m.higher_is_better else (a > b + TOLERANCE):
            out.append(f"{m.label} {a:.3f} {'<' if m.higher_is_better else '>'} {b:.3f}")
    return out


def _seen(active: AdapterRow | None, active_eval: Evaluation | None, row: AdapterRow,
          ev: Evaluation | None) -> str:
    return (f"{active.id if active else '-'}.{active_eval.revision if active_eval else 0}:"
            f"{row.id}.{ev.revision if ev else 0}")


def _needs_reason(row: AdapterRow, ev: Evaluation | None, worse: list[str]) -> list[str]:
    if row.active:
        return []
    if ev is None or ev.status != "done":
        why = {"pending": "its evaluation is still running", "failed": "its evaluation failed"}
        return [(why.get(ev.status, f"its evaluation is {ev.status}") if ev else "it was never evaluated")
                + ": it has not been judged"]
    return ["worse than the active version on " + ", ".join(worse)] if worse else []


def _row(s: Session, db: Database, row: AdapterRow, active: AdapterRow | None) -> VersionRow:
    ev = _evaluation(_eval_row(s, row.id))
    active_ev = _evaluation(_eval_row(s, active.id)) if active is not None else None
    worse = []
    if active is not None and row.id != active.id and ev and ev.status == "done" and active_ev:
        worse = worse_on(ev.metrics, active_ev.metrics)
    return VersionRow(version=db.adapter_view(s, row), evaluation=ev, worse_on=worse,
                      needs_reason=_needs_reason(row, ev, worse), seen=_seen(active, active_ev, row, ev))


def _active(s: Session) -> AdapterRow | None:
    return s.scalars(select(AdapterRow).where(AdapterRow.active.is_(True))).first()


def _previous(s: Session, active: AdapterRow | None) -> AdapterRow | None:
    """The version that was active before the current one: the latest activation (audit log) of
    another version that still exists."""
    if active is None:
        return None
    q = (select(AuditRow.entity_id).where(AuditRow.entity == "adapter",
                                          AuditRow.action.in_(("adapter.select", "adapter.rollback")),
                                          AuditRow.entity_id != active.id)
         .order_by(AuditRow.id.desc()))
    for entity_id in s.scalars(q):
        row = s.get(AdapterRow, entity_id)
        if row is not None:
            return row
    return None


def comparison(db: Database, user: User) -> Comparison:
    """Every version beside the active one, with what activating each would need."""
    with db.transaction() as s:
        db.acting(s, user, "adapter.list")
        active = _active(s)
        previous = _previous(s, active)
        rows = [_row(s, db, r, active)
                for r in s.scalars(select(AdapterRow).order_by(AdapterRow.id.desc()))]
        return Comparison(active=active.name if active else None,
                          previous=previous.name if previous else None,
                          rollback_seen=_rollback_seen(active, previous), rows=rows)


def _rollback_seen(active: AdapterRow | None, previous: AdapterRow | None) -> str:
    return f"{active.id if active else '-'}>{previous.id if previous else '-'}"


# ---------------------------------------------------------------- activation and rollback


def _switch(s: Session, row: AdapterRow) -> None:
    s.execute(update(AdapterRow).where(AdapterRow.id != row.id).values(active=False))
    row.active = True
    s.flush()


def activate(db: Database, user: User, name: str, seen: str, reason: str | None = None) -> AdapterVersion:
    """Make version ``name`` active, as the admin saw it compared with the active one.

    Args:
        db: The store.
        user: An admin.
        name: The version.
        seen: ``VersionRow.seen`` of the row the admin acted on.
        reason: Why, when the version is worse on a clinical measure or not evaluated.

    Returns:
        The version, now active.

    Raises:
        StaleComparison: the active version or an evaluation changed since ``seen``.
        ReasonRequired: it needs a reason and none (or only blanks) was given.
    """
    with db.transaction() as s:
        me = db.acting(s, user, "adapter.select")
        row, active = db.adapter_row(s, name), _active(s)
        current = _row(s, db, row, active)
        if current.seen != seen:
            raise StaleComparison(f"the comparison for '{name}' changed since the page was drawn "
                                  "(another version became active or an evaluation finished): "
                                  "look at it again")
        if row.active:
            raise ValueError(f"'{name}' is already the active version")
        reason = (reason or "").strip()
        if current.needs_reason and not reason:
            raise ReasonRequired(current.needs_reason)
        _switch(s, row)
        detail = {"version": name, "previous": active.name if active else None,
                  "worse_on": current.worse_on, "needs_reason": current.needs_reason,
                  "reason": reason or None}
        db.audit(s, me, "adapter.select", entity="adapter", entity_id=row.id,
                 detail=json.dumps(detail, ensure_ascii=False))
        return db.adapter_view(s, row)


def rollback(db: Database, user: User, seen: str) -> AdapterVersion:
    """Make the version that was active before the current one active again (one click; audited).

    Args:
        db: The store.
        user: An admin.
        seen: ``Comparison.rollback_seen`` of the page the admin acted on.

    Raises:
        StaleComparison: the active version changed since ``seen``.
        ValueError: there is no earlier version to go back to.
    """
    with db.transaction() as s:
        me = db.acting(s, user, "adapter.select")
        active = _active(s)
        previous = _previous(s, active)
        if _rollback_seen(active, previous) != seen:
            raise StaleComparison("the active version changed since the page was drawn: look again")
        if previous is None:
            raise ValueError("there is no earlier active version to roll back to")
        _switch(s, previous)
        db.audit(s, me, "adapter.rollback", entity="adapter", entity_id=previous.id,
                 detail=json.dumps({"version": previous.name, "previous": active.name}))
        return db.adapter_view(s, previous)


# ---------------------------------------------------------------- the admin page's table


def _cell(ev: Evaluation | None, key: str) -> str:
    if ev is None:
        return "not evaluated"
    if ev.status != "done":
        return ev.status
    cell = ev.metrics.get(key) or {}
    if cell.get("mean") is None:
        return "n/a"
    return f"{cell['mean']:.3f} [{cell['ci_low']:.3f}, {cell['ci_high']:.3f}]"


def table(view: Comparison) -> list[dict[str, Any]]:
    """One row per version for the admin page: each measure as ``mean [95 % CI]`` ("pending",
    "failed" or "not evaluated" until its evaluation is done), n, and how it compares."""
    out = []
    for r in view.rows:
        ev = r.evaluation
        if r.version.active:
            versus = "active"
        elif r.worse_on:  # the figures are in their own columns: name the measures only
            versus = "worse: " + ", ".join(m.label for m in MEASURES.values()
                                           if any(w.startswith(m.label + " ") for w in r.worse_on))
        elif ev is None or ev.status != "done":
            versus = ev.status if ev else "not evaluated"
        else:
            versus = "not worse" if view.active else "no active version"
        row: dict[str, Any] = {"version": r.version.name, "vs active": versus}
        row |= {m.label: _cell(ev, key) for key, m in MEASURES.items()}
        row["n"] = ev.n if ev is not None and ev.status == "done" else None
        row |= {"method": r.version.method, "parent": r.version.parent or "",
                "created": r.version.created_at.strftime("%Y-%m-%d")}
        out.append(row)
    return out
