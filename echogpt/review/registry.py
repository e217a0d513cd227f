"""Admin-side records in the database: adapter versions (register, list, select the active one)
and the approved reports the feedback export reads, with admins' identifier clearances.

    v = register_adapter(db, admin, "runs/dpo-1", "dpo", base_model="embedded:...")
    select_adapter(db, admin, v.name); active_adapter(db, cardiologist)
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select, update

from echogpt.review.accounts import User
from echogpt.review.database import NotFound
from echogpt.review.tables import AdapterRow, ClearanceRow, DraftRow, ReportRow, StudyRow
from echogpt.schemas import Study

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from echogpt.review.store import Store


class AdapterVersion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int
    name: str
    path: str
    base_model: str | None
    method: str
    parent: str | None
    metrics: dict[str, Any]
    active: bool
    created_by: str
    created_at: datetime


def _view(db: Store, s: Session, row: AdapterRow) -> AdapterVersion:
    parent = s.get(AdapterRow, row.parent_id) if row.parent_id else None
    return AdapterVersion(id=row.id, name=row.name, path=row.path, base_model=row.base_model,
                          method=row.method, parent=parent.name if parent else None,
                          metrics=json.loads(row.metrics_json or "{}"), active=row.active,
                          created_by=db._name(s, row.created_by), created_at=row.created_at)


def _by_name(s: Session, name: str) -> AdapterRow:
    row = s.scalars(select(AdapterRow).where(AdapterRow.name == name)).one_or_none()
    if row is None:
        raise NotFound(f"no adapter version '{name}'")
    return row


def register_adapter(db: Store, user: User, path: str | Path, method: str, *, name: str | None = None,
                     base_model: str | None = None, parent: str | None = None,
                     metrics: dict[str, Any] | None = None) -> AdapterVersion:
    """Record a trained adapter as a new version (not active until an admin selects it).

    Args:
        db: The store.
        user: An admin (the command line acts as one).
        path: The adapter folder.
        method: ``sft`` or ``dpo``.
        name: Unique name; default ``<method>-<n>``.
        base_model: The base model identity it was trained on.
        parent: Name of the version it was trained from.
        metrics: Figures worth showing next to it (losses, steps).

    Returns:
        The registered version.
    """
    if method not in ("sft", "dpo"):
        raise ValueError(f"method '{method}' is not one of: sft, dpo")
    with db.transaction() as s:
        me = db._acting(s, user, "adapter.register")
        if name is None:
            n = s.scalar(select(func.count()).select_from(AdapterRow)) or 0
            name = f"{method}-{n + 1}"
        if s.scalars(select(AdapterRow).where(AdapterRow.name == name)).first() is not None:
            raise ValueError(f"adapter version '{name}' already exists")
        row = AdapterRow(name=name, path=str(path), base_model=base_model, method=method,
                         parent_id=_by_name(s, parent).id if parent else None,
                         metrics_json=json.dumps(metrics or {}), active=False, created_by=me.id)
        s.add(row)
        s.flush()
        db.audit(s, me, "adapter.register", entity="adapter", entity_id=row.id,
                 detail=f"{name} {method} {path}")
        return _view(db, s, row)


def list_adapters(db: Store, user: User) -> list[AdapterVersion]:
    """All adapter versions, newest first."""
    with db.transaction() as s:
        db._acting(s, user, "adapter.list")
        return [_view(db, s, r) for r in s.scalars(select(AdapterRow).order_by(AdapterRow.id.desc()))]


def select_adapter(db: Store, user: User, name: str) -> AdapterVersion:
    """Make ``name`` the active adapter (admins only); the previous one is deactivated."""
    with db.transaction() as s:
        me = db._acting(s, user, "adapter.select")
        row = _by_name(s, name)
        s.execute(update(AdapterRow).where(AdapterRow.id != row.id).values(active=False))
        row.active = True
        s.flush()
        db.audit(s, me, "adapter.select", entity="adapter", entity_id=row.id, detail=name)
        return _view(db, s, row)


def active_adapter(db: Store, user: User) -> AdapterVersion | None:
    """The adapter drafts are generated with, or None for the base model."""
    with db.transaction() as s:
        db._acting(s, user, "adapter.list")
        row = s.scalars(select(AdapterRow).where(AdapterRow.active.is_(True))).first()
        return _view(db, s, row) if row else None


def register_trained(out: str | Path, parent: str | Path | None = None,
                     metrics: dict[str, Any] | None = None, url: str | None = None) -> AdapterVersion:
    """Register a freshly trained adapter folder (its ``echogpt_adapter.json`` gives the method and
    base) in the configured database, as the command line's admin; for ``echogpt train``.

    Args:
        out: The adapter folder.
        parent: The adapter folder it was trained from, if any (matched to a registered version).
        metrics: Figures to show next to it.
        url: Database URL (default: the configured one).

    Returns:
        The new version (inactive until an admin selects it).
    """
    from echogpt.model.adapters import read_adapter_meta
    from echogpt.review.accounts import cli_user
    from echogpt.review.store import Store

    meta = read_adapter_meta(out)
    db = Store(url)
    try:
        user = cli_user(db)
        parent_name = None
        if parent is not None:
            parent_name = next((v.name for v in list_adapters(db, user)
                                if Path(v.path).resolve() == Path(parent).resolve()), None)
        return register_adapter(db, user, Path(out).resolve(), meta.method, parent=parent_name,
                                base_model=meta.base_model, metrics=metrics)
    finally:
        db.dispose()


# ---------------------------------------------------------------- feedback


class FeedbackItem(BaseModel):
    """One approved report as the feedback export needs it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    report_id: int
    study: Study
    final_text: str
    model_text: str
    model: str
    adapter: str | None
    cleared: bool

    @property
    def edited(self) -> bool:
        return self.final_text.strip() != self.model_text.strip()


def feedback_items(db: Store, user: User) -> list[FeedbackItem]:
    """Every approved (or signed) report with its study and the model's original draft."""
    with db.transaction() as s:
        me = db._acting(s, user, "feedback.export")
        q = (select(ReportRow, StudyRow, DraftRow)
             .join(StudyRow, StudyRow.id == ReportRow.study_pk)
             .join(DraftRow, DraftRow.id == ReportRow.draft_id).order_by(ReportRow.id))
        cleared = set(s.scalars(select(ClearanceRow.report_id)))
        items = [FeedbackItem(report_id=rep.id, study=Study.model_validate_json(st.study_json),
                              final_text=rep.final_text, model_text=d.model_text, model=rep.model,
                              adapter=rep.adapter, cleared=rep.id in cleared)
                 for rep, st, d in s.execute(q)]
        db.audit(s, me, "feedback.read", detail=f"n={len(items)}")
        return items


def clear_for_export(db: Store, user: User, report_id: int) -> None:
    """An admin states the report's texts were reviewed and hold no identifiers."""
    with db.transaction() as s:
        me = db._acting(s, user, "feedback.clear")
        if s.get(ReportRow, report_id) is None:
            raise NotFound(f"no report {report_id}")
        if s.scalars(select(ClearanceRow).where(ClearanceRow.report_id == report_id)).first() is None:
            s.add(ClearanceRow(report_id=report_id, cleared_by=me.id))
            db.audit(s, me, "feedback.clear", entity="report", entity_id=report_id)


def active_adapter_path(url: str | None = None) -> str | None:
    """The folder of the adapter version active in the database, if one is selected."""
    from echogpt.review.accounts import cli_user
    from echogpt.review.store import Store

    db = Store(url)
    try:
        version = active_adapter(db, cli_user(db))
        return version.path if version else None
    finally:
        db.dispose()
