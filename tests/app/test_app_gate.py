"""The admin page's version gate through AppTest: every version beside the active one with its
figures and CIs ("pending"/"failed" until evaluated), activation of a worse version only with a
typed reason (audited), a stale comparison refused, one-click rollback, and the monitoring plot
and CSV built from the review records."""

from __future__ import annotations

import csv
import io
import json

from _app_fixtures import (  # noqa: F401  (fixtures)
    copilot_fixture,
    new_app,
    talking_model_fixture,
    texts,
)

from echogpt.review import gate

GOOD = "1. Normal left ventricular size and systolic function, LVEF 60 %."


def figures(f1: float, critical: float = 0.0) -> dict:
    cell = lambda m: {"mean": m, "ci_low": round(m - 0.05, 3), "ci_high": round(m + 0.05, 3), "n": 40}  # noqa: E731
    return {"fact_f1": cell(f1), "hallucination_rate": cell(0.1), "critical_omission": cell(critical),
            "high_omission": cell(0.0), "rougeL": cell(0.5), "stopped": cell(0.95)}


def versions(copilot, tmp_path) -> None:
    """live (active, good), worse (lower fact-F1, critical omissions), pending, failed."""
    db, boss = copilot.db, copilot.boss
    for i, name in enumerate(("live", "worse", "pending", "failed"), start=1):
        db.register_adapter(boss, tmp_path / name, "sft", name=name)
        gate.record_evaluation(db, boss, name, 100 + i, "synthetic test split", 40)
    gate.finish_evaluation(db, 101, figures(0.8))
    gate.finish_evaluation(db, 102, figures(0.6, critical=0.1))
    gate.finish_evaluation(db, 104, None, "OSError: adapter weights missing")
    gate.activate(db, boss, "live", next(r.seen for r in gate.comparison(db, boss).rows
                                         if r.version.name == "live"))


def _table(at) -> dict[str, dict]:
    df = at.dataframe[1].value  # after the users table
    return {r["version"]: r for r in df.to_dict("records")}


def test_versions_are_shown_beside_the_active_one_with_cis(copilot, tmp_path):
    versions(copilot, tmp_path)
    at = new_app(copilot.boss).run()
    assert not at.exception, at.exception
    rows = _table(at)
    assert rows["live"]["vs active"] == "active" and rows["live"]["fact-F1"] == "0.800 [0.750, 0.850]"
    assert rows["worse"]["fact-F1"] == "0.600 [0.550, 0.650]" and rows["worse"]["n"] == 40
    assert rows["worse"]["vs active"] == "worse: fact-F1, critical omissions"
    assert rows["pending"]["fact-F1"] == "pending" and rows["pending"]["vs active"] == "pending"
    assert rows["failed"]["ROUGE-L"] == "failed"
    for label in ("hallucinated statements", "critical omissions", "high omissions", "ROUGE-L",
                  "stop rate"):
        assert rows["live"][label].count("[") == 1


def test_a_worse_version_needs_a_typed_reason_and_the_reason_is_audited(copilot, tmp_path):
    versions(copilot, tmp_path)
    at = new_app(copilot.boss).run()
    at.selectbox(key="admin_adapter_pick").select("worse").run()
    assert "worse than the active version on fact-F1 0.600" in texts(at)  # (markdown-escaped "<")
    at.button(key="admin_adapter_activate").click().run()
    assert any("needs a typed reason" in e.value for e in at.error)
    assert copilot.db.active_adapter(copilot.boss).name == "live"
    at.text_input(key="admin_adapter_reason").input("shorter impressions wanted by the lab")
    at.button(key="admin_adapter_activate").click().run()
    assert not at.error, [e.value for e in at.error]
    assert copilot.db.active_adapter(copilot.boss).name == "worse"
    entry = [e for e in copilot.db.audit_log(copilot.boss) if e.action == "adapter.select"][-1]
    assert entry.user == "boss"
    assert json.loads(entry.detail)["reason"] == "shorter impressions wanted by the lab"


def test_a_comparison_that_changed_after_the_page_was_drawn_is_refused(copilot, tmp_path):
    versions(copilot, tmp_path)
    at = new_app(copilot.boss).run()
    at.selectbox(key="admin_adapter_pick").select("pending").run()
    at.text_input(key="admin_adapter_reason").input("not evaluated yet but urgent")
    # the evaluation the admin sees as pending finishes, worse, before the click
    gate.finish_evaluation(copilot.db, 103, figures(0.2))
    at.button(key="admin_adapter_activate").click().run()
    assert any("changed since the page was drawn" in e.value for e in at.error)
    assert copilot.db.active_adapter(copilot.boss).name == "live"
    assert _table(at)["pending"]["fact-F1"] == "0.200 [0.150, 0.250]"  # now shown; a new click decides


def test_rollback_is_one_click(copilot, tmp_path):
    versions(copilot, tmp_path)
    at = new_app(copilot.boss).run()
    at.selectbox(key="admin_adapter_pick").select("worse").run()
    at.text_input(key="admin_adapter_reason").input("trial")
    at.button(key="admin_adapter_activate").click().run()
    assert copilot.db.active_adapter(copilot.boss).name == "worse"
    assert at.button(key="admin_adapter_rollback").label == "Roll back to live"
    at.button(key="admin_adapter_rollback").click().run()
    assert copilot.db.active_adapter(copilot.boss).name == "live"
    assert any("Rolled back: live is active again." in s.value for s in at.success)
    assert [e.action for e in copilot.db.audit_log(copilot.boss)].count("adapter.rollback") == 1


def test_monitoring_plot_and_csv_come_from_the_review_records(copilot, tmp_path):
    from app import services

    versions(copilot, tmp_path)
    db, doc = copilot.db, copilot.doc
    d = db.save_draft(doc, "S-NORMAL", GOOD, "m@1", "live (sft)", None, None)
    db.approve(doc, d.id, d.version, confirm=True)  # unedited
    d = db.save_draft(doc, "S-HFREF", "1. Normal LV.", "m@1", "live (sft)", None, None)
    d = db.edit_draft(doc, d.id, "1. Severely reduced LV systolic function, LVEF 25 %.", d.version, None)
    db.approve(doc, d.id, d.version, confirm=True)  # edited: 8 words changed
    at = new_app(copilot.boss).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="admin_monitor_measure").value == "approved_unedited"
    rows = list(csv.DictReader(io.StringIO(services.monitoring_csv(copilot.boss))))
    assert len(rows) == 1 and rows[0]["version"] == "live" and rows[0]["drafts"] == "2"
    assert float(rows[0]["approved_unedited"]) == 0.5 and float(rows[0]["edit_distance"]) == 4.0
    at.selectbox(key="admin_monitor_measure").select("edit_distance").run()
    assert not at.exception, at.exception


def test_a_reason_typed_for_one_version_is_not_kept_for_another(copilot, tmp_path):
    versions(copilot, tmp_path)
    at = new_app(copilot.boss).run()
    at.selectbox(key="admin_adapter_pick").select("worse").run()
    at.text_input(key="admin_adapter_reason").input("fine for worse").run()
    at.selectbox(key="admin_adapter_pick").select("pending").run()
    assert at.text_input(key="admin_adapter_reason").value == ""
    at.button(key="admin_adapter_activate").click().run()
    assert any("needs a typed reason" in e.value for e in at.error)
    assert copilot.db.active_adapter(copilot.boss).name == "live"


def test_evaluate_starts_a_gate_job_for_an_unjudged_version(copilot, tmp_path, monkeypatch):
    from echogpt.batch import worker

    started: list[int] = []
    monkeypatch.setattr(worker, "start_worker", lambda _db, _user, job: started.append(job))
    monkeypatch.setenv("ECHOGPT_GATE_N", "2")
    versions(copilot, tmp_path)
    at = new_app(copilot.boss).run()
    at.selectbox(key="admin_adapter_pick").select("failed").run()
    at.button(key="admin_adapter_evaluate").click().run()
    assert not at.error, [e.value for e in at.error]
    ev = gate.evaluation_of(copilot.db, copilot.boss, "failed")
    assert (ev.status, ev.n, ev.job_id) == ("pending", 2, started[0])
    assert _table(at)["failed"]["fact-F1"] == "pending"
    at.selectbox(key="admin_adapter_pick").select("pending").run()
    assert all(b.key != "admin_adapter_evaluate" for b in at.button)  # running: no second start
