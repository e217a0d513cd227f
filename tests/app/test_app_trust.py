"""The copilot acts only on what the reviewer saw, and shows text from data as text (AppTest):
a click on a draft that another reviewer changed since it was shown is refused with their text;
markdown image and link syntax in studies, drafts, reasons, flags and reader cases stays inert."""

from __future__ import annotations

import re

import pytest
from _app_fixtures import copilot_fixture, new_app, talking_model_fixture  # noqa: F401  (fixtures)

from echogpt.reader import design as rd
from echogpt.reader import study as rs
from echogpt.schemas import CheckResult, Omission, StatementCheck, Study

GOOD = "1. Normal left ventricular size and systolic function, LVEF 60 %."
IMG = "![c](http://127.0.0.1:9/x.png)"
LINK = "[click](http://127.0.0.1:9/phish)"
RAW = re.compile(r"!\[c\]\(|\]\(http|(?<!\\)<img")  # never in a markdown element unescaped


def _open(at, study_id: str):
    at.selectbox(key="worklist_pick").select(study_id)
    return at.button(key="worklist_open").click().run()


def _edit(at, text: str):
    at.text_area(key="edit_text").input(text)
    return at.button(key="save_edit").click().run()


def _checked_draft(copilot, study_id: str, text: str) -> None:
    from app.services import run_check

    study = copilot.db.get_study(copilot.doc, study_id)
    copilot.db.save_draft(copilot.doc, study_id, text, "m@1", None, None, run_check(text, study))


# ---------------------------------------------------------------- every click on the version shown


@pytest.mark.parametrize("action", ["approve", "reject", "regenerate"])
def test_a_click_on_a_draft_changed_since_it_was_shown_is_refused_with_the_other_text(copilot, action):
    _checked_draft(copilot, "S-NORMAL", "1. Normal study.")
    b = _open(new_app(copilot.doc2).run(), "S-NORMAL")  # B is shown version 1
    a = _edit(_open(new_app(copilot.doc).run(), "S-NORMAL"), GOOD)  # A saves version 2
    assert "Edit saved and re-checked." in [s.value for s in a.success]
    if action == "reject":
        b.text_input(key="reject_reason").input("Not this patient.")
    b.button(key=action).click().run()
    assert not b.exception, b.exception
    assert any("after you opened it" in e.value for e in b.error), [e.value for e in b.error]
    assert any(GOOD in w.value for w in b.warning)  # B is shown what A saved
    draft = copilot.db.current_draft(copilot.doc, "S-NORMAL")
    assert draft is not None and draft.text == GOOD and draft.version == 2
    assert copilot.db.worklist_item(copilot.doc, "S-NORMAL").status.value == "drafted"
    if action == "approve":  # having been shown A's text, B may approve it now
        b.button(key="approve").click().run()
        assert copilot.db.get_report(copilot.doc, "S-NORMAL").final_text == GOOD


def test_signing_a_report_changed_since_it_was_shown_is_refused(copilot):
    _checked_draft(copilot, "S-TAMPONADE", "1. Large pericardial effusion with tamponade physiology.")
    d = copilot.db.current_draft(copilot.doc, "S-TAMPONADE")
    rep = copilot.db.approve(copilot.doc, d.id, d.version)
    version = rep.version
    for finding in copilot.db.pending_notifications(copilot.doc, "S-TAMPONADE"):
        copilot.db.record_notification(copilot.doc, "S-TAMPONADE", finding, "Dr Ward", rep.approved_at,
                                       version)
        version += 1
    b = _open(new_app(copilot.doc2).run(), "S-TAMPONADE")  # B is shown the report, ready to sign
    assert not b.button(key="sign").disabled
    copilot.db.record_notification(copilot.doc, "S-TAMPONADE", finding, "Dr Other, ICU", rep.approved_at,
                                   version)  # A records one more call: the report B would sign changed
    b.button(key="sign").click().run()
    assert any("after you opened it" in e.value for e in b.error)
    assert any("Dr Other, ICU" in w.value for w in b.warning)
    assert copilot.db.get_report(copilot.doc, "S-TAMPONADE").signed_by is None
    b.button(key="sign").click().run()  # now B has been shown it
    assert copilot.db.get_report(copilot.doc, "S-TAMPONADE").signed_by == "doc2"


# ---------------------------------------------------------------- text from data stays text


def _markdown_values(at) -> list[str]:
    values = []
    for kind in ("markdown", "caption", "success", "info", "warning", "error", "title", "subheader"):
        values += [str(getattr(e, "value", "")) for e in getattr(at, kind)]
    return values


def _assert_inert(at) -> None:
    assert not at.exception, at.exception
    for value in _markdown_values(at):
        assert not RAW.search(value), f"markup rendered as markdown in {value[:300]!r}"


def test_markup_in_studies_drafts_reasons_and_flags_is_shown_as_text(copilot):
    hostile = f"Normal LV size. {IMG} {LINK} <img src=http://127.0.0.1:9/y.png>"
    copilot.db.import_studies(copilot.boss, [Study(study_id="S-MARK", patient_id="P9",
                                                   indication=f"Dyspnoea {LINK}",
                                                   findings_text=hostile)])
    text = f"1. Normal LV. {IMG}"
    check = CheckResult(study_id="S-MARK", statements=[StatementCheck(
        text=text, start=0, end=len(text), verdict="contradicted", reason=f"study says {IMG}")],
        omissions=[Omission(finding=f"effusion {IMG}", evidence=LINK)])
    copilot.db.save_draft(copilot.doc, "S-MARK", text, "m@1", None, None, check)
    at = _open(new_app(copilot.doc).run(), "S-MARK")
    assert any("study says" in m.value for m in at.markdown)  # the highlighted draft is there
    assert any("Normal LV size." in m.value for m in at.markdown)  # and the findings
    _assert_inert(at)

    other = _open(new_app(copilot.doc2).run(), "S-MARK")
    _edit(at, f"1. Mine {IMG}")
    other = _edit(other, f"1. Theirs {LINK}")  # refused: shown the other text in a warning
    assert any("Mine" in w.value for w in other.warning)
    _assert_inert(other)

    at.text_input(key="reject_reason").input(f"Wrong valve {IMG}")
    at.button(key="reject").click().run()
    assert any("Wrong valve" in w.value for w in at.warning)
    _assert_inert(at)


def test_markup_in_a_reader_case_is_shown_as_text(copilot):
    case = rd.Case(case_id="K1", findings_text=f"LVEF 55%. {IMG} {LINK}",
                   reports={"model": f"1. LVEF 55%. {IMG}", "cardiologist": "1. LVEF 55%."})
    rs.create_study(copilot.db, copilot.boss, "marks", [case], ["reader"], None, rd.Design(), seed=1)
    at = new_app(copilot.reader).run()
    assert [t.value for t in at.title] == ["Reader study"]
    assert any("LVEF 55%." in t.value for t in at.text)
    _assert_inert(at)


def test_highlight_html_escapes_markup():
    from echogpt.checker.highlight import highlight_impression

    text = f"1. LV normal.\r\r{IMG} <img src=x onerror=alert(1)>"
    check = CheckResult(study_id="S", statements=[StatementCheck(
        text="1. LV normal.", start=0, end=13, verdict="supported", reason='"><img src=x>')])
    for out in (highlight_impression(text, check), highlight_impression(text, None)):
        assert "<img" not in out and "![c](" not in out and "\r" not in out and "\n" not in out
        assert "&lt;img src=x onerror=alert&#40;1&#41;&gt;" in out

