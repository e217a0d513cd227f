"""Worklist page: studies by status, open one for drafting, import a file or enter a study."""

from __future__ import annotations

import streamlit as st

from app import services, state
from app.markup import inert
from echogpt.review.workflow import Status

STATUSES = ["all", *(s.value for s in Status)]

account = state.user()
st.title("Worklist")
status = st.segmented_control("Status", STATUSES, default="all", key="worklist_status")
rows = services.worklist(account, None if status in (None, "all") else status)
if rows:
    st.dataframe(rows, hide_index=True, width="stretch", key="worklist_table")
    if services.may(account, "draft.write"):  # the draft page is for those who draft
        ids = [r["study_id"] for r in rows]
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        chosen = left.selectbox("Study", ids, key="worklist_pick")
        if right.button("Open", key="worklist_open", type="primary"):
            state.open_study(chosen)
            st.switch_page("views/draft_page.py")
else:
    st.info("No studies with this status.")

with st.expander("Import a file (JSONL, CSV, Parquet or DICOM SR)"):
    upload = st.file_uploader("Studies file", type=["jsonl", "json", "csv", "parquet", "dcm"],
                              key="import_file")
    if st.button("Import", key="import_submit", disabled=upload is None):
        st.session_state["import_result"] = services.import_upload(
            account, upload.name, upload.getvalue())
        st.rerun()
    outcome = st.session_state.get("import_result")
    if outcome is not None and outcome.error:
        st.error(f"Nothing imported: {inert(outcome.error)}")
    elif outcome is not None:
        st.success(f"Imported {outcome.added} studies ({outcome.skipped} already on the worklist).")
        if outcome.rejects:
            st.warning(f"{len(outcome.rejects)} rows rejected; nothing else was dropped.")
            st.dataframe(outcome.rejects, hide_index=True, key="import_rejects")
            st.download_button("Download rejects (JSONL)", outcome.rejects_jsonl,
                               file_name="rejects.jsonl", mime="application/jsonl",
                               key="import_rejects_download")

with st.expander("Enter a study"):
    with st.form("study_form", clear_on_submit=False):
        fields = {
            "study_id": st.text_input("Study ID", key="form_study_id"),
            "patient_id": st.text_input("Patient ID (optional)", key="form_patient_id"),
            "indication": st.text_input("Indication (optional)", key="form_indication"),
            "lvef": st.text_input("LVEF, % (optional, e.g. 55-60)", key="form_lvef"),
            "findings_text": st.text_area("Findings", key="form_findings_text", height=160),
        }
        if st.form_submit_button("Add study", key="form_submit"):
            error = services.add_study_from_form(account, fields)
            if error:
                st.error(inert(error))
            else:
                state.flash("success", f"Study {fields['study_id'].strip()} added.")
                st.rerun()
