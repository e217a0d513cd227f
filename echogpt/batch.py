"""Batch generation jobs: a file of studies drafted and checked by a worker process, with all
state in the database so a job survives page reloads and resumes after its worker is killed.

Each study is one ``batch_items`` row (unique per job); a worker holds the job's lease, claims a
few pending rows per transaction, drafts and checks them, and marks each done in the same
transaction that stores its draft, so a study is never lost nor drafted twice.

    job = create_job(db, user, studies, mode="template"); start_worker(db, user, job.id)
    run_worker(job.id)            # what ``echogpt batch-worker --job ID`` runs
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from echogpt.accounts import PermissionDenied, Role, User, current_role
from echogpt.db import Database, NotFound
from echogpt.db_jobs import BatchItemRow, BatchJobRow
from echogpt.db_models import utcnow
from echogpt.schemas import CheckResult, Study

log = logging.getLogger(__name__)  # job and row ids only: never study ids or text

JobMode = Literal["zero-shot", "fine-tuned", "template"]
LEASE_SECONDS = 300  # a worker on another host that has not written for this long is presumed dead
CHUNK = 8  # studies claimed per transaction (one generate() batch for model modes)
_WRITERS = frozenset({Role.cardiologist, Role.admin})


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
    per_minute: float | None  # studies per minute since the current worker started
    eta_seconds: float | None
    error: str | None
    created_by: int
    created_at: datetime

    @property
    def fraction(self) -> float:
        """Share of studies finished (done or failed), 0-1."""
        return (self.done + self.failed) / self.total if self.total else 1.0


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
    critical_omissions: str | None
    flagged: bool
    seconds: float | None
    error: str | None
    sent: bool


class WorkerSummary(BaseModel):
    """What one worker run did."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    job_id: int
    drafted: int
    failed: int
    released: int  # claims of a dead worker put back to pending on start
    status: str


def _acting(s: Session, user: User, roles: frozenset[Role], action: str) -> User:
    me = current_role(s, user)
    if me.role not in roles:
        need = " or ".join(sorted(r.value for r in roles))
        raise PermissionDenied(f"{me.name} ({me.role.value}) may not {action}: needs the {need} role")
    return me


def _job(s: Session, job_id: int) -> BatchJobRow:
    job = s.get(BatchJobRow, job_id)
    if job is None:
        raise NotFound(f"no batch job {job_id}")
    return job


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
        adapter: Adapter folder for fine-tuned mode.
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
    if (mode == "fine-tuned") != bool(adapter):
        raise ValueError("fine-tuned mode needs an adapter, and only fine-tuned mode uses one")
    with db.transaction() as s:
        me = _acting(s, user, _WRITERS, "start a batch job")
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
        _acting(s, user, _WRITERS, "see batch jobs")
        return [_view(s, j) for j in s.scalars(select(BatchJobRow).order_by(BatchJobRow.id.desc()))]


def get_job(db: Database, user: User, job_id: int) -> JobView:
    """One job with its progress, rate and ETA."""
    with db.transaction() as s:
        _acting(s, user, _WRITERS, "see batch jobs")
        return _view(s, _job(s, job_id))


def _view(s: Session, job: BatchJobRow) -> JobView:
    counts = dict(s.execute(select(BatchItemRow.status, func.count()).where(
        BatchItemRow.job_id == job.id).group_by(BatchItemRow.status)).all())
    flagged = s.scalar(select(func.count()).where(BatchItemRow.job_id == job.id,
                                                  BatchItemRow.flagged.is_(True))) or 0
    done, failed = counts.get("done", 0), counts.get("failed", 0)
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
                   flagged=flagged, worker_alive=_lease_held(job), per_minute=per_minute,
                   eta_seconds=eta, error=job.error, created_by=job.created_by,
                   created_at=job.created_at)


# ---------------------------------------------------------------- the worker


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child not yet reaped by its parent is a zombie: dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _lease_held(job: BatchJobRow) -> bool:
    """True while a worker holds the job: its process is alive on this host, or (another host)
    it wrote within LEASE_SECONDS."""
    if not job.worker_token or job.heartbeat_at is None:
        return False
    host = job.worker_token.split("|", 1)[0]
    if host == socket.gethostname() and job.worker_pid:
        return _pid_alive(job.worker_pid)
    return utcnow() - job.heartbeat_at < timedelta(seconds=LEASE_SECONDS)


def _take_lease(db: Database, job_id: int, token: str) -> tuple[bool, int]:
    """Become the job's worker; put back claims left by a dead one. (taken?, claims released)."""
    with db.transaction() as s:
        job = s.get(BatchJobRow, job_id, with_for_update=True)
        if job is None:
            raise NotFound(f"no batch job {job_id}")
        if job.status == "done" or (job.worker_token != token and _lease_held(job)):
            return False, 0
        released = s.execute(update(BatchItemRow).where(
            BatchItemRow.job_id == job_id, BatchItemRow.status == "claimed").values(
            status="pending", claimed_by=None)).rowcount
        now = utcnow()
        job.worker_token, job.worker_pid, job.heartbeat_at = token, os.getpid(), now
        job.started_at, job.finished_at, job.status, job.error = now, None, "running", None
        return True, released


def _claim(db: Database, job_id: int, token: str, n: int) -> list[BatchItemRow] | None:
    """Claim up to ``n`` pending rows in one transaction; None when the lease was lost."""
    with db.transaction() as s:
        job = s.get(BatchJobRow, job_id)
        if job is None or job.worker_token != token:
            return None
        job.heartbeat_at = utcnow()
        q = (select(BatchItemRow).where(BatchItemRow.job_id == job_id,
                                        BatchItemRow.status == "pending")
             .order_by(BatchItemRow.position).limit(n).with_for_update(skip_locked=True))
        rows = list(s.scalars(q))
        for r in rows:
            r.status, r.claimed_by = "claimed", token
        return rows


def _finish_item(db: Database, item_id: int, token: str, values: dict) -> bool:
    with db.transaction() as s:
        res = s.execute(update(BatchItemRow).where(
            BatchItemRow.id == item_id, BatchItemRow.status == "claimed",
            BatchItemRow.claimed_by == token).values(**values, finished_at=utcnow()))
        return res.rowcount == 1


def _check_values(text: str, check: CheckResult | None) -> dict:
    summary = check.summary if check is not None else {}
    critical = [o.finding for o in check.omissions] if check is not None else []
    return {"status": "done", "impression": text,
            "check_json": check.model_dump_json(exclude={"summary"}) if check else None,
            "supported": summary.get("supported", 0), "contradicted": summary.get("contradicted", 0),
            "unsupported": summary.get("unsupported", 0),
            "critical_omissions": "; ".join(critical) or None,
            "flagged": bool(check.flagged) if check is not None else False}


Drafter = Callable[[list[Study]], list[tuple[str, str, str | None, float]]]
"""studies -> [(impression, model identity, prompt hash, seconds)] in order."""


def _drafter(job: BatchJobRow) -> Drafter:
    if job.mode == "template":
        from echogpt.template import template_impression

        def draft(studies: list[Study]) -> list[tuple[str, str, str | None, float]]:
            out = []
            for st in studies:
                t0 = time.perf_counter()
                out.append((template_impression(st), "template", None, time.perf_counter() - t0))
            return out
        return draft
    from echogpt.generate import load_generator

    gen = load_generator(job.base_model, job.adapter)

    def draft(studies: list[Study]) -> list[tuple[str, str, str | None, float]]:
        return [(p.impression, p.base_model or "", p.prompt_hash, p.seconds or 0.0)
                for p in gen.generate_batch(studies, job.mode)]
    return draft


def run_worker(job_id: int, url: str | None = None, *, chunk: int = CHUNK,
               checker: Callable[[str, Study], CheckResult] | None = None,
               progress: Callable[[int], None] | None = None) -> WorkerSummary:
    """Draft and check every pending study of a job, ``chunk`` at a time; safe to kill and rerun.

    Args:
        job_id: The job.
        url: Database URL (default: the configured one).
        chunk: Studies claimed per transaction.
        checker: ``hallucination.check``-shaped function (default: the checker).
        progress: Called with the number of studies finished after each chunk.

    Returns:
        Counts of this run; status ``busy`` when another live worker holds the job.
    """
    if checker is None:
        from echogpt.hallucination import check as checker
    db = Database(url)
    token = f"{socket.gethostname()}|{os.getpid()}|{uuid.uuid4().hex[:12]}"
    drafted = failed = 0
    try:
        taken, released = _take_lease(db, job_id, token)
        if not taken:
            with db.transaction() as s:
                status = _job(s, job_id).status
            return WorkerSummary(job_id=job_id, drafted=0, failed=0, released=0,
                                 status="busy" if status != "done" else "done")
        with db.transaction() as s:
            job = _job(s, job_id)
        try:
            draft = _drafter(job)
        except Exception as exc:  # noqa: BLE001 - the job records why, in one line
            _end(db, job_id, token, "failed", f"{type(exc).__name__}: {str(exc)[:300]}")
            return WorkerSummary(job_id=job_id, drafted=0, failed=0, released=released,
                                 status="failed")
        while (rows := _claim(db, job_id, token, chunk)):
            studies = [Study.model_validate_json(r.study_json) for r in rows]
            try:
                drafts = draft(studies)
            except Exception as exc:  # noqa: BLE001 - a bad batch fails its rows, not the job
                drafts = [exc] * len(rows)
            for row, st, d in zip(rows, studies, drafts, strict=True):
                if isinstance(d, Exception):
                    ok = _finish_item(db, row.id, token, {"status": "failed",
                                                          "error": f"{type(d).__name__}: {d}"[:500]})
                    failed += ok
                    continue
                text, model, phash, seconds = d
                try:
                    values = (_check_values(text, checker(text, st)) if text.strip() else
                              _check_values(text, None) | {"flagged": True, "error": "empty draft"})
                except Exception as exc:  # noqa: BLE001 - keep the draft, say the check failed
                    values = _check_values(text, None) | {"error": f"check failed: {exc}"[:500]}
                values |= {"model": model, "prompt_hash": phash, "seconds": round(seconds, 4)}
                drafted += _finish_item(db, row.id, token, values)
            if progress:
                progress(drafted + failed)
        if rows is None:  # lease lost to another worker
            return WorkerSummary(job_id=job_id, drafted=drafted, failed=failed, released=released,
                                 status="lost")
        status = _end(db, job_id, token, "done", None)
        return WorkerSummary(job_id=job_id, drafted=drafted, failed=failed, released=released,
                             status=status)
    finally:
        db.dispose()


def _end(db: Database, job_id: int, token: str, status: str, error: str | None) -> str:
    with db.transaction() as s:
        job = _job(s, job_id)
        if job.worker_token != token:
            return job.status
        job.status, job.error, job.finished_at = status, error, utcnow()
        job.worker_token = job.worker_pid = None
        return status


_CHILDREN: dict[int, subprocess.Popen] = {}  # spawned workers, kept so they are reaped


def start_worker(db: Database, user: User, job_id: int) -> int | None:
    """Start ``echogpt batch-worker --job ID`` in the background unless a worker holds the job.

    Args:
        db: The store (its URL is passed to the worker).
        user: A cardiologist or admin.
        job_id: The job.

    Returns:
        The new worker's process id, or None when one is already running or the job is done.
    """
    for pid, proc in list(_CHILDREN.items()):
        if proc.poll() is not None:
            del _CHILDREN[pid]
    with db.transaction() as s:
        me = _acting(s, user, _WRITERS, "start a batch worker")
        job = _job(s, job_id)
        if job.status == "done" or _lease_held(job):
            return None
        db.audit(s, me, "batch.start", entity="batch_job", entity_id=job_id)
    from echogpt.config import Settings

    logs = Path(Settings().home) / "batch"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, ECHOGPT_DATABASE_URL=db.url)
    with open(logs / f"job-{job_id}.log", "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "echogpt", "batch-worker", "--job", str(job_id)],
                                env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    _CHILDREN[proc.pid] = proc
    return proc.pid


# ---------------------------------------------------------------- results


def results(db: Database, user: User, job_id: int, flagged_only: bool = False) -> list[BatchResult]:
    """The job's rows in file order (optionally only flagged ones)."""
    with db.transaction() as s:
        _acting(s, user, _WRITERS, "see batch results")
        _job(s, job_id)
        q = select(BatchItemRow).where(BatchItemRow.job_id == job_id).order_by(BatchItemRow.position)
        if flagged_only:
            q = q.where(BatchItemRow.flagged.is_(True))
        return [BatchResult(position=r.position, study_id=r.study_id, status=r.status,
                            impression=r.impression, supported=r.supported,
                            contradicted=r.contradicted, unsupported=r.unsupported,
                            critical_omissions=r.critical_omissions, flagged=r.flagged,
                            seconds=r.seconds, error=r.error, sent=r.sent) for r in s.scalars(q)]


def export_results(db: Database, user: User, job_id: int, fmt: Literal["csv", "jsonl"] = "csv",
                   flagged_only: bool = False) -> str:
    """The results table as CSV or JSONL text (for download)."""
    rows = [r.model_dump() for r in results(db, user, job_id, flagged_only)]
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(BatchResult.model_fields))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def send_to_worklist(db: Database, user: User, job_id: int, study_ids: Iterable[str]) -> int:
    """Put drafted studies on the worklist: the study is added (if new) and its draft stored.

    Studies already drafted on the worklist are left alone. Args: the store, a cardiologist, the
    job and the chosen study ids. Returns: how many drafts were stored.
    """
    from echogpt.store import Store

    wanted = set(study_ids)
    with db.transaction() as s:
        _acting(s, user, frozenset({Role.cardiologist}), "send drafts to the worklist")
        job = _job(s, job_id)
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
            store.save_draft(user, study.study_id, r.impression or "", r.model or "template",
                             adapter, r.prompt_hash, check)
            sent += 1
        with db.transaction() as s:
            s.execute(update(BatchItemRow).where(BatchItemRow.id == r.id).values(sent=True))
    return sent


class Upload(BaseModel):
    """An uploaded studies file: the job started (if any) and every rejected row."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    job_id: int | None
    accepted: int
    rejects: list[dict]
    rejects_jsonl: str
    error: str | None = None


def submit_upload(db: Database, user: User, name: str, data: bytes, mode: JobMode,
                  base_model: str | None = None, adapter: str | None = None) -> Upload:
    """Validate an uploaded CSV/JSONL/Parquet (``data.load_studies_bytes``), queue a job of the
    valid studies and start its worker; rejects are returned, never dropped silently."""
    from echogpt.data import load_studies_bytes
    from echogpt.files import FileError

    try:
        result = load_studies_bytes(data, name)
    except FileError as exc:
        return Upload(job_id=None, accepted=0, rejects=[], rejects_jsonl="", error=str(exc))
    rejects = [{"row": r.row, "study_id": r.study_id, "reason": r.reason()} for r in result.rejects]
    jsonl = "".join(r.model_dump_json() + "\n" for r in result.rejects)
    if not result.studies:
        return Upload(job_id=None, accepted=0, rejects=rejects, rejects_jsonl=jsonl,
                      error="no valid studies in the file")
    job = create_job(db, user, result.studies, mode, base_model, adapter, name=f"{name} ({mode})")
    start_worker(db, user, job.id)
    return Upload(job_id=job.id, accepted=len(result.studies), rejects=rejects, rejects_jsonl=jsonl)


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
