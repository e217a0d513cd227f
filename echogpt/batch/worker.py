"""The batch worker: takes a job's lease, claims pending studies a few at a time, drafts them
(template or model), checks them and stores each outcome, all through ``batch.lease``. Killed at
any point, a rerun releases the dead worker's claims and goes on. A version gate's job is scored
when it ends (``batch.gate``). Also starts workers in the background, for the page's uploads, its
Resume button and the version gate.

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
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from echogpt.batch import gate, jobs, lease
from echogpt.batch.tables import BatchJobRow
from echogpt.review.accounts import User
from echogpt.review.database import Database
from echogpt.schemas import CheckResult, Study

log = logging.getLogger(__name__)  # job and row ids only: never study ids or text

CHUNK = 8  # studies claimed per transaction (one generate() batch for model modes)


class WorkerSummary(BaseModel):
    """What one worker run did."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    job_id: int
    drafted: int
    failed: int
    released: int  # claims of a dead worker put back to pending on start
    status: str


def _check_values(text: str, check: CheckResult | None) -> dict:
    summary = check.summary if check is not None else {}
    critical = [f"{o.finding} ({o.severity})" for o in check.omissions] if check is not None else []
    return {"status": "done", "impression": text,
            "check_json": check.model_dump_json(exclude={"summary"}) if check else None,
            "supported": summary.get("supported", 0), "contradicted": summary.get("contradicted", 0),
            "unsupported": summary.get("unsupported", 0),
            "critical_omissions": "; ".join(critical) or None,
            "flagged": bool(check.flagged) if check is not None else False}


Drafter = Callable[[list[Study]], list[tuple]]
"""studies -> [(impression, model identity, prompt hash, seconds[, stopped[, guard record JSON
or None]])] in order."""


def _drafter(job: BatchJobRow) -> Drafter:
    if job.mode == "template":
        from echogpt.guidelines.template import template_impression

        def draft(studies: list[Study]) -> list[tuple[str, str, str | None, float, str | None]]:
            out = []
            for st in studies:
                t0 = time.perf_counter()
                out.append((template_impression(st), "template", None, time.perf_counter() - t0, None))
            return out
        return draft
    from echogpt.model.generator import load_generator
    from echogpt.model.guard import guarded_prediction

    gen = load_generator(job.base_model, job.adapter)

    def draft(studies: list[Study]) -> list[tuple[str, str, str | None, float, bool, str | None]]:
        # checker-guided, one study at a time (the guard decodes statement by statement)
        predictions = [guarded_prediction(gen, st, job.mode) for st in studies]
        return [(p.impression, p.base_model or "", p.prompt_hash, p.seconds or 0.0, p.stopped,
                 p.guard.model_dump_json() if p.guard else None) for p in predictions]
    return draft


def run_worker(job_id: int, url: str | None = None, *, chunk: int = CHUNK,
               checker: Callable[[str, Study], CheckResult] | None = None,
               progress: Callable[[int], None] | None = None) -> WorkerSummary:
    """Draft and check every pending study of a job, ``chunk`` at a time; safe to kill and rerun.

    Args:
        job_id: The job.
        url: Database URL (default: the configured one).
        chunk: Studies claimed per transaction.
        checker: ``checker.check.check``-shaped function (default: the checker).
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
        taken, released = lease.take_lease(db, job_id, token)
        if not taken:
            status = lease.job_status(db, job_id)
            if status == "done":  # a worker that died after finishing left its gate unscored
                gate.finish_evaluation(db, job_id, status)
            return WorkerSummary(job_id=job_id, drafted=0, failed=0, released=0,
                                 status="busy" if status != "done" else "done")
        try:
            draft = _drafter(lease.job_settings(db, job_id))
        except Exception as exc:  # noqa: BLE001 - the job records why, in one line
            why = f"{type(exc).__name__}: {str(exc)[:300]}"
            lease.end_job(db, job_id, token, "failed", why)
            gate.finish_evaluation(db, job_id, "failed", why)
            return WorkerSummary(job_id=job_id, drafted=0, failed=0, released=released,
                                 status="failed")
        while (rows := lease.claim(db, job_id, token, chunk)):
            studies = [Study.model_validate_json(r.study_json) for r in rows]
            try:
                drafts = draft(studies)
            except Exception as exc:  # noqa: BLE001 - a bad batch fails its rows, not the job
                drafts = [exc] * len(rows)
            for row, st, d in zip(rows, studies, drafts, strict=True):
                if isinstance(d, Exception):
                    ok = lease.finish_item(db, row.id, token,
                                          {"status": "failed", "error": f"{type(d).__name__}: {d}"[:500]})
                    failed += ok
                    continue
                text, model, phash, seconds, *extra = d
                stopped, guard = (list(extra) + [None, None])[:2]
                try:
                    values = (_check_values(text, checker(text, st)) if text.strip() else
                              _check_values(text, None) | {"flagged": True, "error": "empty draft"})
                except Exception as exc:  # noqa: BLE001 - keep the draft, say the check failed
                    values = _check_values(text, None) | {"error": f"check failed: {exc}"[:500]}
                values |= {"model": model, "prompt_hash": phash, "seconds": round(seconds, 4),
                           "stopped": stopped, "guard_json": guard}
                drafted += lease.finish_item(db, row.id, token, values)
            if progress:
                progress(drafted + failed)
        if rows is None:  # lease lost to another worker
            return WorkerSummary(job_id=job_id, drafted=drafted, failed=failed, released=released,
                                 status="lost")
        status = lease.end_job(db, job_id, token, "done", None)
        if status == "done":  # a version gate's job: score its drafts and store them
            gate.finish_evaluation(db, job_id, status)
        return WorkerSummary(job_id=job_id, drafted=drafted, failed=failed, released=released,
                             status=status)
    finally:
        db.dispose()


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
    if not lease.record_start(db, user, job_id):
        return None
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


def start_gate(db: Database, user: User, name: str, path: str | Path | None = None,
               n: int | None = None) -> int:
    """Evaluate adapter version ``name`` on the held-out set in the background (``batch.gate``):
    queue its job and start a worker; returns the job's id at once."""
    job_id = gate.queue_evaluation(db, user, name, path, n)
    start_worker(db, user, job_id)
    return job_id


class Upload(BaseModel):
    """An uploaded studies file: the job started (if any) and every rejected row."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    job_id: int | None
    accepted: int
    rejects: list[dict]
    rejects_jsonl: str
    error: str | None = None


def submit_upload(db: Database, user: User, name: str, data: bytes, mode: jobs.JobMode,
                  base_model: str | None = None, adapter: str | None = None) -> Upload:
    """Validate an uploaded CSV/JSONL/Parquet (``data.load_studies_bytes``), queue a job of the
    valid studies and start its worker; rejects are returned, never dropped silently."""
    from echogpt.data.load import load_studies_bytes
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
    job = jobs.create_job(db, user, result.studies, mode, base_model, adapter, name=f"{name} ({mode})")
    start_worker(db, user, job.id)
    return Upload(job_id=job.id, accepted=len(result.studies), rejects=rejects, rejects_jsonl=jsonl)
