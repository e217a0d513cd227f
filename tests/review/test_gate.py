"""The version gate's records on SQLite and PostgreSQL: evaluations stored with their version,
"worse" on clinical measures, activation that needs a typed reason (audited), refusal of a stale
comparison, and one-click rollback to the version active before."""

from __future__ import annotations

import json

import _db
import pytest

from echogpt.review import gate
from echogpt.review.permissions import PermissionDenied

db_url, people, pg_url = _db.db_url, _db.people, _db.pg_url  # fixtures


def figures(f1: float, halluc: float = 0.1, critical: float = 0.0, high: float = 0.0) -> dict:
    cell = lambda m: {"mean": m, "ci_low": max(0.0, m - 0.05), "ci_high": m + 0.05, "n": 4}  # noqa: E731
    return {"fact_f1": cell(f1), "hallucination_rate": cell(halluc), "critical_omission": cell(critical),
            "high_omission": cell(high), "rougeL": cell(0.5), "stopped": cell(1.0)}


def versions(p, *names: str) -> list[str]:
    out = []
    for n in names:
        out.append(p.db.register_adapter(p.admin, f"/adapters/{n}", "sft", name=f"{n}-{p.tag}").name)
    return out


def evaluated(p, name: str, job_id: int, metrics: dict | None, error: str | None = None):
    gate.record_evaluation(p.db, p.admin, name, job_id, "held-out.jsonl", 4)
    return gate.finish_evaluation(p.db, job_id, metrics, error)


def row(p, name: str) -> gate.VersionRow:
    return next(r for r in gate.comparison(p.db, p.admin).rows if r.version.name == name)


def job_ids(p) -> tuple[int, int, int]:
    base = int(p.tag, 16) % 1_000_000 * 10  # unique per test (PostgreSQL tests share a database)
    return base + 1, base + 2, base + 3


def test_evaluation_is_stored_with_its_version_pending_then_done_or_failed(people):
    p = people
    a, b = versions(p, "a", "b")
    j1, j2, _ = job_ids(p)
    assert gate.evaluation_of(p.db, p.admin, a) is None
    pending = gate.record_evaluation(p.db, p.admin, a, j1, "held-out.jsonl", 4)
    assert (pending.status, pending.job_id, pending.n, pending.metrics) == ("pending", j1, 4, {})
    assert gate.finish_evaluation(p.db, 999_999_999, figures(0.7)) is None  # a plain batch job
    name, done = gate.finish_evaluation(p.db, j1, figures(0.7))
    assert name == a and done.status == "done" and done.finished_at is not None
    assert done.metrics["fact_f1"] == figures(0.7)["fact_f1"]
    assert gate.evaluation_of(p.db, p.doc, a) == done  # cardiologists may look
    _, failed = evaluated(p, b, j2, None, "RuntimeError: no study was drafted")
    assert failed.status == "failed" and failed.error.startswith("RuntimeError") and not failed.metrics
    # evaluated again: the old figures go, the revision moves on
    again = gate.record_evaluation(p.db, p.admin, a, j2 + 5, "other.jsonl", 2)
    assert (again.status, again.metrics, again.revision) == ("pending", {}, done.revision + 1)
    assert "adapter.evaluate" in [e.action for e in p.db.audit_log(p.admin)]
    with pytest.raises(PermissionDenied):
        gate.record_evaluation(p.db, p.doc, a, j1, "x", 1)


@pytest.mark.parametrize(("candidate", "worse"), [
    (figures(0.70), []),
    (figures(0.80, halluc=0.05), []),  # better on every clinical measure
    (figures(0.69), ["fact-F1 0.690 < 0.700"]),
    (figures(0.70, halluc=0.2), ["hallucinated statements 0.200 > 0.100"]),
    (figures(0.70, critical=0.25), ["critical omissions 0.250 > 0.000"]),
    (figures(0.70, high=0.25), ["high omissions 0.250 > 0.000"]),
    ({**figures(0.70), "rougeL": {"mean": 0.1}, "stopped": {"mean": 0.0}}, []),  # not clinical
])
def test_worse_means_any_clinical_mean_worse(candidate, worse):
    assert gate.worse_on(candidate, figures(0.70)) == worse


def test_a_worse_version_needs_a_typed_reason_which_is_audited(people):
    p = people
    good, bad = versions(p, "good", "bad")
    j1, j2, _ = job_ids(p)
    evaluated(p, good, j1, figures(0.8))
    evaluated(p, bad, j2, figures(0.6, critical=0.25))
    gate.activate(p.db, p.admin, good, row(p, good).seen, reason=None)  # better than whatever is active
    shown = row(p, bad)
    assert shown.worse_on == ["fact-F1 0.600 < 0.800", "critical omissions 0.250 > 0.000"]
    for reason in (None, "   "):
        with pytest.raises(gate.ReasonRequired) as refused:
            gate.activate(p.db, p.admin, bad, shown.seen, reason=reason)
        assert refused.value.reasons == ["worse than the active version on fact-F1 0.600 < 0.800, "
                                         "critical omissions 0.250 > 0.000"]
    assert p.db.active_adapter(p.admin).name == good
    gate.activate(p.db, p.admin, bad, shown.seen, reason="  the lab asked for shorter impressions ")
    assert p.db.active_adapter(p.admin).name == bad
    entry = [e for e in p.db.audit_log(p.admin) if e.action == "adapter.select"][-1]
    detail = json.loads(entry.detail)
    assert detail["reason"] == "the lab asked for shorter impressions"
    assert detail["previous"] == good and detail["worse_on"] == shown.worse_on


def test_an_unjudged_version_needs_a_reason_too(people):
    p = people
    a, b = versions(p, "judged", "pending")
    j1, j2, _ = job_ids(p)
    evaluated(p, a, j1, figures(0.8))
    gate.record_evaluation(p.db, p.admin, b, j2, "held-out.jsonl", 4)
    assert row(p, b).needs_reason == ["its evaluation is still running: it has not been judged"]
    with pytest.raises(gate.ReasonRequired):
        gate.activate(p.db, p.admin, b, row(p, b).seen)
    with pytest.raises(PermissionDenied):
        gate.activate(p.db, p.doc, a, row(p, a).seen)


def test_a_stale_comparison_is_refused(people):
    p = people
    a, b, c = versions(p, "a", "b", "c")
    j1, j2, j3 = job_ids(p)
    for name, j in ((a, j1), (b, j2)):
        evaluated(p, name, j, figures(0.8))
    gate.record_evaluation(p.db, p.admin, c, j3, "held-out.jsonl", 4)
    gate.activate(p.db, p.admin, a, row(p, a).seen)
    seen_b, seen_c = row(p, b).seen, row(p, c).seen
    # the evaluation the admin saw as pending finishes (worse) before the click
    gate.finish_evaluation(p.db, j3, figures(0.5))
    with pytest.raises(gate.StaleComparison):
        gate.activate(p.db, p.admin, c, seen_c, reason="looked fine")
    # another admin makes b active: what this admin saw about b is stale too
    gate.activate(p.db, p.admin, b, seen_b)
    with pytest.raises(gate.StaleComparison):
        gate.activate(p.db, p.admin, b, seen_b)
    with pytest.raises(gate.StaleComparison):
        gate.rollback(p.db, p.admin, "stale>seen")
    assert p.db.active_adapter(p.admin).name == b


def test_rollback_restores_the_previous_active_version_in_one_step(people):
    p = people
    a, b = versions(p, "first", "second")
    j1, j2, _ = job_ids(p)
    evaluated(p, a, j1, figures(0.8))
    evaluated(p, b, j2, figures(0.9))
    gate.activate(p.db, p.admin, a, row(p, a).seen)
    gate.activate(p.db, p.admin, b, row(p, b).seen)
    view = gate.comparison(p.db, p.admin)
    assert (view.active, view.previous) == (b, a)
    assert gate.rollback(p.db, p.admin, view.rollback_seen).name == a
    assert p.db.active_adapter(p.admin).name == a
    entry = [e for e in p.db.audit_log(p.admin) if e.action == "adapter.rollback"][-1]
    assert json.loads(entry.detail) == {"version": a, "previous": b}
    assert gate.comparison(p.db, p.admin).previous == b  # rolling back again undoes it
    with pytest.raises(PermissionDenied):
        gate.rollback(p.db, p.doc, gate.comparison(p.db, p.admin).rollback_seen)
