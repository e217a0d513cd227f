"""The copilot driven through Streamlit's AppTest: sign-in, navigation by role, worklist, import
with rejects, study form, draft -> edit -> approve -> sign -> addendum, reject, confirmation of
flagged drafts, critical-finding notification, lost-update conflict, admin, and rendering while
another session's draft is generating. The tiny test model drafts; the real checker checks.
"""

from __future__ import annotations

import html
import json
import threading
import time

import pytest
from _app_fixtures import (  # noqa: F401  (fixtures)
    PASSWORDS,
    build_talking_model,
    copilot_fixture,
    new_app,
    talking_model_fixture,
    texts,
)

GOOD = "1. Normal left ventricular size and systolic function, LVEF 60 %."


def _open(at, study_id: str):
    at.selectbox(key="worklist_pick").select(study_id)
    return at.button(key="worklist_open").click().run()


def _generated(copilot, user, study_id: str):
    """An AppTest on the draft page of ``study_id`` after clicking Generate."""
    at = _open(new_app(user).run(), study_id)
    at.button(key="generate").click().run()
    assert not at.exception, at.exception
    return at


def _edit(at, text: str):
    at.text_area(key="edit_text").input(text)
    return at.button(key="save_edit").click().run()


def _actions(copilot, study_id: str) -> list[str]:
    return [a.action for a in copilot.db.audit_log(copilot.boss, study_id)]


# ---------------------------------------------------------------- sign-in and navigation


def test_login_refuses_wrong_password_then_signs_in(copilot):
    at = new_app().run()
    at.text_input(key="login_name").input("doc")
    at.text_input(key="login_password").input("wrong-password")
    at.button(key="login_submit").click().run()
    assert [e.value for e in at.error] == ["Unknown user name or wrong password."]
    assert at.session_state["user"] is None
    at.text_input(key="login_password").input(PASSWORDS["doc"])
    at.button(key="login_submit").click().run()
    assert at.session_state["user"].name == "doc"
    assert [t.value for t in at.title] == ["Worklist"]
    assert "login.failed" in [a.action for a in copilot.db.audit_log(copilot.boss)]


@pytest.mark.parametrize(("who", "landing", "allowed", "refused"), [
    ("doc", "Worklist", ["views/draft_page.py", "views/reports_page.py"], ["views/admin_page.py"]),
    ("reader", "Reader study", ["views/reader_page.py", "views/account_page.py"],
     ["views/draft_page.py", "views/worklist_page.py", "views/reports_page.py", "views/batch_page.py",
      "views/admin_page.py"]),
    ("boss", "Admin", ["views/worklist_page.py", "views/reports_page.py"], ["views/draft_page.py"]),
])
def test_navigation_shows_pages_by_role(copilot, who, landing, allowed, refused):
    at = new_app(getattr(copilot, who)).run()
    assert [t.value for t in at.title] == [landing]
    for page in allowed:
        at.switch_page(page).run()
        assert not at.exception
    for page in refused:
        with pytest.raises(ValueError, match="not a registered page|Could not find"):
            at.switch_page(page)


def test_sign_out_returns_to_login(copilot):
    at = new_app(copilot.doc).run()
    at.switch_page("views/account_page.py").run()
    at.button(key="sign_out").click().run()
    assert at.session_state["user"] is None
    assert [t.value for t in at.title] == ["EchoGPT copilot"]


# ---------------------------------------------------------------- worklist


def test_worklist_filters_by_status(copilot):
    copilot.db.save_draft(copilot.doc, "S-HFREF", "1. LVEF 25 %.", "m", None, None, None)
    at = new_app(copilot.doc).run()
    assert len(at.dataframe[0].value) == 3
    at.segmented_control(key="worklist_status").set_value("drafted").run()
    assert list(at.dataframe[0].value["study_id"]) == ["S-HFREF"]
    at.segmented_control(key="worklist_status").set_value("signed").run()
    assert [i.value for i in at.info] == ["No studies with this status."]


def test_import_adds_valid_rows_and_shows_rejects(copilot):
    rows = [{"study_id": "NEW-1", "findings_text": "Normal study."},
            {"study_id": "NEW-2", "measurements": {"lvef": 150}, "findings_text": "LVEF 150 %."},
            {"study_id": "S-NORMAL", "findings_text": "Already on the worklist."}]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    at = new_app(copilot.doc).run()
    at.file_uploader(key="import_file").set_value(("studies.jsonl", data, "application/jsonl"))
    at.run()
    at.button(key="import_submit").click().run()
    assert not at.exception
    assert "Imported 1 studies (1 already on the worklist)." in [s.value for s in at.success]
    rejects = at.dataframe[-1].value  # worklist table, then the rejects
    assert list(rejects["row"]) == [2] and "lvef" in rejects["reason"][0].lower()
    assert at.download_button(key="import_rejects_download").label == "Download rejects (JSONL)"
    line = json.loads(at.session_state["import_result"].rejects_jsonl)
    assert line["row"] == 2 and line["raw"]["study_id"] == "NEW-2"
    ids = {i.study_id for i in copilot.db.list_worklist(copilot.doc)}
    assert "NEW-1" in ids and "NEW-2" not in ids


def test_unreadable_import_is_one_error_and_adds_nothing(copilot):
    at = new_app(copilot.doc).run()
    at.file_uploader(key="import_file").set_value(("studies.jsonl", b"  \n", "application/jsonl"))
    at.run()
    at.button(key="import_submit").click().run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Nothing imported:") and "empty" in errors[0]
    assert len(copilot.db.list_worklist(copilot.doc)) == 3


def test_study_form_validates_then_adds(copilot):
    at = new_app(copilot.doc).run()
    at.text_input(key="form_study_id").input("FORM-1")
    at.text_input(key="form_lvef").input("150")
    at.text_area(key="form_findings_text").input("Dilated LV.")
    at.button(key="form_submit").click().run()
    assert len(at.error) == 1 and "lvef" in at.error[0].value.lower()
    at.text_input(key="form_lvef").input("35")
    at.button(key="form_submit").click().run()
    assert "Study FORM-1 added." in [s.value for s in at.success]
    assert copilot.db.get_study(copilot.doc, "FORM-1").measurements.lvef.low == 35


# ---------------------------------------------------------------- the draft page


def test_draft_edit_approve_sign_addendum(copilot):
    at = _generated(copilot, copilot.doc, "S-NORMAL")
    assert "Draft generated and checked." in [s.value for s in at.success]
    draft = copilot.db.current_draft(copilot.doc, "S-NORMAL")
    assert draft.text.strip() and draft.model.startswith("local:tiny-talking@")
    assert draft.check is not None  # the real checker ran on the generated text
    assert 'class="verdict' in "".join(m.value for m in at.markdown)

    at = _edit(at, GOOD)
    assert "Edit saved and re-checked." in [s.value for s in at.success]
    edited = copilot.db.current_draft(copilot.doc, "S-NORMAL")
    assert edited.text == GOOD and edited.version == draft.version + 1
    assert [s.verdict for s in edited.check.statements] == ["supported"]
    assert 'data-verdict="supported"' in "".join(m.value for m in at.markdown)

    at.button(key="approve").click().run()
    assert "Approved. Sign the report to lock it." in [s.value for s in at.success]
    at.button(key="sign").click().run()
    assert "Report signed and locked." in [s.value for s in at.success]
    final = copilot.db.final_report(copilot.doc, "S-NORMAL")
    assert GOOD in final and "AI assistance" in final and "local:tiny-talking@" in final
    assert "Electronically signed by doc" in final
    assert "edit_text" not in [t.key for t in at.text_area]  # signed: read-only
    assert [b.key for b in at.button if b.key in ("approve", "save_edit", "sign")] == []

    at.text_area(key="addendum_text").input("Image quality was limited.")
    at.button(key="add_addendum").click().run()
    final = copilot.db.final_report(copilot.doc, "S-NORMAL")
    assert final.index(GOOD) < final.index("ADDENDUM") < final.index("Image quality was limited.")
    actions = _actions(copilot, "S-NORMAL")
    for expected in ("draft.draft", "draft.edit", "draft.approve", "report.sign", "report.addendum"):
        assert expected in actions


def test_guarded_draft_marks_its_interventions_and_keeps_the_unguarded_text(copilot):
    at = _generated(copilot, copilot.doc, "S-TAMPONADE")
    draft = copilot.db.current_draft(copilot.doc, "S-TAMPONADE")
    added = [i for i in draft.guard.interventions if i.kind == "added"]  # the model left tamponade out
    assert any("tamponade" in i.reason for i in added)
    page = "".join(m.value for m in at.markdown)
    assert page.count('class="guard-mark guard-added"') == len(added)
    shown = html.unescape(page)
    assert 'title="added: ' in shown and "finding omitted by the draft" in shown  # the reason as tooltip
    assert "draft.guard.added" in _actions(copilot, "S-TAMPONADE")
    assert draft.guard.unguarded_text not in [t.value for t in at.text]
    at.toggle(key="show_unguarded").set_value(True).run()
    assert draft.guard.unguarded_text in [t.value for t in at.text]


def test_drafting_failure_is_one_line_and_loses_nothing(copilot, monkeypatch, tmp_path):
    monkeypatch.setenv("ECHOGPT_BASE_MODEL", str(tmp_path))  # a folder that holds no model
    at = _open(new_app(copilot.doc).run(), "S-NORMAL")
    at.button(key="generate").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Drafting failed:")
    assert "config.json" in errors[0] and "\n" not in errors[0]
    assert copilot.db.list_worklist(copilot.doc, "pending")
    assert at.button(key="generate")  # still there to try again


def test_reject_needs_a_reason_then_regenerate(copilot):
    at = _generated(copilot, copilot.doc, "S-HFREF")
    at.button(key="reject").click().run()
    assert any("reason" in e.value for e in at.error)
    at.text_input(key="reject_reason").input("Misses the mitral regurgitation.")
    at.button(key="reject").click().run()
    assert copilot.db.list_worklist(copilot.doc, "rejected")[0].study_id == "S-HFREF"
    assert "Previous draft rejected: Misses the mitral regurgitation." in [w.value for w in at.warning]
    at.button(key="generate").click().run()
    assert copilot.db.list_worklist(copilot.doc, "drafted")[0].study_id == "S-HFREF"


def test_contradicted_draft_needs_explicit_confirmation(copilot):
    at = _edit(_generated(copilot, copilot.doc, "S-NORMAL"), "1. LVEF 25 %.")
    assert 'data-verdict="contradicted"' in "".join(m.value for m in at.markdown)
    assert at.button(key="approve").disabled
    at.checkbox(key="confirm_approve").check().run()
    assert not at.button(key="approve").disabled
    at.button(key="approve").click().run()
    entry = [a for a in copilot.db.audit_log(copilot.boss, "S-NORMAL") if a.action == "draft.approve"]
    assert entry and "confirmed despite: contradicted: LVEF 25 %." in entry[0].detail


def test_critical_finding_needs_notification_before_signing(copilot):
    at = _edit(_generated(copilot, copilot.doc, "S-TAMPONADE"),
               "1. Large pericardial effusion with tamponade physiology.")
    at.button(key="approve").click().run()
    pending = copilot.db.pending_notifications(copilot.doc, "S-TAMPONADE")
    assert "tamponade physiology" in pending
    assert at.button(key="sign").disabled
    for finding in pending:  # each recorded one leaves the list; the next is again number 0
        assert any(f"Critical finding: {finding}." in m.value for m in at.markdown)
        at.text_input(key="notified_whom_0").input("Dr Ward, on-call cardiology fellow")
        at.button(key="notify_0").click().run()
        assert f"Notification of {finding} recorded." in [s.value for s in at.success]
    assert not at.button(key="sign").disabled
    at.button(key="sign").click().run()
    final = copilot.db.final_report(copilot.doc, "S-TAMPONADE")
    assert final.count("communicated to Dr Ward, on-call cardiology fellow") == len(pending)
    assert copilot.db.list_worklist(copilot.doc, "signed")[0].study_id == "S-TAMPONADE"


def test_omitted_critical_finding_shows_a_banner(copilot):
    at = _edit(_generated(copilot, copilot.doc, "S-TAMPONADE"), "1. Normal LV function.")
    banner = [e.value for e in at.error]
    assert banner and "tamponade physiology" in banner[0]


def test_omitted_high_severity_finding_shows_a_warning_and_approval_asks(copilot):
    at = _edit(_generated(copilot, copilot.doc, "S-TAMPONADE"), "1. Normal LV function.")
    assert any("large pericardial effusion" in w.value for w in at.warning), texts(at)
    from echogpt.review.workflow import approval_flags

    draft = copilot.db.current_draft(copilot.doc, "S-TAMPONADE")
    assert "omitted high finding: large pericardial effusion" in approval_flags(draft.check)


def test_findings_keep_their_line_breaks():
    from app import drafting
    from echogpt.schemas import Study

    study = Study(study_id="S", findings_text="LV: normal size.\nMV: mild MR.")
    assert dict(drafting.study_sections(study))["Findings"] == ["LV: normal size.", "MV: mild MR."]


def test_an_imported_report_shows_its_plan_and_what_was_not_read():
    from app import drafting
    from echogpt.schemas import Study

    note = 'lines under no heading were not read as findings: "RAP 15 mmHg"'
    replaced = "the first impression, replaced by the addendum's: \"Mild AR\""
    study = Study(study_id="S", findings_text="Mild MR.", recommendations=["Recommendations: TOE."],
                  unread=[note], superseded=[replaced])
    sections = dict(drafting.study_sections(study))
    assert sections["Replaced within the report"] == ["T" + replaced[1:]]
    assert sections["Recommendations in the report"] == ["Recommendations: TOE."]
    assert sections["Not read by the import"] == ["L" + note[1:]]
    plain = dict(drafting.study_sections(Study(study_id="T", findings_text="x")))
    assert "Not read by the import" not in plain


def test_second_reviewer_gets_a_conflict_with_the_other_text(copilot):
    first = _generated(copilot, copilot.doc, "S-NORMAL")
    second = _open(new_app(copilot.doc2).run(), "S-NORMAL")
    _edit(first, GOOD)
    second = _edit(second, "1. Normal study.")
    assert any("saved this draft first" in e.value for e in second.error), texts(second)
    assert any(GOOD in w.value for w in second.warning)
    assert copilot.db.current_draft(copilot.doc, "S-NORMAL").text == GOOD
    # The refused edit stays in the box; having seen the other text, saving again wins.
    assert second.text_area(key="edit_text").value == "1. Normal study."
    second.button(key="save_edit").click().run()
    assert "Edit saved and re-checked." in [s.value for s in second.success]
    assert copilot.db.current_draft(copilot.doc, "S-NORMAL").text == "1. Normal study."


# ---------------------------------------------------------------- reports, admin


def test_reader_sees_reader_tasks_and_nothing_of_the_reports(copilot):
    from app import drafting, services

    d = copilot.db.save_draft(copilot.doc, "S-NORMAL", GOOD, "m@1", None, None, None)
    rep = copilot.db.approve(copilot.doc, d.id, d.version, confirm=True)
    copilot.db.sign(copilot.doc, rep.id, rep.version)
    at = new_app(copilot.reader).run()
    assert [t.value for t in at.title] == ["Reader study"] and GOOD not in texts(at)
    for page in ("views/reports_page.py", "views/worklist_page.py"):
        with pytest.raises(ValueError, match="not a registered page|Could not find"):
            at.switch_page(page)
    # Nor through the functions behind those pages: the library refuses the reader.
    for call in (lambda: services.signed_reports(copilot.reader),
                 lambda: drafting.open_study(copilot.reader, "S-NORMAL"),
                 lambda: services.worklist(copilot.reader, None)):
        error = services.attempt(call)
        assert error and "may not read studies and reports" in error


def _adapter_folder(folder, layout: str):
    """An adapter folder as far as its metadata goes (what the admin page and the export read)."""
    from echogpt.model.adapters import ADAPTER_META, AdapterMeta
    from echogpt.model.prompts import PromptSettings

    folder.mkdir()
    (folder / "adapter_config.json").write_text('{"base_model_name_or_path": "local:x"}')
    meta = AdapterMeta(base_model="local:x", prompt_settings=PromptSettings(layout=layout))
    (folder / ADAPTER_META).write_text(meta.model_dump_json())
    return folder


def test_admin_manages_users_adapters_and_exports(copilot, tmp_path):
    from echogpt.model.prompts import PromptSettings

    copilot.db.register_adapter(copilot.boss, _adapter_folder(tmp_path / "a1", "structured+prose"),
                                "sft", name="sft-a")
    copilot.db.register_adapter(copilot.boss, _adapter_folder(tmp_path / "a2", "prose"), "dpo",
                                name="dpo-b", parent="sft-a")
    at = new_app(copilot.boss).run()
    assert {"doc", "reader", "boss"} <= set(at.dataframe[0].value["name"])
    at.text_input(key="new_user_name").input("dr-new")
    at.selectbox(key="new_user_role").select("reader")
    at.text_input(key="new_user_password").input("short")
    at.button(key="new_user_submit").click().run()
    assert any("8 characters" in e.value for e in at.error)
    at.text_input(key="new_user_name").input("dr-new")
    at.text_input(key="new_user_password").input("long-enough-password")
    at.button(key="new_user_submit").click().run()
    assert "dr-new" in set(at.dataframe[0].value["name"])

    at.selectbox(key="admin_adapter_pick").select("dpo-b").run()
    at.text_input(key="admin_adapter_reason").input("trying the DPO round")  # it was never evaluated
    at.button(key="admin_adapter_activate").click().run()
    assert copilot.db.active_adapter(copilot.boss).name == "dpo-b"
    at.button(key="admin_export").click().run()
    assert any("SFT records 0" in s.value for s in at.success)
    # the export is rendered with the prompt settings of the adapter that will train on it
    exported = at.session_state["feedback_export"]
    assert exported.prompt_fingerprint == PromptSettings(layout="prose").fingerprint()
    assert exported.adapter == str(tmp_path / "a2")


# ---------------------------------------------------------------- concurrency


def test_other_sessions_render_while_a_draft_generates(copilot, monkeypatch, tmp_path):
    from app import services

    # A draft that keeps generating for 15 s whatever the machine's speed (no token bound): long
    # enough that another session's render on a loaded 2-core machine (6-9 s seen) still falls inside
    # it. What is tested is the order (the other session renders before the draft ends), not a time.
    slow = build_talking_model(tmp_path / "tiny-slow", 15.0, repeats=True)
    monkeypatch.setenv("ECHOGPT_BASE_MODEL", str(slow))
    study = copilot.db.get_study(copilot.doc, "S-NORMAL")
    pieces: list[str] = []
    started = threading.Event()

    def generate() -> None:
        for piece in services.generator(copilot.doc).stream(study, max_new_tokens=100_000):
            started.set()
            pieces.append(piece)

    worker = threading.Thread(target=generate, daemon=True)
    worker.start()
    assert started.wait(60), "generation did not start"
    began = time.perf_counter()
    other = new_app(copilot.doc2).run()
    _open(other, "S-HFREF")
    seconds = time.perf_counter() - began
    still_generating = worker.is_alive()
    print(f"another session rendered in {seconds:.2f} s during generation")
    worker.join(60)
    assert still_generating, "the draft finished before the other session rendered"
    assert [t.value for t in other.title] == ["Draft"] and not other.exception
    assert "".join(pieces).strip()


def test_library_refuses_what_a_role_may_not_do_even_without_the_page(copilot):
    from app import drafting, services

    study = copilot.db.get_study(copilot.doc, "S-NORMAL")
    error = services.attempt(drafting.save_generated, copilot.reader, study, GOOD)
    assert error and "cardiologist" in error  # the refusal names the roles that may
    assert copilot.db.current_draft(copilot.doc, "S-NORMAL") is None
