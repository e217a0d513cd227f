"""The store on SQLite and PostgreSQL: the review flow, roles on every function, optimistic locking
with two engines, crash consistency, the append-only audit log and clean application logs."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta

import _db
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from echogpt.review import workflow as review
from echogpt.review.permissions import PermissionDenied
from echogpt.review.store import ConflictError, NotFound, Store
from echogpt.review.workflow import InvalidTransition, Status
from echogpt.schemas import CheckResult, Fact, Omission, StatementCheck, Study

db_url, people, pg_url = _db.db_url, _db.people, _db.pg_url  # fixtures
MODEL = "embedded:smollm2-135m-instruct"


def study(tag: str, n: int = 1, findings: str = "Normal LV size. LVEF 60% by biplane.") -> Study:
    return Study(study_id=f"S{n}-{tag}", patient_id=f"PAT{n}-{tag}", findings_text=findings,
                 study_date="2025-01-02")


def check(sid: str, verdict: str = "supported", facts: list[Fact] | None = None,
          omissions: list[Omission] | None = None) -> CheckResult:
    return CheckResult(study_id=sid, statements=[StatementCheck(
        text="Normal LV.", start=0, end=10, verdict=verdict, reason="test", facts=facts or [])],
        omissions=omissions or [])


def drafted(p, n: int = 1, text_: str = "1. Normal LV size and function.", chk=None):
    st = study(p.tag, n)
    p.db.create_study(p.doc, st)
    d = p.db.save_draft(p.doc, st.study_id, text_, MODEL, "adapters/a1", "h123",
                        chk if chk is not None else check(st.study_id))
    return st, d


def test_full_flow_and_final_report(people):
    p = people
    st, d = drafted(p)
    assert [i.status for i in p.db.list_worklist(p.doc) if i.study_id == st.study_id] == [Status.drafted]
    d2 = p.db.edit_draft(p.doc, d.id, "1. Normal LV size and systolic function.", d.version,
                         check(st.study_id))
    assert d2.version == d.version + 1 and d2.model_text == d.text
    rep = p.db.approve(p.doc, d2.id, d2.version)
    assert rep.status == Status.approved and rep.edited and rep.signed_by is None
    rep = p.db.sign(p.doc, rep.id, rep.version)
    assert rep.status == Status.signed and rep.signed_by == p.doc.name
    with pytest.raises(InvalidTransition, match="addendum"):
        p.db.edit_draft(p.doc, d2.id, "changed after signing", d2.version + 1, check(st.study_id))
    p.db.add_addendum(p.doc, rep.id, "Contrast images reviewed: no thrombus.", rep.version)
    final = p.db.final_report(p.doc, st.study_id)
    assert "1. Normal LV size and systolic function." in final
    assert "AI assistance" in final and MODEL in final and "adapters/a1" in final
    assert f"signed by {p.doc.name}" in final and "no thrombus" in final.split("ADDENDUM")[1]
    actions = [a.action for a in p.db.audit_log(p.admin, st.study_id)]
    assert actions[:6] == ["study.create", "draft.draft", "draft.edit", "draft.approve",
                           "report.sign", "report.addendum"]
    edit = next(a for a in p.db.audit_log(p.admin, st.study_id) if a.action == "draft.edit")
    # one word ("systolic") inserted
    assert edit.edit_distance == 1 and "+1. Normal LV size and systolic function." in edit.diff
    approve = next(a for a in p.db.audit_log(p.admin, st.study_id) if a.action == "draft.approve")
    assert approve.seconds_to_approve is not None and approve.seconds_to_approve >= 0


def test_reads_are_audited(people):
    p = people
    st = study(p.tag)
    p.db.create_study(p.doc, st)
    assert p.db.get_study(p.doc2, st.study_id).findings_text == st.findings_text
    item = p.db.worklist_item(p.doc2, st.study_id)
    assert (item.status, item.patient_id, item.draft_id) == (Status.pending, st.patient_id, None)
    reads = [a for a in p.db.audit_log(p.admin, st.study_id) if a.action == "study.read"]
    assert len(reads) == 1 and reads[0].user == p.doc2.name
    with pytest.raises(NotFound):
        p.db.get_study(p.doc, "no-such-study")


def test_audit_log_is_append_only(people):
    p = people
    p.db.create_study(p.doc, study(p.tag))
    statements = ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"]
    if p.db.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")
    for sql in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            with p.db.engine.begin() as conn:
                conn.execute(text(sql))
    assert any(a.action == "study.create" for a in p.db.audit_log(p.admin))


def _calls(p, st, d, rep_id):
    """Every store and review function, called by some user."""
    now = datetime.now(UTC)
    return {
        "create_study": lambda u: p.db.create_study(u, study(p.tag, 9)),
        "get_study": lambda u: p.db.get_study(u, st.study_id),
        "list_worklist": lambda u: p.db.list_worklist(u),
        "save_draft": lambda u: p.db.save_draft(u, st.study_id, "x", MODEL, None, None, None,
                                                expected_version=d.version),
        "current_draft": lambda u: p.db.current_draft(u, st.study_id),
        "edit_draft": lambda u: p.db.edit_draft(u, d.id, "x", d.version, None),
        "approve": lambda u: p.db.approve(u, d.id, d.version),
        "reject": lambda u: p.db.reject(u, d.id, "wrong study", d.version),
        "record_notification": lambda u: p.db.record_notification(u, st.study_id, "thrombus", "Dr X",
                                                                   now, 2),
        "sign": lambda u: p.db.sign(u, rep_id, 3),
        "add_addendum": lambda u: p.db.add_addendum(u, rep_id, "more", 3),
        "worklist_item": lambda u: p.db.worklist_item(u, st.study_id),
        "get_report": lambda u: p.db.get_report(u, st.study_id),
        "final_report": lambda u: p.db.final_report(u, st.study_id),
        "verify_signature": lambda u: p.db.verify_signature(u, st.study_id),
        "pending_notifications": lambda u: p.db.pending_notifications(u, st.study_id),
        "rejection_reason": lambda u: p.db.rejection_reason(u, st.study_id),
        "audit_log": lambda u: p.db.audit_log(u, st.study_id),
        "register_adapter": lambda u: p.db.register_adapter(u, "/a", "sft"),
        "select_adapter": lambda u: p.db.select_adapter(u, "none"),
        "list_adapters": lambda u: p.db.list_adapters(u),
        "active_adapter": lambda u: p.db.active_adapter(u),
        "feedback_items": lambda u: p.db.feedback_items(u),
        "clear_for_export": lambda u: p.db.clear_for_export(u, rep_id),
        "add_user": lambda u: p.db.add_user(u, f"new-{p.tag}", "reader", "long-password"),
        "list_users": lambda u: p.db.list_users(u),
        "set_password": lambda u: p.db.set_password(u, p.doc2.name, "long-password"),
        "transition": lambda u: review.transition(u, Status.drafted, "approve"),
    }


DENIED = {  # function -> roles that must be refused
    # Readers see nothing of the clinical worklist, drafts or reports (they would unblind cases).
    "get_study": ["reader"], "list_worklist": ["reader"], "current_draft": ["reader"],
    "worklist_item": ["reader"], "get_report": ["reader"], "final_report": ["reader"],
    "verify_signature": ["reader"], "pending_notifications": ["reader"],
    "rejection_reason": ["reader"],
    "create_study": ["reader"], "save_draft": ["reader", "admin"], "edit_draft": ["reader", "admin"],
    "approve": ["reader", "admin"], "reject": ["reader", "admin"],
    "record_notification": ["reader", "admin"], "sign": ["reader", "admin"],
    "add_addendum": ["reader", "admin"], "audit_log": ["reader"],
    "register_adapter": ["doc", "reader"], "select_adapter": ["doc", "reader"],
    "list_adapters": ["reader"], "active_adapter": ["reader"], "feedback_items": ["doc", "reader"],
    "clear_for_export": ["doc", "reader"], "transition": ["reader", "admin"],
    "add_user": ["doc", "reader"], "list_users": ["doc", "reader"], "set_password": ["doc", "reader"],
}


def test_every_function_enforces_the_role(people):
    p = people
    st, d = drafted(p)
    other, d_other = drafted(p, 2)
    rep = p.db.approve(p.doc, d_other.id, d_other.version)
    calls = _calls(p, st, d, rep.id)
    calls["sign"] = lambda u: p.db.sign(u, rep.id, rep.version)
    for name, roles in DENIED.items():
        for role in roles:
            with pytest.raises(PermissionDenied, match="needs the"):
                calls[name](getattr(p, role))
    # Nothing was changed by the refused calls.
    assert p.db.current_draft(p.doc, st.study_id).version == d.version
    assert p.db.get_report(p.doc, other.study_id).status == Status.approved
    assert set(DENIED) <= set(calls)


def test_deactivated_user_is_refused_at_once(people):
    p = people
    with p.db.engine.begin() as conn:
        conn.execute(text("UPDATE users SET active = false WHERE id = :i"), {"i": p.doc2.id})
    with pytest.raises(PermissionDenied, match="not an active account"):
        p.db.list_worklist(p.doc2)


def test_two_engines_second_save_gets_conflict_with_other_text(people, db_url):
    p = people
    st, d = drafted(p)
    other = Store(db_url, migrate=False)  # a second engine: its own connections
    try:
        mine = p.db.current_draft(p.doc, st.study_id)
        theirs = other.current_draft(p.doc2, st.study_id)
        assert mine.version == theirs.version
        saved = other.edit_draft(p.doc2, theirs.id, "1. Their wording.", theirs.version, None)
        with pytest.raises(ConflictError) as err:
            p.db.edit_draft(p.doc, mine.id, "1. My wording.", mine.version, None)
        assert err.value.current_text == "1. Their wording."
        assert err.value.current_version == saved.version and err.value.updated_by == p.doc2.name
        with pytest.raises(ConflictError):
            p.db.approve(p.doc, mine.id, mine.version)
        assert p.db.current_draft(p.doc, st.study_id).text == "1. Their wording."
    finally:
        other.dispose()


def test_two_engines_racing_threads_exactly_one_save_lands(people, db_url):
    p = people
    st, d = drafted(p)
    stores = [p.db, Store(db_url, migrate=False)]
    barrier, outcomes = threading.Barrier(2), []

    def save(i: int) -> None:
        barrier.wait()
        try:
            stores[i].edit_draft([p.doc, p.doc2][i], d.id, f"text {i}", d.version, None)
            outcomes.append(("ok", i))
        except ConflictError as exc:
            outcomes.append(("conflict", exc.current_text))

    threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    stores[1].dispose()
    assert sorted(o[0] for o in outcomes) == ["conflict", "ok"]
    winner = next(o[1] for o in outcomes if o[0] == "ok")
    assert next(o[1] for o in outcomes if o[0] == "conflict") == f"text {winner}"
    assert p.db.current_draft(p.doc, st.study_id).version == d.version + 1


def test_error_inside_a_save_leaves_nothing_partial(people, monkeypatch):
    p = people
    st, d = drafted(p)
    before = len(p.db.audit_log(p.admin, st.study_id))

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Store, "audit", boom)
    with pytest.raises(RuntimeError):
        p.db.edit_draft(p.doc, d.id, "half-saved text", d.version, None)
    with pytest.raises(RuntimeError):
        p.db.approve(p.doc, d.id, d.version)
    monkeypatch.undo()
    now = p.db.current_draft(p.doc, st.study_id)
    assert (now.text, now.version) == (d.text, d.version)
    assert p.db.get_report(p.doc, st.study_id) is None
    assert [i.status for i in p.db.list_worklist(p.doc, "drafted") if i.study_id == st.study_id]
    after = p.db.audit_log(p.admin, st.study_id)
    assert not any(a.action in ("draft.edit", "draft.approve") for a in after)
    assert {a.action for a in after[before:]} <= {"audit.read", "draft.read", "report.read"}


KILLED_SAVE = textwrap.dedent("""
    import sys, time
    from sqlalchemy import text
    from echogpt.review.store import Store
    db = Store(sys.argv[1], migrate=False)
    with db.transaction() as s:
        s.execute(text("UPDATE drafts SET text = 'killed mid-save', version = version + 1 "
                       "WHERE id = :i"), {"i": int(sys.argv[2])})
        s.execute(text("UPDATE studies SET status = 'approved'"))
        print("ready", flush=True)
        time.sleep(60)
""")


def test_process_killed_mid_save_leaves_database_consistent(people, db_url):
    p = people
    st, d = drafted(p)
    proc = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, db_url, str(d.id)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
    finally:
        proc.kill()
        proc.wait(30)
    now = p.db.current_draft(p.doc, st.study_id)
    assert (now.text, now.version) == (d.text, d.version)
    saved = p.db.edit_draft(p.doc, d.id, "1. Saved after the crash.", d.version, None)  # not locked
    assert saved.version == d.version + 1
    assert {i.status for i in p.db.list_worklist(p.doc) if i.study_id == st.study_id} == {Status.drafted}


def test_flagged_draft_needs_confirmation(people):
    p = people
    st = study(p.tag)
    p.db.create_study(p.doc, st)
    d = p.db.save_draft(p.doc, st.study_id, "1. Severe AS.", MODEL, None, "h",
                        check(st.study_id, "contradicted"))
    with pytest.raises(review.ConfirmationRequired, match="contradicted"):
        p.db.approve(p.doc, d.id, d.version)
    rep = p.db.approve(p.doc, d.id, d.version, confirm=True)
    entry = next(a for a in p.db.audit_log(p.admin, st.study_id) if a.action == "draft.approve")
    assert rep.status == Status.approved and "confirmed despite" in entry.detail


def test_critical_finding_needs_notification_before_signing(people):
    p = people
    st = study(p.tag)
    p.db.create_study(p.doc, st)
    tamponade = Fact(concept="tamponade", polarity="present")
    d = p.db.save_draft(p.doc, st.study_id, "1. Tamponade physiology.", MODEL, None, "h",
                        check(st.study_id, facts=[tamponade]))
    rep = p.db.approve(p.doc, d.id, d.version)
    assert p.db.pending_notifications(p.doc, st.study_id) == ["tamponade physiology"]
    with pytest.raises(review.NotificationRequired, match="tamponade physiology"):
        p.db.sign(p.doc, rep.id, rep.version)
    with pytest.raises(ValueError, match="future"):
        p.db.record_notification(p.doc, st.study_id, "tamponade physiology", "Dr. Ward",
                                 datetime.now(UTC) + timedelta(hours=1), rep.version)
    at = datetime(2025, 1, 2, 14, 5, tzinfo=UTC)
    p.db.record_notification(p.doc, st.study_id, "Tamponade physiology", "on-call resident", at,
                             rep.version)
    rep = p.db.sign(p.doc, rep.id, rep.version + 1)
    assert rep.status == Status.signed and rep.notifications[0].at == at
    assert "communicated to on-call resident at 2025-01-02 14:05 UTC" in p.db.final_report(
        p.doc, st.study_id)


def test_regenerate_and_reject(people):
    p = people
    st, d = drafted(p)
    with pytest.raises(ConflictError):
        p.db.save_draft(p.doc, st.study_id, "new", MODEL, None, "h", None, expected_version=d.version + 5)
    d2 = p.db.save_draft(p.doc, st.study_id, "1. Regenerated.", MODEL, None, "h", None,
                         expected_version=d.version)
    assert p.db.current_draft(p.doc, st.study_id).id == d2.id
    with pytest.raises(ConflictError, match="replaced"):
        p.db.edit_draft(p.doc, d.id, "edit of the old draft", d.version + 1, None)
    with pytest.raises(ValueError, match="reason"):
        p.db.reject(p.doc, d2.id, "  ", d2.version)
    p.db.reject(p.doc, d2.id, "Describes another patient's valve.", d2.version)
    assert p.db.current_draft(p.doc, st.study_id) is None
    assert [i.status for i in p.db.list_worklist(p.doc, "rejected") if i.study_id == st.study_id]
    with pytest.raises(InvalidTransition):
        p.db.approve(p.doc, d2.id, d2.version + 1)
    d3 = p.db.save_draft(p.doc, st.study_id, "1. Third try.", MODEL, None, "h", None)
    assert d3.version == 1
    entry = next(a for a in p.db.audit_log(p.admin, st.study_id) if a.action == "draft.reject")
    assert entry.detail == "Describes another patient's valve."
    assert p.db.rejection_reason(p.doc2, st.study_id) == "Describes another patient's valve."


def test_edit_runs_a_checker_callable(people):
    p = people
    st, d = drafted(p)
    seen = []

    def checker(impression: str, s: Study) -> CheckResult:
        seen.append((impression, s.study_id))
        return check(s.study_id, "unsupported")

    saved = p.db.edit_draft(p.doc, d.id, "1. Mild MR.", d.version, checker)
    assert seen == [("1. Mild MR.", st.study_id)] and saved.check.summary["unsupported"] == 1


def test_import_skips_existing_and_duplicates(people):
    p = people
    a, b = study(p.tag, 1), study(p.tag, 2)
    p.db.create_study(p.doc, a)
    with pytest.raises(ValueError, match="already exists"):
        p.db.create_study(p.doc, a)
    added = p.db.import_studies(p.admin, [a, b, b])
    assert [x.study_id for x in added] == [b.study_id]


def test_adapter_versions(people):
    p = people
    v1 = p.db.register_adapter(p.admin, "runs/sft", "sft", name=f"sft-{p.tag}")
    v2 = p.db.register_adapter(p.admin, "runs/dpo", "dpo", name=f"dpo-{p.tag}",
                                   parent=v1.name, metrics={"steps": 3})
    assert v2.parent == v1.name and not v2.active and v2.metrics == {"steps": 3}
    p.db.select_adapter(p.admin, v1.name)
    p.db.select_adapter(p.admin, v2.name)
    assert p.db.active_adapter(p.doc).name == v2.name
    assert sum(v.active for v in p.db.list_adapters(p.doc)) == 1
    with pytest.raises(NotFound):
        p.db.select_adapter(p.admin, "missing")


def test_no_identifiers_or_text_in_application_logs(people, caplog):
    p = people
    caplog.set_level(logging.DEBUG)
    st = Study(study_id=f"ACC-77{p.tag}", patient_id=f"MRN-55{p.tag}",
               findings_text="Quokka-marker findings prose.")
    p.db.create_study(p.doc, st)
    d = p.db.save_draft(p.doc, st.study_id, "1. Wombat-marker draft.", MODEL, None, "h",
                        check(st.study_id))
    d = p.db.edit_draft(p.doc, d.id, "1. Numbat-marker edit.", d.version, check(st.study_id))
    with pytest.raises(ConflictError):
        p.db.edit_draft(p.doc2, d.id, "1. Bilby-marker.", d.version - 1, None)
    rep = p.db.approve(p.doc, d.id, d.version)
    p.db.sign(p.doc, rep.id, rep.version)
    p.db.final_report(p.doc, st.study_id)
    assert caplog.records, "the flow should log something"
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    for secret in (st.study_id, st.patient_id, "Quokka", "Wombat", "Numbat", "Bilby"):
        assert secret not in logged


def test_sqlite_pragmas(tmp_path):
    db = Store(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    db.dispose()


def _migration_head() -> str:
    """The single head revision of the shipped migration scripts."""
    from pathlib import Path

    from alembic.script import ScriptDirectory

    import echogpt

    heads = ScriptDirectory(str(Path(echogpt.__file__).with_name("migrations"))).get_heads()
    assert len(heads) == 1, f"migration history has several heads: {heads}"
    return heads[0]


def test_migrations_match_the_models_and_rerun_cleanly(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from echogpt.review.store import upgrade_db
    from echogpt.review.tables import Base

    upgrade_db(db_url)
    upgrade_db(db_url)  # at head already: a no-op
    db = Store(db_url, migrate=False)
    try:
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            at = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert at == _migration_head()
    finally:
        db.dispose()
    assert diff == []


def test_plain_postgres_urls_use_psycopg3():
    from echogpt.review.database import normalize_url

    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:////tmp/x.sqlite") == "sqlite:////tmp/x.sqlite"


# ---------------------------------------------------------------- every transition on the version shown


def test_every_transition_refuses_a_stale_version_with_the_other_text(people):
    p = people
    st, d = drafted(p)
    theirs = p.db.edit_draft(p.doc2, d.id, "1. Their wording.", d.version, check(st.study_id))
    for act in (lambda: p.db.approve(p.doc, d.id, d.version),
                lambda: p.db.reject(p.doc, d.id, "wrong patient", d.version),
                lambda: p.db.save_draft(p.doc, st.study_id, "1. New draft.", MODEL, None, "h", None,
                                        expected_version=d.version)):
        with pytest.raises(ConflictError) as err:
            act()
        assert err.value.current_text == "1. Their wording." and err.value.updated_by == p.doc2.name
    assert p.db.current_draft(p.doc, st.study_id).version == theirs.version  # nothing changed
    assert [i.status for i in p.db.list_worklist(p.doc) if i.study_id == st.study_id] == [Status.drafted]


def test_report_actions_refuse_a_report_changed_since_it_was_shown(people):
    p = people
    st = study(p.tag)
    p.db.create_study(p.doc, st)
    tamponade = Fact(concept="tamponade", polarity="present")
    d = p.db.save_draft(p.doc, st.study_id, "1. Tamponade physiology.", MODEL, None, "h",
                        check(st.study_id, facts=[tamponade]))
    shown = p.db.approve(p.doc, d.id, d.version)  # what the signer has on screen
    at = datetime(2025, 1, 2, 14, 5, tzinfo=UTC)
    p.db.record_notification(p.doc2, st.study_id, "tamponade physiology", "Dr. Ward", at, shown.version)
    with pytest.raises(ConflictError) as err:  # the report now states a notification not seen
        p.db.sign(p.doc, shown.id, shown.version)
    assert "communicated to Dr. Ward" in err.value.current_text and err.value.updated_by == p.doc2.name
    with pytest.raises(ConflictError):
        p.db.record_notification(p.doc, st.study_id, "tamponade physiology", "Dr. Lee", at, shown.version)
    signed = p.db.sign(p.doc, shown.id, err.value.current_version)
    p.db.add_addendum(p.doc2, signed.id, "Their addendum.", signed.version)
    with pytest.raises(ConflictError) as err:
        p.db.add_addendum(p.doc, signed.id, "Mine.", signed.version)
    assert "Their addendum." in err.value.current_text
    assert "Mine." not in p.db.final_report(p.doc, st.study_id)


# ---------------------------------------------------------------- what a signed report issues


def _signed_tamponade(p):
    st = study(p.tag)
    p.db.create_study(p.doc, st)
    d = p.db.save_draft(p.doc, st.study_id, "1. Tamponade physiology.", MODEL, None, "h",
                        check(st.study_id, facts=[Fact(concept="tamponade", polarity="present")]))
    rep = p.db.approve(p.doc, d.id, d.version)
    p.db.record_notification(p.doc, st.study_id, "tamponade physiology", "Dr. Ward",
                             datetime(2025, 1, 2, 14, 5, tzinfo=UTC), rep.version)
    return st, p.db.sign(p.doc, rep.id, rep.version + 1)


def test_notifications_are_validated(people):
    p = people
    st = study(p.tag)
    p.db.create_study(p.doc, st)
    now = datetime.now(UTC)
    with pytest.raises(InvalidTransition, match="pending"):
        p.db.record_notification(p.doc, st.study_id, "tamponade physiology", "Dr. Ward", now, 1)
    d = p.db.save_draft(p.doc, st.study_id, "1. Tamponade physiology.", MODEL, None, "h",
                        check(st.study_id, facts=[Fact(concept="tamponade", polarity="present")]))
    v = p.db.worklist_item(p.doc, st.study_id).version
    cases = [("free text of anything", "Dr. Ward", now, "not a critical finding"),
             ("tamponade physiology", "Dr. Ward", datetime(1900, 1, 1, tzinfo=UTC), "before the study"),
             ("tamponade physiology", "Dr. Ward", now + timedelta(minutes=5), "future"),
             ("tamponade physiology", "x" * 300, now, "256 characters"),
             ("tamponade physiology", "  ", now, "who was notified")]
    for finding, whom, at, message in cases:
        with pytest.raises(ValueError, match=message):
            p.db.record_notification(p.doc, st.study_id, finding, whom, at, v)
    assert p.db.pending_notifications(p.doc, st.study_id) == ["tamponade physiology"]
    assert d.version == 1


def test_a_signed_report_changes_only_by_addenda(people):
    p = people
    st, signed = _signed_tamponade(p)
    issued = p.db.final_report(p.doc, st.study_id)
    assert p.db.verify_signature(p.doc, st.study_id)
    late = datetime.now(UTC) - timedelta(minutes=1)
    p.db.record_notification(p.doc, st.study_id, "Tamponade physiology", "Dr. Late (ICU)", late,
                             signed.version)
    after = p.db.final_report(p.doc, st.study_id)
    assert after.startswith(issued)  # the signed text is untouched; the late call is an addendum
    assert "communicated to Dr. Late (ICU)" in after.split("ADDENDUM", 1)[1]
    assert p.db.verify_signature(p.doc, st.study_id)
    changes = [a.action for a in p.db.audit_log(p.admin, st.study_id)
               if not a.action.endswith((".read", ".verify"))]
    assert changes[-3:] == ["report.sign", "report.addendum", "notification.record"]


def test_the_signature_covers_everything_the_report_issues(people):
    import hashlib

    p = people
    st, signed = _signed_tamponade(p)
    assert p.db.verify_signature(p.doc, st.study_id)
    with p.db.engine.begin() as conn:  # someone edits the notification under the signature
        conn.execute(text("UPDATE notifications SET notified = 'Nobody' WHERE finding = :f"),
                     {"f": "tamponade physiology"})
    assert not p.db.verify_signature(p.doc, st.study_id)
    # A signature made before hash version 2 covered the impression alone and still verifies.
    with p.db.engine.begin() as conn:
        conn.execute(text("UPDATE signatures SET hash_version = 1, text_sha256 = :h WHERE report_id = :r"),
                     {"h": hashlib.sha256(b"1. Tamponade physiology.").hexdigest(), "r": signed.id})
    assert p.db.verify_signature(p.doc, st.study_id)
    with p.db.engine.begin() as conn:
        conn.execute(text("UPDATE reports SET final_text = 'changed' WHERE id = :r"), {"r": signed.id})
    assert not p.db.verify_signature(p.doc, st.study_id)


def test_regenerating_a_draft_replaced_since_is_refused(people):
    p = people
    st, d = drafted(p)
    theirs = p.db.save_draft(p.doc2, st.study_id, "1. Theirs.", MODEL, None, "h", None,
                             expected_version=d.version, replaces=d.id)
    assert theirs.version == d.version  # only the draft id tells the two apart
    with pytest.raises(ConflictError) as err:
        p.db.save_draft(p.doc, st.study_id, "1. Mine.", MODEL, None, "h", None,
                        expected_version=d.version, replaces=d.id)
    assert err.value.current_text == "1. Theirs." and err.value.updated_by == p.doc2.name
    assert p.db.current_draft(p.doc, st.study_id).text == "1. Theirs."
