"""Batch generation jobs in the database: a file of studies queued as a job, its progress, results
and the hand-off to the worklist; the worker's lease, claims and finished rows are ``batch.lease``.
These two are the modules of ``batch`` that open transactions. All state is in the database, so a
job survives page reloads and resumes after its worker is killed.

Each study is one ``batch_items`` row (unique per job); a worker holds the job's lease, claims a
few pending rows per transaction, drafts and checks them, and marks each done in the transaction
that stores its draft, so a study is never lost nor drafted twice.

    job = create_job(db, user, studies, mode="template"); worker.start_worker(db, user, job.id)
    jobs.results(db, user, job.id, flagged_only=True)   # the drafting loop is ``batch.worker``
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from echogpt.batch.lease import job_row, lease_held
from echogpt.batch.tables import BatchItemRow, BatchJobRow
from echogpt.files import csv_safe
from echogpt.review.accounts import User
from echogpt.review.database import Database
from echogpt.review.store import Store
from echogpt.review.tables import utcnow
from echogpt.schemas import CheckResult, GuardRecord, Study

JobMode = Literal["zero-shot", "fine-tuned", "template"]
STARTUP_SECONDS = 60  # a worker started this recently may still be loading before it takes the lease
REFRESH_SECONDS = 2.0  # how often the page reads a job's progress while it is not finished


class JobView(BaseModel):
    """A job and its progress, for the page's progress bar and the command line."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int
    name: str
    mode: str
    base_model: str | None
    adapter: str | None
    status: str  # queued | running | done | failed
    total: int
    done: int
    failed: int
    flagged: int
    worker_alive: bool
    starting: bool  # a worker was started moments ago and has not taken the lease yet
    per_minute: float | None  # studies per minute since the current worker started
    eta_seconds: float | None
    error: str | None
    created_by: int
    created_at: datetime

    @property
    def fraction(self) -> float:
        """Share of studies finished (done or failed), 0-1."""
        return (self.done + self.failed) / self.total if self.total else 1.0

    @property
    def finished(self) -> bool:
        """Done or failed, with no worker on it: its rows change no more."""
        return self.status in ("done", "failed") and not self.worker_alive and not self.starting

    @property
    def needs_resume(self) -> bool:
        """Unfinished with no worker running or starting (killed, or never started)."""
        return self.status != "done" and not self.worker_alive and not self.starting

    @property
    def refresh_seconds(self) -> float | None:
        """How often a page showing the job reads it again: until it is finished, every
        ``REFRESH_SECONDS``; None once it is."""
        return None if self.finished else REFRESH_SECONDS


class BatchResult(BaseModel):
    """One study's row of the results table."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    position: int
    study_id: str
    status: str  # pending | claimed | done | failed
    impression: str | None
    supported: int
    contradicted: int
    unsupported: int
    critical_omissions: int
    high_omissions: int
    omissions: str | None  # "severe aortic stenosis (high); tamponade (critical)"
    flagged: bool
    seconds: float | None
    error: str | None
    sent: bool


# ---------------------------------------------------------------- jobs


def create_job(db: Database, user: User, studies: Iterable[Study], mode: JobMode = "zero-shot",
               base_model: str | None = None, adapter: str | None = None,
               name: str | None = None) -> JobView:
    """Queue a batch job (nothing runs until a worker starts: :func:`start_worker`).

    Args:
        db: The store.
        user: A cardiologist or admin.
        studies: Validated studies (``data.load_studies``); repeated study ids are refused.
        mode: ``zero-shot`` (base model), ``fine-tuned`` (needs ``adapter``) or ``template``.
        base_model: Base model (None: the adapter's or the configured default).
        adapter: Adapter folder for fine-tuned mode (ignored by the other modes).
        name: A label (default: the mode and the number of studies).

    Returns:
        The queued job.
    """
    studies = list(studies)
    if not studies:
        raise ValueError("no valid studies to draft")
    ids = [st.study_id for st in studies]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ValueError(f"study '{dup}' appears more than once in the file")
    if mode not in ("zero-shot", "fine-tuned", "template"):
        raise ValueError(f"unknown mode '{mode}': zero-shot, fine-tuned or template")
    if mode == "fine-tuned" and not adapter:
        raise ValueError("fine-tuned mode needs an adapter (none is active: an admin selects one)")
    if mode != "fine-tuned":
        adapter = None  # the other modes draft without one, whatever is active
    with db.transaction() as s:
        me = db.acting(s, user, "batch.run")
        job = BatchJobRow(name=name or f"{mode}, {len(studies)} studies", mode=mode,
                          base_model=None if mode == "template" else base_model,
                          adapter=adapter, status="queued", total=len(studies), created_by=me.id)
        s.add(job)
        s.flush()
        s.add_all(BatchItemRow(job_id=job.id, position=i, study_id=st.study_id,
                               study_json=st.model_dump_json(exclude_none=True), status="pending")
                  for i, st in enumerate(studies, start=1))
        db.audit(s, me, "batch.create", entity="batch_job", entity_id=job.id,
                 detail=f"mode={mode} n={len(studies)}")
        s.flush()
        return _view(s, job)


def list_jobs(db: Database, user: User) -> list[JobView]:
    """Every job, newest first (cardiologists and admins)."""
    with db.transaction() as s:
        db.acting(s, user, "batch.run")
        return [_view(s, j) for j in s.scalars(select(BatchJobRow).order_by(BatchJobRow.id.desc()))]


def get_job(db: Database, user: User, job_id: int) -> JobView:
    """One job with its progress, rate and ETA."""
    with db.transaction() as s:
        db.acting(s, user, "batch.run")
        return _view(s, job_row(s, job_id))


def _view(s: Session, job: BatchJobRow) -> JobView:
    counts = dict(s.execute(select(BatchItemRow.status, func.count()).where(
        BatchItemRow.job_id == job.id).group_by(BatchItemRow.status)).all())
    flagged = s.scalar(select(func.count()).where(BatchItemRow.job_id == job.id,
                                                  BatchItemRow.flagged.is_(True))) or 0
    done, failed = counts.get("done", 0), counts.get("failed", 0)
    alive = lease_held(job)
    starting = (not alive and job.worker_token is None and job.heartbeat_at is not None
                and utcnow() - job.heartbeat_at < timedelta(seconds=STARTUP_SECONDS)
                and (job.finished_at is None or job.heartbeat_at > job.finished_at))
    per_minute = eta = None
    if job.started_at is not None:
        recent = s.scalar(select(func.count()).where(
            BatchItemRow.job_id == job.id, BatchItemRow.finished_at >= job.started_at)) or 0
        end = job.finished_at or utcnow()
        elapsed = (end - job.started_at).total_seconds()
        if recent and elapsed > 0:
            per_minute = 60.0 * recent / elapsed
            eta = (job.total - done - failed) * 60.0 / per_minute
    return JobView(id=job.id, name=job.name, mode=job.mode, base_model=job.base_model,
                   adapter=job.adapter, status=job.status, total=job.total, done=done, failed=failed,
                   flagged=flagged, worker_alive=alive, starting=starting, per_minute=per_minute,
                   eta_seconds=eta, error=job.error, created_by=job.created_by,
                   created_at=job.created_at)


# ---------------------------------------------------------------- results


def _result(r: BatchItemRow) -> BatchResult:
    omissions = CheckResult.model_validate_json(r.check_json).omissions if r.check_json else []
    by_severity = {sev: sum(o.severity == sev for o in omissions) for sev in ("critical", "high")}
    text = "; ".join(f"{o.finding} ({o.severity})" for o in omissions) or r.critical_omissions
    return BatchResult(position=r.position, study_id=r.study_id, status=r.status,
                       impression=r.impression, supported=r.supported, contradicted=r.contradicted,
                       unsupported=r.unsupported, critical_omissions=by_severity["critical"],
                       high_omissions=by_severity["high"], omissions=text or None, flagged=r.flagged,
                       seconds=r.seconds, error=r.error, sent=r.sent)


def results(db: Database, user: User, job_id: int, flagged_only: bool = False) -> list[BatchResult]:
    """The job's rows in file order (optionally only flagged ones)."""
    with db.transaction() as s:
        db.acting(s, user, "batch.run")
        job_row(s, job_id)
        q = select(BatchItemRow).where(BatchItemRow.job_id == job_id).order_by(BatchItemRow.position)
        if flagged_only:
            q = q.where(BatchItemRow.flagged.is_(True))
        return [_result(r) for r in s.scalars(q)]


def flag_summary(rows: Iterable[BatchResult]) -> dict[str, int]:
    """The flags of a job's rows by type: contradicted and unsupported statements, critical and
    high-severity omissions."""
    rows = list(rows)
    return {"contradicted": sum(r.contradicted for r in rows),
            "unsupported": sum(r.unsupported for r in rows),
            "critical omissions": sum(r.critical_omissions for r in rows),
            "high omissions": sum(r.high_omissions for r in rows)}


def flag_line(rows: Iterable[BatchResult]) -> str:
    """``Flags: 2 contradicted · 0 unsupported · 1 critical omissions · 0 high omissions``."""
    return "Flags: " + " · ".join(f"{n} {kind}" for kind, n in flag_summary(rows).items())


def export_results(db: Database, user: User, job_id: int, fmt: Literal["csv", "jsonl"] = "csv",
                   flagged_only: bool = False) -> str:
    """The results table as CSV or JSONL text (for download)."""
    rows = [r.model_dump() for r in results(db, user, job_id, flagged_only)]
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(BatchResult.model_fields))
    writer.writeheader()
    writer.writerows({k: csv_safe(v) for k, v in r.items()} for r in rows)
    return buf.getvalue()


def send_to_worklist(db: Database, user: User, job_id: int, study_ids: Iterable[str]) -> int:
    """Put drafted studies on the worklist: the study is added (if new) and its draft stored.

    Studies already drafted on the worklist are left alone. Args: the store, a cardiologist, the
    job and the chosen study ids. Returns: how many drafts were stored.
    """
    wanted = set(study_ids)
    with db.transaction() as s:
        db.acting(s, user, "batch.send")
        job = job_row(s, job_id)
        rows = [r for r in s.scalars(select(BatchItemRow).where(
            BatchItemRow.job_id == job_id, BatchItemRow.status == "done",
            BatchItemRow.sent.is_(False))) if r.study_id in wanted]
        adapter = job.adapter
    store = db if isinstance(db, Store) else Store(db.url, migrate=False)
    sent = 0
    for r in rows:
        study = Study.model_validate_json(r.study_json)
        store.import_studies(user, [study])
        item = store.worklist_item(user, study.study_id)
        if item.draft_id is None and item.status.value == "pending" and (r.impression or "").strip():
            check = CheckResult.model_validate_json(r.check_json) if r.check_json else None
            guard = GuardRecord.model_validate_json(r.guard_json) if r.guard_json else None
            store.save_draft(user, study.study_id, r.impression or "", r.model or "template",
                             adapter, r.prompt_hash, check, guard=guard)
            sent += 1
        with db.transaction() as s:
            s.execute(update(BatchItemRow).where(BatchItemRow.id == r.id).values(sent=True))
    return sent


def progress_line(job: JobView) -> str:
    """``12/40 studies · 3 flagged · 5.2 per minute · about 5 min left`` for the progress bar."""
    parts = [f"{job.done + job.failed}/{job.total} studies", f"{job.flagged} flagged"]
    if job.failed:
        parts.append(f"{job.failed} failed")
    if job.per_minute:
        parts.append(f"{job.per_minute:.1f} per minute")
    if job.eta_seconds and job.status == "running":
        eta = job.eta_seconds
        parts.append(f"about {eta / 60:.0f} min left" if eta >= 90 else f"about {eta:.0f} s left")
    return " · ".join(parts)
