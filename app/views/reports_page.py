"""Signed reports, read-only, with their addenda."""

from __future__ import annotations

import streamlit as st

from app import services, state
from app.markup import inert

account = state.user()
st.title("Signed reports")
reports = services.signed_reports(account)
if not reports:
    st.info("No signed reports yet.")
    st.stop()
labels = {f"{r.study_id} · signed by {r.signed_by} · {r.signed_at:%Y-%m-%d %H:%M}": r for r in reports}
chosen = labels[st.selectbox("Report", list(labels), key="reports_pick")]
st.code(chosen.text, language=None, wrap_lines=True)

# Downloads for the hospital's systems: the signed report as a FHIR R4 Bundle and as a printable PDF.
try:
    from echogpt.interop.fhir import bundle_json
    from echogpt.interop.pdf import report_pdf

    fhir_json = bundle_json(services.store(), account, chosen.study_id)
    pdf_bytes = report_pdf(services.store(), account, chosen.study_id)
except Exception as exc:  # noqa: BLE001 - one line on the page, never a traceback
    st.warning(f"Downloads unavailable: {inert(services.describe(exc))}")
else:
    fhir_col, pdf_col = st.columns(2)
    fhir_col.download_button("Download FHIR bundle (JSON)", fhir_json,
                             file_name=f"{chosen.study_id}.fhir.json", mime="application/fhir+json",
                             key="reports_fhir_download")
    pdf_col.download_button("Download printable report (PDF)", pdf_bytes,
                            file_name=f"{chosen.study_id}.pdf", mime="application/pdf",
                            key="reports_pdf_download")
