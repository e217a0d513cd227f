"""Sign-in and the draft page's memory (AppTest): without a configured identity provider the
sign-in page is the local one alone; a password sign-in opens a session for the browser's cookie;
Generate acts on the study as shown; an unsaved edit kept for another draft version is shown,
never put back in the edit box."""

from __future__ import annotations

from _app_fixtures import PASSWORDS, copilot_fixture, new_app, talking_model_fixture  # noqa: F401

from echogpt.review import edits, sessions


def _open(at, study_id: str):
    at.selectbox(key="worklist_pick").select(study_id)
    return at.button(key="worklist_open").click().run()


def test_without_a_provider_the_sign_in_page_is_the_local_one(copilot):
    at = new_app().run()
    assert not at.exception
    assert [b.key for b in at.button] == ["login_submit"]  # no hospital sign-in button
    at.text_input(key="login_name").input("doc")
    at.text_input(key="login_password").input(PASSWORDS["doc"])
    at.button(key="login_submit").click().run()
    token = at.session_state["session_token"]
    assert sessions.resume(copilot.db, token) == copilot.doc  # the cookie's session is open
    assert at.session_state["cookie_pending"] is None  # and was sent to the browser once
    at.switch_page("views/account_page.py").run()
    at.text_input(key="password_current").input(PASSWORDS["doc"])
    at.text_input(key="password_new").input("a new password")
    at.text_input(key="password_repeat").input("a new password")
    at.button(key="password_submit").click().run()
    assert sessions.resume(copilot.db, token) is None  # a password change ends the old session
    token = at.session_state["session_token"]
    assert sessions.resume(copilot.db, token) == copilot.doc  # and this browser gets a new one
    at.button(key="sign_out").click().run()
    assert sessions.resume(copilot.db, token) is None


def test_generate_on_a_study_changed_since_it_was_shown_is_refused(copilot):
    db = copilot.db
    d = db.save_draft(copilot.doc, "S-NORMAL", "1. First.", "m@1", None, None, None)
    db.reject(copilot.doc, d.id, "Wrong patient.", d.version)
    b = _open(new_app(copilot.doc2).run(), "S-NORMAL")  # B is shown the first rejection
    assert "Wrong patient." in " ".join(w.value for w in b.warning)
    d = db.save_draft(copilot.doc, "S-NORMAL", "1. Second.", "m@1", None, None, None)
    db.reject(copilot.doc, d.id, "Measurements missing.", d.version)  # A rejects again meanwhile
    b.button(key="generate").click().run()
    assert not b.exception, b.exception
    assert any("changed this study" in e.value for e in b.error), [e.value for e in b.error]
    assert db.current_draft(copilot.doc, "S-NORMAL") is None  # nothing drafted on the stale view
    assert db.worklist_item(copilot.doc, "S-NORMAL").status.value == "rejected"


def test_an_unsaved_edit_of_another_version_is_shown_not_restored(copilot):
    db = copilot.db
    d = db.save_draft(copilot.doc, "S-NORMAL", "1. First.", "m@1", None, None, None)
    edits.keep(db, copilot.doc, d.id, d.version, "1. Mine, typed on version 1.")
    db.edit_draft(copilot.doc2, d.id, "1. Theirs, version 2.", d.version, None)
    at = _open(new_app(copilot.doc).run(), "S-NORMAL")  # as after a reload
    assert not at.exception, at.exception
    assert at.text_area(key="edit_text").value == "1. Theirs, version 2."
    note = " ".join(i.value for i in at.info)
    assert "typed on version 1" in note and "Mine, typed on version 1." in note


def test_an_unsaved_edit_of_this_version_is_put_back(copilot):
    db = copilot.db
    d = db.save_draft(copilot.doc, "S-NORMAL", "1. First.", "m@1", None, None, None)
    edits.keep(db, copilot.doc, d.id, d.version, "1. Mine, unsaved.")
    at = _open(new_app(copilot.doc).run(), "S-NORMAL")
    assert at.text_area(key="edit_text").value == "1. Mine, unsaved."
    assert "back in the edit box" in " ".join(i.value for i in at.info)
    at.button(key="save_edit").click().run()
    assert db.current_draft(copilot.doc, "S-NORMAL").text == "1. Mine, unsaved."
    assert d.version + 1 == db.current_draft(copilot.doc, "S-NORMAL").version  # on the version typed on
