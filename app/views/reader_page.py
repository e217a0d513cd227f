"""Reader page: one blinded task at a time (A-vs-B preference per dimension, or a 1-5 score of
one report), with an optional comment and the time on task recorded. Readers can stop and come
back; earlier answers can be revisited and changed (every answer is kept).
"""

from __future__ import annotations

import time

import streamlit as st

from app import services, state
from app.markup import inert
from echogpt.reader import study as rs

account = state.user()
db = services.store()
st.title("Reader study")
mine = rs.my_studies(db, account)
if not mine:
    st.info("You are not a reader in any study.")
    st.stop()
names = [p.study for p in mine]
study = st.selectbox("Study", names, key="reader_study_pick")
prog = rs.progress(db, account, study)
st.progress(prog.answered / prog.total if prog.total else 1.0,
            text=f"{prog.answered} of {prog.total} answered")

position = st.session_state.get("reader_pos", {}).get(study)
task = rs.get_task(db, account, study, position) if position else rs.next_task(db, account, study)
if task is None:
    st.success("All tasks answered. Thank you!")
    if st.button("Review my answers", key="reader_review"):
        st.session_state.setdefault("reader_pos", {})[study] = 1
        st.rerun()
    st.stop()
shown = st.session_state.setdefault("reader_shown", {})
shown.setdefault((study, task.position), time.monotonic())  # time on task starts when shown

st.caption(f"Task {task.position} of {task.total}")
st.markdown("**Findings**")
st.text(task.findings_text)
columns = st.columns(len(task.reports))
for col, report in zip(columns, task.reports, strict=True):
    col.markdown(f"**{inert(report.label)}**")
    col.code(report.text, language=None, wrap_lines=True)

if task.kind == "ab":
    st.caption("For each dimension: which report is better, A or B?")
answers = {}
for dim in task.dimensions:
    prior = (task.answers or {}).get(dim)
    options = list(task.scale)
    answers[dim] = st.radio(inert(dim.replace("_", " ").capitalize()), options, horizontal=True,
                            index=options.index(prior) if prior in options else None,
                            format_func=lambda v, sc=task.scale: sc[v],
                            key=f"rate_{dim}_{study}_{task.position}")
comment = st.text_area("Comment (optional)", value=task.comment or "",
                       key=f"reader_comment_{study}_{task.position}")
prev, submit, skip = st.columns(3)
if prev.button("Previous", key="reader_prev", disabled=task.position == 1):
    st.session_state.setdefault("reader_pos", {})[study] = task.position - 1
    st.rerun()
if submit.button("Save answer", key="reader_submit", type="primary",
                 disabled=any(v is None for v in answers.values())):
    seconds = round(time.monotonic() - shown.pop((study, task.position)), 1)
    error = services.attempt(rs.submit_answer, db, account, study, task.position, answers, comment,
                             seconds)
    if error:
        st.error(inert(error))
    else:
        st.session_state.setdefault("reader_pos", {})[study] = None  # back to the first unanswered
        state.flash("success", "Answer saved.")
        st.rerun()
if skip.button("Next unanswered", key="reader_next"):
    st.session_state.setdefault("reader_pos", {})[study] = None
    st.rerun()
