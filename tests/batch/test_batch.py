"""Batch generation jobs: queueing, the worker (template mode and the tiny test model), results,
flag filter, exports, sending drafts to the worklist, roles, the job lease, and a real worker
process killed with SIGKILL mid-job then resumed: every study drafted exactly once.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time

import _db
import pytest
from _app_fixtures import build_talking_model
from _tiny import study_rows
from sqlalchemy import func, select

from echogpt.batch import jobs as batch
from echogpt.batch import lease as batch_lease
from echogpt.batch import worker as batch_worker
from echogpt.batch.tables import BatchItemRow, BatchJobRow
from echogpt.review.permissions import PermissionDenied
from echogpt.review.tables import utcnow
from echogpt.schemas import Study

db_url, people, pg_url = _db.db_url, _db.people, _db.pg_url  # fixtures

# The S-TAMPONADE-like study: a template impression names the tamponade, so the omission check
# is exercised by a draft that leaves it out (written by a fake drafter below).
TAMPONADE = {"study_id": "tamp", "patient_id": "pt",
             "findings": {"effusion": {"size": "large", "tamponade": True, "rv_collapse": True}},
             "findings_text": "Large circumferential pericardial effusion with right ventricular "
                              "diastolic collapse, consistent with tamponade physiology. LVEF 60%."}


def _studies(n: int, prefix: str = "s") -> list[Study]:
    return [Study.model_validate({k: v for k, v in r.items() if k != "phenotype"})
            for r in study_rows(n, prefix)]


def _counts(db, job_id: int) -> dict[str, int]:
    with db.transaction() as s:
        return dict(s.execute(select(BatchItemRow.status, func.count()).where(
            BatchItemRow.job_id == job_id).group_by(BatchItemRow.status)).all())


def test_template_job_drafts_and_checks_every_study_once(people):
    db = people.db
    job = batch.create_job(db, people.doc, _studies(5), mode="template")
    assert (job.status, job.total, job.done) == ("queued", 5, 0)
    summary = batch_worker.run_worker(job.id, db.url, chunk=2)
    assert (summary.status, summary.drafted, summary.failed) == ("done", 5, 0)
    view = batch.get_job(db, people.doc, job.id)
    assert (view.status, view.done, view.fraction) == ("done", 5, 1.0)
    assert view.per_minute and view.per_minute > 0 and view.eta_seconds == 0
    rows = batch.results(db, people.doc, job.id)
    assert [r.study_id for r in rows] == [f"s{i:03d}" for i in range(5)]  # file order
    assert all(r.status == "done" and r.impression for r in rows)
    # every draft went through the checker: its result is stored with one verdict per statement
    from echogpt.schemas import CheckResult
    from echogpt.text import split_statements

    with db.transaction() as s:
        items = list(s.scalars(select(BatchItemRow).where(BatchItemRow.job_id == job.id)))
    for item in items:
        check = CheckResult.model_validate_json(item.check_json)
        assert len(check.statements) == len(split_statements(item.impression))
        assert item.supported == check.summary["supported"]
    # a second worker finds nothing to do and drafts nothing again
    again = batch_worker.run_worker(job.id, db.url)
    assert (again.status, again.drafted) == ("done", 0)
    assert _counts(db, job.id) == {"done": 5}


def test_flagged_rows_filter_and_exports(people, monkeypatch):
    db = people.db
    studies = _studies(2) + [Study.model_validate(TAMPONADE)]
    job = batch.create_job(db, people.doc, studies, mode="template")

    def drafter(_job):  # leaves the tamponade out of one draft: a critical omission
        return lambda sts: [("1. Normal left ventricular systolic function, LVEF 60%."
                             if s.study_id == "tamp" else "1. Severe aortic stenosis.", "fake", None, 0.1,
                             None) for s in sts]

    monkeypatch.setattr(batch_worker, "_drafter", drafter)
    batch_worker.run_worker(job.id, db.url)
    flagged = batch.results(db, people.doc, job.id, flagged_only=True)
    assert "tamp" in [r.study_id for r in flagged]
    tamp = next(r for r in flagged if r.study_id == "tamp")
    assert "tamponade" in (tamp.omissions or "").lower() and "(critical)" in tamp.omissions
    assert tamp.critical_omissions >= 1
    # "severe aortic stenosis" is not in the normal studies' findings: unsupported or contradicted
    normal = next(r for r in flagged if r.study_id == "s000")
    assert normal.contradicted + normal.unsupported >= 1
    assert batch.get_job(db, people.doc, job.id).flagged == len(flagged)
    parsed = list(csv.DictReader(io.StringIO(batch.export_results(db, people.doc, job.id, "csv"))))
    assert [r["study_id"] for r in parsed] == ["s000", "s001", "tamp"]
    lines = batch.export_results(db, people.doc, job.id, "jsonl", flagged_only=True).splitlines()
    assert {json.loads(x)["study_id"] for x in lines} == {r.study_id for r in flagged}


def test_send_to_worklist_stores_drafts_once(people):
    db = people.db
    job = batch.create_job(db, people.doc, _studies(3), mode="template")
    batch_worker.run_worker(job.id, db.url)
    assert batch.send_to_worklist(db, people.doc, job.id, ["s000", "s002"]) == 2
    assert batch.send_to_worklist(db, people.doc, job.id, ["s000", "s002"]) == 0  # already sent
    item = db.worklist_item(people.doc, "s000")
    assert item.status.value == "drafted"
    draft = db.current_draft(people.doc, "s000")
    row = next(r for r in batch.results(db, people.doc, job.id) if r.study_id == "s000")
    assert draft.text == row.impression and draft.check is not None
    assert [r.sent for r in batch.results(db, people.doc, job.id)] == [True, False, True]
    with pytest.raises(PermissionDenied):  # admins do not draft reports
        batch.send_to_worklist(db, people.admin, job.id, ["s001"])


def test_roles_and_bad_input(people):
    db = people.db
    with pytest.raises(PermissionDenied, match="admin or cardiologist"):
        batch.create_job(db, people.reader, _studies(1), mode="template")
    job = batch.create_job(db, people.admin, _studies(1), mode="template")
    for call in (lambda: batch.get_job(db, people.reader, job.id),
                 lambda: batch.results(db, people.reader, job.id),
                 lambda: batch.list_jobs(db, people.reader),
                 lambda: batch_worker.start_worker(db, people.reader, job.id)):
        with pytest.raises(PermissionDenied):
            call()
    with pytest.raises(ValueError, match="more than once"):
        batch.create_job(db, people.doc, _studies(2) + _studies(1), mode="template")
    with pytest.raises(ValueError, match="adapter"):
        batch.create_job(db, people.doc, _studies(1), mode="fine-tuned")
    with pytest.raises(ValueError, match="no valid studies"):
        batch.create_job(db, people.doc, [], mode="template")


def test_job_and_study_rows_are_unique(people):
    from sqlalchemy.exc import IntegrityError

    db = people.db
    job = batch.create_job(db, people.doc, _studies(1), mode="template")
    with pytest.raises(IntegrityError), db.transaction() as s:
        s.add(BatchItemRow(job_id=job.id, position=2, study_id="s000", study_json="{}"))


def test_a_live_lease_keeps_a_second_worker_out(people):
    db = people.db
    job = batch.create_job(db, people.doc, _studies(2), mode="template")
    with db.transaction() as s:
        row = s.get(BatchJobRow, job.id)
        row.worker_token = f"{socket.gethostname()}|{os.getpid()}|other"
        row.worker_pid, row.heartbeat_at, row.status = os.getpid(), utcnow(), "running"
    assert batch.get_job(db, people.doc, job.id).worker_alive
    assert batch_worker.run_worker(job.id, db.url).status == "busy"
    assert batch_worker.start_worker(db, people.doc, job.id) is None
    assert _counts(db, job.id) == {"pending": 2}


def test_worker_failure_is_recorded_not_raised(people, monkeypatch):
    db = people.db
    job = batch.create_job(db, people.doc, _studies(2), mode="zero-shot", base_model="/no/such/model")
    summary = batch_worker.run_worker(job.id, db.url)
    assert summary.status == "failed"
    view = batch.get_job(db, people.doc, job.id)
    assert view.status == "failed" and view.error and not view.worker_alive


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_sigkill_mid_job_then_resume_drafts_every_study_exactly_once(people, tmp_path):
    """A real worker process on the tiny test model (about 1 s per chunk) is killed with SIGKILL
    while it holds claimed rows; a new worker releases them and finishes the job."""
    db = people.db
    model = build_talking_model(tmp_path / "talking", 1.0)
    n = 10
    job = batch.create_job(db, people.doc, _studies(n), mode="zero-shot", base_model=str(model))
    env = dict(os.environ, ECHOGPT_DATABASE_URL=db.url)
    proc = subprocess.Popen([sys.executable, "-m", "echogpt", "batch-worker", "--job", str(job.id),
                             "--chunk", "2"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    deadline = time.time() + 180
    while time.time() < deadline:
        c = _counts(db, job.id)
        if c.get("done", 0) >= 2 and c.get("claimed", 0) > 0:
            break
        assert proc.poll() is None, proc.stdout.read().decode()[-2000:]
        time.sleep(0.05)
    else:
        pytest.fail("the worker did not start drafting in time")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    at_kill = _counts(db, job.id)
    assert at_kill.get("claimed", 0) > 0 and at_kill.get("done", 0) < n  # truly mid-job
    assert not batch.get_job(db, people.doc, job.id).worker_alive
    summary = batch_worker.run_worker(job.id, db.url, chunk=4)
    assert summary.status == "done" and summary.released == at_kill["claimed"]
    assert summary.drafted == n - at_kill.get("done", 0)
    assert _counts(db, job.id) == {"done": n}
    rows = batch.results(db, people.doc, job.id)
    assert sorted(r.study_id for r in rows) == [f"s{i:03d}" for i in range(n)]
    assert all(r.impression is not None for r in rows)


def test_each_mode_takes_the_adapter_only_if_it_uses_one(people):
    db = people.db
    job = batch.create_job(db, people.doc, _studies(1), mode="template", adapter="/adapters/sft-1")
    assert (job.mode, job.adapter) == ("template", None)
    job = batch.create_job(db, people.doc, _studies(1), mode="zero-shot", adapter="/adapters/sft-1",
                           name="zs")
    assert job.adapter is None
    with pytest.raises(ValueError, match="fine-tuned mode needs an adapter"):
        batch.create_job(db, people.doc, _studies(1), mode="fine-tuned")


def test_a_job_whose_worker_is_starting_is_followed_until_finished(people):
    db = people.db
    job = batch.create_job(db, people.doc, _studies(2), mode="template")
    assert job.needs_resume and not job.starting  # queued, nobody started a worker
    assert job.refresh_seconds == batch.REFRESH_SECONDS
    assert batch_lease.record_start(db, people.doc, job.id)  # what start_worker records before it spawns
    view = batch.get_job(db, people.doc, job.id)
    assert view.starting and not view.needs_resume and view.refresh_seconds == batch.REFRESH_SECONDS
    batch_worker.run_worker(job.id, db.url)
    view = batch.get_job(db, people.doc, job.id)
    assert view.finished and not view.starting and view.refresh_seconds is None


def test_a_model_job_drafts_guarded_and_the_worklist_draft_keeps_the_record(people, tmp_path):
    """The worker drafts with the guard: each row keeps the guard's record, and a draft sent to the
    worklist carries it (the aortic stenosis study's omitted finding is added)."""
    from echogpt.schemas import GuardRecord

    db = people.db
    model = build_talking_model(tmp_path / "talking", 1.0)
    sid = f"guard{people.tag}-002"
    job = batch.create_job(db, people.doc, _studies(3, prefix=f"guard{people.tag}-"), mode="zero-shot",
                           base_model=str(model))
    assert batch_worker.run_worker(job.id, db.url).status == "done"
    with db.transaction() as s:
        rows = {r.study_id: r for r in s.scalars(select(BatchItemRow).where(BatchItemRow.job_id == job.id))}
    assert all(r.guard_json for r in rows.values())
    record = GuardRecord.model_validate_json(rows[sid].guard_json)
    assert any(i.kind == "added" and "aortic stenosis" in i.reason for i in record.interventions)
    assert batch.send_to_worklist(db, people.doc, job.id, [sid]) == 1
    draft = db.current_draft(people.doc, sid)
    assert draft.guard == record
    trail = [a.action for a in db.audit_log(people.doc, sid)]
    assert "draft.guard.added" in trail
