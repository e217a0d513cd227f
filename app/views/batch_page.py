"""Batch page: upload a file of studies, start a batch job, follow its progress (it survives a
reload; a stopped worker can be resumed), filter flagged results, download them, open a row in
the draft page, and send chosen drafts to the worklist. Logic lives in ``echogpt.batch.jobs`` and
``echogpt.batch.worker``.
"""

from __future__ import annotations

import streamlit as st

from app import services, state
from app.markup import inert
from echogpt.batch import jobs as batch
from echogpt.batch import worker

account = state.user()
db = services.store()
st.title("Batch generation")
jobs = batch.list_jobs(db, account)

# Keyed, with the same initial state all session, the expander keeps the reader's open or closed
# state across reruns (choosing a file is one); open at first while there is no job yet.
opened_first = st.session_state.setdefault("batch_new_initially", not jobs)
with st.expander("New batch job", expanded=opened_first, key="batch_new", on_change="rerun"):
    choice = services.model_choice(account)
    modes = (["fine-tuned"] if choice.adapter_path else ["zero-shot"]) + ["template"]
    # A form sends the file with the click: choosing a file starts no rerun of its own, which
    # the progress fragment's timed reruns could otherwise overtake (the button stayed disabled).
    with st.form("batch_form", border=False, enter_to_submit=False):
        upload = st.file_uploader("Studies file (JSONL, CSV or Parquet)",
                                  type=["jsonl", "json", "csv", "parquet"], key="batch_file")
        mode = st.selectbox("Mode", modes, key="batch_mode",
                            help="template: the guideline baseline, no model")
        start = st.form_submit_button("Validate and start", key="batch_start", type="primary")
    if start and upload is None:
        st.warning("Choose a studies file first.")
    elif start:
        made: dict = {}
        error = services.attempt(lambda: made.update(outcome=worker.submit_upload(
            db, account, upload.name, upload.getvalue(), mode, choice.base_model,
            choice.adapter_path)))
        outcome = made.get("outcome") or worker.Upload(job_id=None, accepted=0, rejects=[],
                                                      rejects_jsonl="", error=error)
        st.session_state["batch_upload"] = outcome
        if outcome.job_id is not None:
            st.session_state["batch_job"] = outcome.job_id
            st.session_state["batch_job_pick"] = outcome.job_id  # the selector follows the new job
        st.rerun()
    outcome = st.session_state.get("batch_upload")
    if outcome is not None:
        if outcome.error:
            st.error(inert(outcome.error))
        if outcome.job_id is not None:
            st.success(f"Job {outcome.job_id} started with {outcome.accepted} studies.")
        if outcome.rejects:
            st.warning(f"{len(outcome.rejects)} rows rejected; they are not in the job.")
            st.dataframe(outcome.rejects, hide_index=True, key="batch_rejects")
            st.download_button("Download rejects (JSONL)", outcome.rejects_jsonl,
                               file_name="rejects.jsonl", key="batch_rejects_download")

if not jobs:
    st.info("No batch jobs yet.")
    st.stop()
ids = [j.id for j in jobs]
current = st.session_state.get("batch_job")
if st.session_state.get("batch_job_pick") not in ids:
    st.session_state["batch_job_pick"] = current if current in ids else ids[0]
job_id = st.selectbox("Job", ids,
                      format_func=lambda i: next(f"#{j.id} {j.name} ({j.status})" for j in jobs
                                                 if j.id == i), key="batch_job_pick")
st.session_state["batch_job"] = job_id
seen = next(j for j in jobs if j.id == job_id)
flagged_only = st.toggle("Only flagged rows", key="batch_flagged")


@st.fragment(run_every=seen.refresh_seconds)
def show_progress() -> None:
    """Progress, flags and rows, read again every few seconds until the job is finished."""
    job = batch.get_job(db, account, job_id)
    if job.finished != seen.finished:
        st.rerun(scope="app")  # the job list, the selector and the actions below change with it
    st.progress(job.fraction, text=inert(f"({job.status}) " + batch.progress_line(job)))
    if job.error:
        st.error(f"The job stopped: {inert(job.error)}")
    if job.starting:
        st.caption("A worker is starting for this job.")
    elif job.needs_resume:
        st.caption("No worker is running this job.")
        if st.button("Resume", key="batch_resume"):
            error = services.attempt(worker.start_worker, db, account, job_id)
            state.flash("error", error) if error else state.flash("info", "Worker started.")
            st.rerun()
    rows = batch.results(db, account, job_id, flagged_only)
    st.caption(batch.flag_line(rows))
    if not rows:
        st.info("No flagged rows." if flagged_only else "No rows.")
    st.dataframe([r.model_dump(exclude={"position"}) for r in rows], hide_index=True,
                 key="batch_table",
                 column_config={"impression": st.column_config.TextColumn(width="large"),
                                "omissions": st.column_config.TextColumn(
                                    help="Findings left out, each with its severity")})


show_progress()

left, right = st.columns(2)
# Built from the database when clicked, so a download is never older than the click.
left.download_button("Download CSV", lambda: batch.export_results(db, account, job_id, "csv", flagged_only),
                     file_name=f"batch-{job_id}.csv", mime="text/csv", key="batch_csv")
right.download_button("Download JSONL",
                      lambda: batch.export_results(db, account, job_id, "jsonl", flagged_only),
                      file_name=f"batch-{job_id}.jsonl", mime="application/jsonl", key="batch_jsonl")

rows = batch.results(db, account, job_id, flagged_only)
done = [r.study_id for r in rows if r.status == "done"]
if services.may(account, "batch.send") and done:
    chosen = st.multiselect("Send drafts to the worklist", done, key="batch_send_pick")
    if st.button("Send to worklist", key="batch_send", disabled=not chosen):
        error = services.attempt(batch.send_to_worklist, db, account, job_id, chosen)
        state.flash("error", error) if error else state.flash(
            "success", f"{len(chosen)} drafts on the worklist (studies already drafted were left).")
        st.rerun()
    opened = st.selectbox("Open in the draft page", done, key="batch_open_pick")
    if st.button("Open", key="batch_open"):
        error = services.attempt(batch.send_to_worklist, db, account, job_id, [opened])
        if error:
            st.error(inert(error))
        else:
            state.open_study(opened)
            st.switch_page("views/draft_page.py")
