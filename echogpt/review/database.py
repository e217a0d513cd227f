"""Database plumbing for the stores (``review.store``, ``batch.jobs``, ``reader.study``): engines
(SQLite pragmas, PostgreSQL), Alembic ``upgrade_db``, transactions, the acting user's permission
check, audit writes, row helpers, the error types and the record views pages receive.

    upgrade_db("sqlite:////tmp/echogpt.sqlite")   # newest schema; Store() does this on open
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, create_engine, event, select, update
from sqlalchemy.orm import Session, sessionmaker

from echogpt.review import workflow as review
from echogpt.review.accounts import User, current_role
from echogpt.review.permissions import require
from echogpt.review.tables import (
    AdapterRow,
    AddendumRow,
    AuditRow,
    DraftRow,
    NotificationRow,
    ReportRow,
    ReviewRow,
    SignatureRow,
    StudyRow,
    UserRow,
    utcnow,
)
from echogpt.review.workflow import ReportView, Status
from echogpt.schemas import CheckResult, GuardRecord, Study

log = logging.getLogger(__name__)  # internal row ids only: never study ids, patient ids or text

Checker = Callable[[str, Study], CheckResult]
"""``echogpt.checker.check.check``-shaped: (impression, study) -> CheckResult."""


class NotFound(LookupError):
    """No such study, draft or report."""


class ConflictError(Exception):
    """Someone else saved first; carries their version so the page can show it."""

    def __init__(self, message: str, current_version: int, current_text: str | None,
                 updated_by: str | None):
        super().__init__(message)
        self.current_version = current_version
        self.current_text = current_text
        self.updated_by = updated_by


class WorklistItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    study_id: str
    patient_id: str | None
    study_date: str | None
    status: Status
    updated_at: datetime
    version: int = 1  # the study's version (see ``ReportView.version``)
    draft_id: int | None = None
    draft_version: int | None = None
    report_id: int | None = None


class DraftView(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int
    study_id: str
    text: str
    model_text: str
    model: str
    adapter: str | None
    prompt_hash: str | None
    check: CheckResult | None
    version: int
    updated_by: str
    updated_at: datetime
    created_at: datetime
    guard: GuardRecord | None = None  # what checker-guided drafting changed, and the unguarded text


class AuditView(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int
    at: datetime
    user: str
    action: str
    study_id: str | None
    entity: str | None
    entity_id: int | None
    before: str | None
    after: str | None
    diff: str | None
    edit_distance: int | None
    seconds_to_approve: float | None
    detail: str | None


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


def upgrade_db(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (Alembic ``upgrade head``)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parents[1] / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()


def normalize_url(url: str) -> str:
    """Plain ``postgresql://`` / ``postgres://`` URLs use psycopg 3 (the driver EchoGPT ships)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _engine(url: str) -> Engine:
    url = normalize_url(url)
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        _private_file(Path(path.split("?", 1)[0]))
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")  # ms: wait for a concurrent writer, not fail
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # noqa: ANN001
        # IMMEDIATE takes the write lock up front, so a read-then-write transaction can never
        # fail half-way with "database is locked" (every transaction here writes the audit log).
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _private_file(path: Path) -> None:
    """Make the SQLite file readable by its owner only (0600; a new folder 0700) before SQLite
    opens it: SQLite gives the -wal and -shm files beside it the same mode. A file an older
    version left readable to others is tightened, when it is ours."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if os.name != "posix":
            return
        for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            try:
                if f.stat().st_uid == os.getuid() and f.stat().st_mode & 0o077:
                    f.chmod(0o600)
            except OSError:  # absent, or a file system without modes: nothing to tighten
                pass


def dump_check(check: CheckResult | None) -> str | None:
    return check.model_dump_json(exclude={"summary"}) if check is not None else None


def load_check(check_json: str | None) -> CheckResult | None:
    return CheckResult.model_validate_json(check_json) if check_json else None


class Database:
    """Connection, transactions, the permission check, audit writes and row helpers: what the
    stores of the copilot (``Store``), of batch jobs and of reader studies share."""

    def __init__(self, url: str | None = None, *, migrate: bool = True):
        """Open the database at ``url`` (default: Settings().database_url), migrating it first."""
        if url is None:
            from echogpt.config import Settings

            url = Settings().database_url
        self.url = url
        if migrate:
            upgrade_db(url)
        self.engine = _engine(url)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def dispose(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        with self._session() as s, s.begin():
            yield s

    def audit(self, s: Session, user: User | None, action: str, *, study_id: str | None = None,
              entity: str | None = None, entity_id: int | None = None,
              edit: review.EditEntry | None = None, seconds_to_approve: float | None = None,
              detail: str | None = None) -> None:
        """Append one audit entry inside the caller's transaction."""
        s.add(AuditRow(user_id=user.id if user else None, user_name=user.name if user else "anonymous",
                       action=action, study_id=study_id, entity=entity, entity_id=entity_id,
                       before=edit.before if edit else None, after=edit.after if edit else None,
                       diff=edit.diff if edit else None,
                       edit_distance=edit.edit_distance if edit else None,
                       seconds_to_approve=seconds_to_approve, detail=detail))

    def acting(self, s: Session, user: User, action: str | None = None) -> User:
        """The acting user as stored now; ``PermissionDenied`` unless their role may ``action``.

        Args:
            s: The open transaction.
            user: The acting user (a stale or forged role is not trusted: it is re-read).
            action: A key of ``permissions.ACTIONS``; None checks only that the account is active.
        """
        me = current_role(s, user)
        if action:
            require(me, action)
        return me

    # ------------------------------------------------------------ row helpers

    def study_row(self, s: Session, study_id: str) -> StudyRow:
        row = s.scalars(select(StudyRow).where(StudyRow.study_id == study_id)).one_or_none()
        if row is None:
            raise NotFound(f"no study '{study_id}'")
        return row

    def draft_rows(self, s: Session, draft_id: int) -> tuple[DraftRow, StudyRow]:
        d = s.get(DraftRow, draft_id)
        if d is None:
            raise NotFound(f"no draft {draft_id}")
        return d, s.get(StudyRow, d.study_pk)

    def set_status(self, s: Session, study: StudyRow, new: Status) -> None:
        res = s.execute(update(StudyRow).where(StudyRow.id == study.id, StudyRow.version == study.version)
                        .values(status=new.value, version=StudyRow.version + 1, updated_at=utcnow()))
        if res.rowcount != 1:
            s.refresh(study)
            raise ConflictError(f"the study changed meanwhile (now {study.status})", study.version,
                                None, None)
        s.refresh(study)

    def touch(self, s: Session, study: StudyRow) -> None:
        """A new version of the study without a change of status (a notification, an addendum)."""
        self.set_status(s, study, Status(study.status))

    def user_name(self, s: Session, user_id: int | None) -> str:
        row = s.get(UserRow, user_id) if user_id is not None else None
        return row.name if row else "anonymous"

    def draft_view(self, s: Session, d: DraftRow, study: StudyRow) -> DraftView:
        return DraftView(id=d.id, study_id=study.study_id, text=d.text, model_text=d.model_text,
                         model=d.model, adapter=d.adapter, prompt_hash=d.prompt_hash,
                         check=load_check(d.check_json), version=d.version,
                         guard=GuardRecord.model_validate_json(d.guard_json) if d.guard_json else None,
                         updated_by=self.user_name(s, d.updated_by), updated_at=d.updated_at,
                         created_at=d.created_at)

    def worklist_entry(self, s: Session, row: StudyRow) -> WorklistItem:
        d = self.current_draft_row(s, row)
        rep = s.scalars(select(ReportRow.id).where(ReportRow.study_pk == row.id)).first()
        return WorklistItem(study_id=row.study_id, patient_id=row.patient_id,
                            study_date=row.study_date, status=Status(row.status),
                            updated_at=row.updated_at, version=row.version, draft_id=d.id if d else None,
                            draft_version=d.version if d else None, report_id=rep)

    def current_draft_row(self, s: Session, study: StudyRow) -> DraftRow | None:
        return s.scalars(select(DraftRow).where(DraftRow.study_pk == study.id,
                                                DraftRow.superseded.is_(False))
                         .order_by(DraftRow.id.desc())).first()

    def report_view(self, s: Session, rep: ReportRow) -> ReportView:
        study = s.get(StudyRow, rep.study_pk)
        d = s.get(DraftRow, rep.draft_id)
        rv = s.get(ReviewRow, rep.review_id)
        sig = s.scalars(select(SignatureRow).where(SignatureRow.report_id == rep.id)).first()
        addenda = s.scalars(select(AddendumRow).where(AddendumRow.report_id == rep.id)
                            .order_by(AddendumRow.id))
        notes = s.scalars(select(NotificationRow).where(NotificationRow.study_pk == study.id)
                          .order_by(NotificationRow.id))
        return ReportView(
            id=rep.id, study_id=study.study_id, status=Status(study.status), version=study.version,
            final_text=rep.final_text,
            model=rep.model, adapter=rep.adapter, edited=d.model_text.strip() != rep.final_text.strip(),
            approved_by=self.user_name(s, rv.reviewer), approved_at=rv.at,
            signed_by=self.user_name(s, sig.signed_by) if sig else None,
            signed_at=sig.signed_at if sig else None,
            addenda=[review.AddendumView(id=a.id, text=a.text, author=self.user_name(s, a.author), at=a.at)
                     for a in addenda],
            notifications=[review.NotificationView(id=n.id, finding=n.finding, notified=n.notified,
                                                   at=n.at, recorded_by=self.user_name(s, n.recorded_by))
                           for n in notes])


    def adapter_view(self, s: Session, row: AdapterRow) -> AdapterVersion:
        parent = s.get(AdapterRow, row.parent_id) if row.parent_id else None
        return AdapterVersion(id=row.id, name=row.name, path=row.path, base_model=row.base_model,
                              method=row.method, parent=parent.name if parent else None,
                              metrics=json.loads(row.metrics_json or "{}"), active=row.active,
                              created_by=self.user_name(s, row.created_by), created_at=row.created_at)

    def adapter_row(self, s: Session, name: str) -> AdapterRow:
        row = s.scalars(select(AdapterRow).where(AdapterRow.name == name)).one_or_none()
        if row is None:
            raise NotFound(f"no adapter version '{name}'")
        return row

    def report_row(self, s: Session, report_id: int) -> ReportRow:
        rep = s.get(ReportRow, report_id)
        if rep is None:
            raise NotFound(f"no report {report_id}")
        return rep

    def unnotified(self, s: Session, study: StudyRow) -> list[str]:
        rep = s.scalars(select(ReportRow).where(ReportRow.study_pk == study.id)).first()
        d = s.get(DraftRow, rep.draft_id) if rep else self.current_draft_row(s, study)
        needed = review.critical_findings(load_check(d.check_json)) if d else []
        done = {f.strip().lower() for f in s.scalars(
            select(NotificationRow.finding).where(NotificationRow.study_pk == study.id))}
        return [f for f in needed if f.lower() not in done]

    def expect_version(self, s: Session, study: StudyRow, expected: int) -> None:
        """Refuse an action on a report the user no longer sees: ``ConflictError`` with the
        current text and who changed it last."""
        if study.version == expected:
            return
        rep = s.scalars(select(ReportRow).where(ReportRow.study_pk == study.id)).first()
        d = self.current_draft_row(s, study)
        text = review.final_report_text(self.report_view(s, rep)) if rep else (d.text if d else None)
        other = s.scalars(select(AuditRow.user_name).where(
            AuditRow.study_id == study.study_id, AuditRow.action.not_like("%.read"),
            AuditRow.action != "report.verify").order_by(AuditRow.id.desc())).first()
        raise ConflictError(f"{other or 'someone'} changed this study (version {study.version}) "
                            "after you opened it; review the current text", study.version, text, other)
