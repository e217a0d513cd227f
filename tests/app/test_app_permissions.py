"""What the copilot's pages show follows the library: the draft page's buttons are the workflow's
``allowed_actions`` and it reads one worklist item; the Account page changes one's own password
with the current one; the Admin page clears a held-back feedback record after showing its texts.
"""

from __future__ import annotations

import pytest
from _app_fixtures import PASSWORDS, copilot_fixture, new_app, talking_model_fixture, texts  # noqa: F401

from echogpt.review import workflow as review
from echogpt.review.workflow import Action, Status
from echogpt.schemas import Study

GOOD = "1. Normal left ventricular size and systolic function, LVEF 60 %."
BUTTONS = {Action.draft: "generate", Action.edit: "save_edit", Action.regenerate: "regenerate",
           Action.approve: "approve", Action.reject: "reject", Action.sign: "sign",
           Action.addendum: "add_addendum"}
"""The draft page's button for each workflow action."""


def _draft_page(user, study_id: str):
    at = new_app(user)
    at.session_state["study_id"] = study_id
    at.run()
    at.switch_page("views/draft_page.py").run()
    assert not at.exception, at.exception
    return at


def _to(copilot, status: str) -> None:
    """Bring S-NORMAL to ``status`` through the store."""
    if status == "pending":
        return
    d = copilot.db.save_draft(copilot.doc, "S-NORMAL", GOOD, "m@1", None, None, None)
    if status == "drafted":
        return
    if status == "rejected":
        copilot.db.reject(copilot.doc, d.id, "wrong study", d.version)
        return
    rep = copilot.db.approve(copilot.doc, d.id, d.version, confirm=True)
    if status == "signed":
        copilot.db.sign(copilot.doc, rep.id, rep.version)


@pytest.mark.parametrize("status", ["pending", "drafted", "approved", "signed", "rejected"])
def test_draft_page_shows_the_buttons_the_workflow_allows(copilot, status):
    _to(copilot, status)
    at = _draft_page(copilot.doc, "S-NORMAL")
    assert f"Status: **{status}**" in texts(at)
    shown = {b.key for b in at.button} & set(BUTTONS.values())
    expected = {BUTTONS[a] for a in review.allowed_actions(copilot.doc, Status(status))}
    if status in ("pending", "rejected"):  # no working draft: one button drafts anew
        expected = {"generate"} if expected & {"generate", "regenerate"} else set()
    assert shown == expected
    assert ("edit_text" in [t.key for t in at.text_area]) == (status == "drafted")


def test_draft_page_asks_the_workflow_not_the_status(copilot, monkeypatch):
    _to(copilot, "drafted")
    monkeypatch.setattr(review, "allowed_actions", lambda user, status: [Action.reject])
    at = _draft_page(copilot.doc, "S-NORMAL")
    assert {b.key for b in at.button} & set(BUTTONS.values()) == {"reject"}
    assert "edit_text" not in [t.key for t in at.text_area]
    assert at.text_input(key="reject_reason")


def test_draft_page_reads_one_worklist_item(copilot):
    at = new_app(copilot.doc).run()  # lands on the worklist, which reads the whole list
    seen = max(a.id for a in copilot.db.audit_log(copilot.boss))
    at.session_state["study_id"] = "S-HFREF"
    at.switch_page("views/draft_page.py").run()
    assert not at.exception, at.exception
    reads = [a for a in copilot.db.audit_log(copilot.boss) if a.id > seen and a.action == "worklist.read"]
    assert [(a.study_id, a.detail) for a in reads] == [("S-HFREF", None)]


def test_draft_page_without_a_study_points_to_the_worklist(copilot):
    at = new_app(copilot.doc).run()
    at.switch_page("views/draft_page.py").run()
    assert not at.exception, at.exception
    assert "Open a study from the worklist." in [i.value for i in at.info]
    assert not [b for b in at.button if b.key in BUTTONS.values()]


def _account_page(user):
    at = new_app(user).run()
    at.switch_page("views/account_page.py").run()
    return at


def _change(at, current: str, new: str, repeated: str):
    at.text_input(key="password_current").input(current)
    at.text_input(key="password_new").input(new)
    at.text_input(key="password_repeat").input(repeated)
    return at.button(key="password_submit").click().run()


def test_account_page_changes_the_password_with_the_current_one(copilot):
    at = _account_page(copilot.doc)
    _change(at, "wrong-password", "brand-new-password", "brand-new-password")
    assert [e.value for e in at.error] == ["the current password is wrong"]
    _change(at, PASSWORDS["doc"], "brand-new-password", "brand-new-passwrd")
    assert [e.value for e in at.error] == ["the new passwords differ"]
    _change(at, PASSWORDS["doc"], "short", "short")
    assert "8 characters" in at.error[0].value
    assert copilot.db.authenticate("doc", PASSWORDS["doc"]) == copilot.doc  # nothing changed yet
    _change(at, PASSWORDS["doc"], "brand-new-password", "brand-new-password")
    assert "Password changed." in [s.value for s in at.success]
    assert copilot.db.authenticate("doc", "brand-new-password") == copilot.doc
    login = new_app().run()
    login.text_input(key="login_name").input("doc")
    login.text_input(key="login_password").input(PASSWORDS["doc"])
    login.button(key="login_submit").click().run()
    assert [e.value for e in login.error] == ["Unknown user name or wrong password."]


def test_admin_reviews_and_clears_a_held_back_record(copilot):
    named = "Images reviewed with Dr. Smith. LVEF 60%."
    copilot.db.create_study(copilot.doc, Study(study_id="S-NAMED", findings_text=named))
    d = copilot.db.save_draft(copilot.doc, "S-NAMED", GOOD, "m@1", None, None, None)
    rep = copilot.db.approve(copilot.doc, d.id, d.version, confirm=True)
    at = new_app(copilot.boss).run()
    at.button(key="admin_export").click().run()
    assert any("held back 1" in s.value for s in at.success)
    held = at.dataframe[-1].value  # users, then the held-back records
    assert list(held["report"]) == [rep.id] and "findings_text: name" in held["identifiers"][0]
    assert at.text_area(key=f"admin_clear_text_{rep.id}_findings_text").value == named
    at.button(key="admin_clear").click().run()
    assert not at.exception, at.exception
    assert f"Report {rep.id} cleared; export again to include it." in [s.value for s in at.success]
    assert "admin_clear" not in [b.key for b in at.button]  # nothing held back any more
    cleared = [a for a in copilot.db.audit_log(copilot.boss) if a.action == "feedback.clear"]
    assert [(a.user, a.entity_id) for a in cleared] == [("boss", rep.id)]
    at.button(key="admin_export").click().run()
    assert any("SFT records 1" in s.value and "held back 0" in s.value for s in at.success)
