"""Draft page: the study beside its draft impression, streamed, highlighted by the checker, edited,
approved or rejected, signed and locked; addenda after signing.

The buttons shown are the actions ``echogpt.review.workflow.allowed_actions`` gives for the study's
status and the user's role; each maps onto one transition (through ``app.drafting``), on the
versions the user was shown (``state.shown_before``), and reruns the page. The study is the one
opened from the worklist (or the batch page), kept in the address (``?study=``) so that a reload
reopens it, with the reviewer's unsaved edit (``echogpt.review.edits``). Text from data goes
through ``inert``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from app import drafting, services, signin, state
from app.markup import inert
from echogpt.checker.highlight import highlight_impression, legend_html, omission_lines

account = state.user()
st.title("Draft")
study_id = st.session_state.get("study_id")
if study_id is None and st.query_params.get("study"):  # a reload: the address names the study
    study_id = st.query_params["study"]
    state.open_study(study_id)
if study_id is None:
    st.info("Open a study from the worklist.")
    st.page_link("views/worklist_page.py", label="Worklist", icon=":material/list:")
    st.stop()
view = drafting.open_study(account, study_id)
if st.query_params.get("study") != study_id:
    st.query_params["study"] = study_id  # so that a reload reopens it
study = view.study
seen = state.shown_before(state.Shown(study_id, view.draft.id if view.draft else None,
                                      view.draft.version if view.draft else None, view.version))
st.caption(f"Status: **{view.status}** · study {inert(study.study_id)} · patient {inert(study.patient_id)}"
           + (f" · {study.study_date}" if study.study_date else ""))


def draft_now(done: str, replaces=None, study_version=None) -> None:
    """Stream a new draft into the page, then check and store it (one-line error if it fails)."""
    try:
        with st.container(key="draft_stream"):
            shown, draft = st.empty(), None
            for progress in drafting.stream_draft(account, study):  # model output: shown as text
                shown.text(progress.text)  # the whole draft so far: a replaced statement in place
                draft = progress.draft
    except Exception as exc:  # noqa: BLE001 - e.g. a missing model or a mismatched adapter
        services.log_failure("generation", exc)
        state.flash("error", f"Drafting failed: {services.describe(exc)}")
        st.rerun()
    act(done, drafting.save_generated, account, study, draft, replaces, study_version)


def act(done: str, action, *args) -> None:
    """Run one transition, queue its outcome (``done`` or the one-line refusal), rerun; when someone
    changed the study first, keep the text it holds now to show beside the refusal."""
    out = drafting.attempt(action, *args)
    if out.error is None:
        st.session_state["conflict_text"] = None
        state.flash("success", done)
    else:
        if out.other_text is not None:
            st.session_state["conflict_text"] = out.other_text
        state.flash("error", out.error)
    st.rerun()


def keep_typed(draft_id: int, version: int, base_text: str) -> None:
    """The edit box changed: keep its unsaved text on the server, for this draft version."""
    drafting.keep_edit(account, draft_id, version, base_text, st.session_state.get("edit_text", ""))


left, right = st.columns([2, 3], gap="large")
with left:
    st.subheader("Study")
    for title, lines in drafting.study_sections(study):
        st.markdown(f"**{title}**")
        st.markdown("  \n".join(inert(line) for line in lines))

with right:
    st.subheader("Impression")
    if st.session_state.get("conflict_text"):
        st.warning("Another reviewer changed this study after you opened it. What it holds now:\n\n"
                   + inert(st.session_state["conflict_text"]))
    draft = view.draft
    if draft is None:
        if view.rejection:
            st.warning(f"Previous draft rejected: {inert(view.rejection)}")
        if "draft" in view.actions and st.button("Generate draft", key="generate", type="primary"):
            draft_now("Draft generated and checked.", None, seen.study_version)
        st.stop()

    critical = omission_lines(draft.check, "critical")
    if critical:
        st.error("Critical findings missing from the impression:\n\n"
                 + "\n".join(f"- {inert(line)}" for line in critical), icon=":material/warning:")
    high = omission_lines(draft.check, "high")
    if high:
        st.warning("Important findings missing from the impression:\n\n"
                   + "\n".join(f"- {inert(line)}" for line in high), icon=":material/warning:")
    st.markdown(highlight_impression(draft.text, draft.check, draft.guard), unsafe_allow_html=True)
    st.markdown(legend_html(), unsafe_allow_html=True)
    if draft.guard is not None:
        n = len(draft.guard.interventions)
        st.caption(f"Checker-guided draft: {n} statement{'s' if n != 1 else ''} changed while the model "
                   "wrote (🛡 marks; hover for why).")
        if st.toggle("Show unguarded text", key="show_unguarded"):
            st.text(draft.guard.unguarded_text)  # model output: shown as text
    st.caption(f"Draft by {inert(draft.model)}"
               + (f" with adapter {inert(draft.adapter)}" if draft.adapter else "")
               + f" · version {draft.version}")

    if "edit" in view.actions:
        opened = st.session_state.get("edit_for")
        if opened is None or opened[0] != draft.id:  # first render of this draft (e.g. a reload)
            state.restore_editor(draft.id, draft.version, draft.text,
                                 drafting.kept_edit(account, study_id))
        note = st.session_state.get("edit_note")
        if note and note[0] == draft.id:
            st.info(note[1], icon=":material/history:")
        base = state.sync_editor(draft.id, draft.version, draft.text)
        base_text = st.session_state["edit_for"][2]
        st.text_area("Edit the impression", key="edit_text", height=180, on_change=keep_typed,
                     args=(draft.id, base, base_text))
        signin.send_typing_on_leave()
        if st.button("Save edit and re-check", key="save_edit"):
            text = st.session_state["edit_text"]
            out = drafting.save_edit(account, draft.id, base, text)
            if out.error is None:
                state.rebase_editor(draft.id, out.version, text)
                st.session_state["conflict_text"] = None
                st.session_state["edit_note"] = None
                state.flash("success", "Edit saved and re-checked.")
            else:
                if out.other_version is not None:  # seen their text now: the next save may win
                    state.rebase_editor(draft.id, out.other_version, out.other_text or "")
                st.session_state["conflict_text"] = out.other_text
                state.flash("error", out.error)
            st.rerun()

    needs_confirm = "approve" in view.actions and bool(view.flags)
    confirmed = False
    if needs_confirm:
        st.warning("Approving this draft needs your confirmation:\n\n"
                   + "\n".join(f"- {inert(flag)}" for flag in view.flags))
        confirmed = st.checkbox("I have reviewed the flagged statements and omissions and "
                                "approve this impression as it stands.", key="confirm_approve")
    if {"approve", "regenerate", "reject"} & set(view.actions):
        a, b, c = st.columns(3)
        if "approve" in view.actions and a.button("Approve", key="approve", type="primary",
                                                  disabled=needs_confirm and not confirmed):
            act("Approved. Sign the report to lock it.", drafting.approve, account, seen.draft_id,
                seen.draft_version, confirmed)
        if "regenerate" in view.actions and b.button("Regenerate", key="regenerate"):
            draft_now("New draft generated and checked.", (seen.draft_id, seen.draft_version))
        if "reject" in view.actions:
            reason = c.text_input("Reason for rejecting", key="reject_reason")
            if c.button("Reject", key="reject"):
                act("Draft rejected.", drafting.reject, account, seen.draft_id, seen.draft_version,
                    reason)

    if services.may(account, "notification.record"):
        # Only a draft or an unsigned report can have findings nobody was told of: signing needs them.
        for i, finding in enumerate(view.unnotified):
            with st.container(border=True):
                st.markdown(f"**Critical finding: {inert(finding)}.** Record who was notified and when "
                            "(UTC); the report cannot be signed before.")
                now = datetime.now(UTC)  # the store reads a naive time as UTC
                c1, c2, c3 = st.columns(3)
                whom = c1.text_input("Notified (name, role)", key=f"notified_whom_{i}")
                day = c2.date_input("Date (UTC)", value=now.date(), key=f"notified_date_{i}")
                at = c3.time_input("Time (UTC)", value=now.time().replace(second=0, microsecond=0),
                                   step=60, key=f"notified_time_{i}")
                if st.button("Record notification", key=f"notify_{i}"):
                    act(f"Notification of {finding} recorded.", drafting.notify, account,
                        study.study_id, seen.study_version, finding, whom, datetime.combine(day, at))

    if view.report is not None:
        st.subheader("Final report" if view.report.signed_at else "Report (approved, unsigned)")
        st.code(view.report_text, language=None, wrap_lines=True)
        if "sign" in view.actions and st.button("Sign and lock", key="sign", type="primary",
                                                disabled=bool(view.unnotified)):
            act("Report signed and locked.", drafting.sign, account, view.report.id, seen.study_version)
        if "addendum" in view.actions:
            st.text_area("Addendum", key="addendum_text", height=100)
            if st.button("Add addendum", key="add_addendum"):
                act("Addendum added.", drafting.add_addendum, account, view.report.id,
                    seen.study_version, st.session_state.get("addendum_text", ""))

with st.expander("Audit trail"):
    st.dataframe(drafting.audit_rows(account, study.study_id), hide_index=True, key="audit_table")
