"""Reader studies (admin): create a study from a cases JSONL, follow each reader's progress,
see the analysis with its plots, and download the raw ratings with the unblinding key.
Logic lives in ``echogpt.reader.study``, ``echogpt.reader.stats`` and ``echogpt.reader.plots``.
"""

from __future__ import annotations

import tempfile

import streamlit as st

from app import services, state
from app.markup import inert
from echogpt.reader import admin as ra
from echogpt.reader import analysis_output, plots
from echogpt.reader import design as rd
from echogpt.reader import stats as reader_stats
from echogpt.reader import study as rs

account = state.user()
db = services.store()
st.title("Reader studies")

with st.expander("New reader study", expanded=False):
    raters = services.rater_names(account)
    name = st.text_input("Study name", key="rs_name")
    upload = st.file_uploader("Cases (JSONL, see docs/reader_study.md)", type=["jsonl"], key="rs_cases")
    readers = st.multiselect("Readers", raters, key="rs_readers")
    c1, c2, c3, c4 = st.columns(4)
    per = c1.number_input("Cases per reader (0: all)", min_value=0, value=0, key="rs_per")
    design = c2.selectbox("Design", ["preference", "likert", "both"], key="rs_design")
    pairs = c3.selectbox("Pairs shown", ["all", "vs_reference"], key="rs_pairs")
    seed = c4.number_input("Seed (0: draw one)", min_value=0, value=0, key="rs_seed")
    reference = st.text_input("Reference source (e.g. cardiologist; optional)", key="rs_reference")
    if st.button("Create", key="rs_create", disabled=upload is None or not name.strip()):
        def create() -> None:
            d = rd.Design(preference=design != "likert", likert=design != "preference", pairs=pairs,
                          reference=reference.strip() or None)
            cases = rd.parse_cases(upload.getvalue().decode("utf-8"), upload.name)
            rs.create_study(db, account, name.strip(), cases, readers, int(per) or None, d,
                            int(seed) or None)
        error = services.attempt(create)
        state.flash("error", error) if error else state.flash("success", f"Reader study {name} created.")
        st.rerun()

studies = rs.list_studies(db, account)
if not studies:
    st.info("No reader studies yet.")
    st.stop()
study = st.selectbox("Study", studies, index=len(studies) - 1, key="rs_pick")
summary = rs.study_summary(db, account, study)
d = summary.design
st.caption(f"{summary.cases} cases · sources {inert(', '.join(d.sources))} · pairs {d.pairs} · "
           f"{'A-vs-B ' if d.preference else ''}{'Likert ' if d.likert else ''}· seed {summary.seed}")
st.dataframe([{"reader": r, "answered": p.answered, "tasks": p.total}
              for r, p in summary.readers.items()], hide_index=True, key="rs_progress")

rows = rs.export_ratings(db, account, study)
st.download_button("Download raw ratings with the source key (CSV)", ra.ratings_csv(rows),
                   file_name=f"{study}-ratings.csv", key="rs_download")
if not rows:
    st.info("No answers yet.")
    st.stop()
result = reader_stats.analyze(db, account, study)
P_VALUES = {"p_value": st.column_config.NumberColumn(format="%.3g")}  # tiny p stay readable
st.subheader("A vs B preference (coded -2..+2 toward B)")
st.dataframe(result.preference, hide_index=True, key="rs_pref", column_config=P_VALUES)
if result.likert:
    st.subheader("Likert 1-5")
    st.dataframe(result.likert, hide_index=True, key="rs_likert")
    st.dataframe(result.likert_tests, hide_index=True, key="rs_likert_tests", column_config=P_VALUES)
st.subheader("Agreement (Krippendorff's alpha, ordinal)")
agreement_note = analysis_output.agreement_note(result)
if agreement_note:
    st.info(agreement_note)
else:
    st.dataframe(result.agreement, hide_index=True, key="rs_alpha")
with tempfile.TemporaryDirectory() as tmp:
    for path in plots.plot_analysis(result, tmp):
        st.image(path.read_bytes(), caption=path.stem.replace("_", " "))
st.subheader("Per reader")
st.dataframe(result.per_reader, hide_index=True, key="rs_per_reader")
st.subheader("Automatic metrics vs reader scores (Spearman)")
st.dataframe(result.correlation, hide_index=True, key="rs_corr", column_config=P_VALUES)
st.subheader("Time on task")
st.dataframe(result.time_on_task, hide_index=True, key="rs_time")
