"""The batch worker: the job lease, claiming pending studies a few at a time in transactions,
drafting (template or model) and checking them, and marking each done in the transaction that
stores its draft. Killed at any point, a rerun releases the dead worker's claims and goes on.

    run_worker(job_id)                         # what ``echogpt batch-worker --job ID`` runs
    start_worker(db, user, job_id)             # the same in a background process
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from echogpt.batch.tables import BatchItemRow, BatchJobRow
from echogpt.review.accounts import User
from echogpt.review.database import Database, NotFound
from echogpt.review.tables import utcnow
from echogpt.schemas import CheckResult, Study

log = logging.getLogger(__name__)  # job and row ids only: never study ids or text

LEASE_SECONDS = 300  # a worker on another host that has not written for this long is presumed dead
CHUNK = 8  # studies claimed per transaction (one generate() batch for model modes)


class WorkerSummary(BaseModel):
    """What one worker run did."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    job_id: int
    drafted: int
    failed: int
    released: int  # claims of a dead worker put back to pending on start
    status: str


def job_row(s: Session, job_id: int) -> BatchJobRow:
    """The job's row; ``NotFound`` if there is none."""
    job = s.get(BatchJobRow, job_id)
    if job is None:
        raise NotFound(f"no batch job {job_id}")
    return job


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


def lease_held(job: BatchJobRow) -> bool:
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
        if job.status == "done" or (job.worker_token != token and lease_held(job)):
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
        from echogpt.guidelines.template import template_impression

        def draft(studies: list[Study]) -> list[tuple[str, str, str | None, float]]:
            out = []
            for st in studies:
                t0 = time.perf_counter()
                out.append((template_impression(st), "template", None, time.perf_counter() - t0))
            return out
        return draft
    from echogpt.model.generate import load_generator

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
        from echogpt.checker.check import check as checker
    db = Database(url)
    token = f"{socket.gethostname()}|{os.getpid()}|{uuid.uuid4().hex[:12]}"
    drafted = failed = 0
    try:
        taken, released = _take_lease(db, job_id, token)
        if not taken:
            with db.transaction() as s:
                status = job_row(s, job_id).status
            return WorkerSummary(job_id=job_id, drafted=0, failed=0, released=0,
                                 status="busy" if status != "done" else "done")
        with db.transaction() as s:
            job = job_row(s, job_id)
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
        job = job_row(s, job_id)
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
        me = db.acting(s, user, "batch.run")
        job = job_row(s, job_id)
        if job.status == "done" or lease_held(job):
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
