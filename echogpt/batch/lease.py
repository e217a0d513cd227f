"""The worker's lease on a batch job: who holds it (its process alive on this host, or a recent
heartbeat from another), taking it and putting back a dead worker's claims, claiming a few pending
rows per transaction, storing each row's outcome and giving the lease back with the final status.

    taken, released = lease.take_lease(db, job_id, token); rows = lease.claim(db, job_id, token, 4)
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from echogpt.batch.tables import BatchItemRow, BatchJobRow
from echogpt.review.accounts import User
from echogpt.review.database import Database, NotFound
from echogpt.review.tables import utcnow

LEASE_SECONDS = 300  # a worker on another host that has not written for this long is presumed dead


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


def job_status(db: Database, job_id: int) -> str:
    """The job's status (queued, running, done, failed); ``NotFound`` if there is none."""
    with db.transaction() as s:
        return job_row(s, job_id).status


def job_settings(db: Database, job_id: int) -> BatchJobRow:
    """The job's row, detached, for the worker to read its mode, base model and adapter."""
    with db.transaction() as s:
        return job_row(s, job_id)


def record_start(db: Database, user: User, job_id: int) -> bool:
    """Record that ``user`` starts a worker for the job; False when one holds it or it is done."""
    with db.transaction() as s:
        me = db.acting(s, user, "batch.run")
        job = job_row(s, job_id)
        if job.status == "done" or lease_held(job):
            return False
        # a dead worker's token goes; the time tells the page a worker is on its way
        job.worker_token, job.worker_pid, job.heartbeat_at = None, None, utcnow()
        db.audit(s, me, "batch.start", entity="batch_job", entity_id=job_id)
        return True


def take_lease(db: Database, job_id: int, token: str) -> tuple[bool, int]:
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


def claim(db: Database, job_id: int, token: str, n: int) -> list[BatchItemRow] | None:
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


def finish_item(db: Database, item_id: int, token: str, values: dict) -> bool:
    """Store a claimed row's outcome (``values``: columns of ``batch_items``); False if not ours."""
    with db.transaction() as s:
        res = s.execute(update(BatchItemRow).where(
            BatchItemRow.id == item_id, BatchItemRow.status == "claimed",
            BatchItemRow.claimed_by == token).values(**values, finished_at=utcnow()))
        return res.rowcount == 1


def end_job(db: Database, job_id: int, token: str, status: str, error: str | None) -> str:
    """Give the lease back with the job's final status (unless another worker holds it now)."""
    with db.transaction() as s:
        job = job_row(s, job_id)
        if job.worker_token != token:
            return job.status
        job.status, job.error, job.finished_at = status, error, utcnow()
        job.worker_token = job.worker_pid = None
        return status
