"""Signed reports, read-only, with their addenda."""

from __future__ import annotations

import streamlit as st

from app import services, state

account = state.user()
st.title("Signed reports")
reports = services.signed_reports(account)
if not reports:
    st.info("No signed reports yet.")
    st.stop()
labels = {f"{r.study_id} · signed by {r.signed_by} · {r.signed_at:%Y-%m-%d %H:%M}": r for r in reports}
chosen = labels[st.selectbox("Report", list(labels), key="reports_pick")]
st.code(chosen.text, language=None, wrap_lines=True)
