"""Admin page: accounts, adapter versions beside the active one with their gate figures (make one
active, with a reason when it is worse or unjudged; roll back), monitoring per version over time,
feedback export, and clearing records held back for likely identifiers once their texts were read."""

from __future__ import annotations

import streamlit as st

from app import services, state
from app.markup import inert
from echogpt.review import gate, monitoring

account = state.user()
st.title("Admin")

st.subheader("Users")
st.dataframe(services.user_rows(account), hide_index=True, key="admin_users")
with st.form("admin_add_user", clear_on_submit=True):
    c1, c2, c3 = st.columns(3)
    name = c1.text_input("User name", key="new_user_name")
    role = c2.selectbox("Role", ["cardiologist", "reader", "admin"], key="new_user_role")
    password = c3.text_input("Password (at least 8 characters)", type="password",
                             key="new_user_password")
    if st.form_submit_button("Add user", key="new_user_submit"):
        error = services.attempt(services.add_user, account, name.strip(), role, password)
        if error:
            st.error(inert(error))
        else:
            state.flash("success", f"User {name.strip()} added.")
            st.rerun()

st.subheader("Adapter versions")
view = services.version_comparison(account)
if view.rows:
    st.caption("Each version is evaluated on the held-out set when it is registered (means with 95 % "
               "bootstrap CIs). A version is worse when any clinical mean is worse than the active "
               "version's: lower fact-F1, or more hallucinated statements, critical or high omissions. "
               "Making a worse or unjudged version active needs a reason, which is audited.")
    st.dataframe(gate.table(view), hide_index=True, key="admin_adapters")
    seen = state.gate_shown_before({r.version.name: r.seen for r in view.rows}
                                   | {state.ROLLBACK: view.rollback_seen})
    rows = {r.version.name: r for r in view.rows if not r.version.active}
    if rows:
        # a reason typed for one version never carries over to another, nor to a later activation
        # (set, not deleted: only a value set here reaches the browser's copy of the field)
        if st.session_state.pop("admin_adapter_reason_clear", False):
            st.session_state["admin_adapter_reason"] = ""
        chosen = st.selectbox("Version to make active", list(rows), key="admin_adapter_pick",
                              on_change=lambda: st.session_state.update(admin_adapter_reason=""))
        row = rows[chosen]
        reason = None
        if row.needs_reason:
            st.warning(inert(f"Making {chosen} active needs a reason: " + "; ".join(row.needs_reason)))
            reason = st.text_input("Reason (required; audited)", key="admin_adapter_reason")
        left, right = st.columns(2)
        if left.button("Make active", key="admin_adapter_activate"):
            error = services.attempt(services.activate_adapter, account, chosen,
                                     seen.get(chosen, row.seen), reason)
            if error:
                st.error(inert(error))
            else:
                state.flash("success", f"{chosen} is active; new drafts use it.")
                st.session_state["admin_adapter_reason_clear"] = True
                st.rerun()
        if (row.evaluation is None or row.evaluation.status == "failed") and right.button(
                "Evaluate on the held-out set", key="admin_adapter_evaluate"):
            error = services.attempt(services.evaluate_adapter, account, chosen)
            if error:
                st.error(inert(error))
            else:
                state.flash("success", f"{chosen} is being evaluated in the background.")
                st.rerun()
    if view.previous and st.button(f"Roll back to {view.previous}", key="admin_adapter_rollback"):
        error = services.attempt(services.rollback_adapter, account, seen.get(state.ROLLBACK, ""))
        if error:
            st.error(inert(error))
        else:
            state.flash("success", f"Rolled back: {view.previous} is active again.")
            st.session_state["admin_adapter_reason_clear"] = True
            st.rerun()
else:
    st.info("No adapter registered: drafts come from the base model alone.")

st.subheader("Monitoring")
weeks = services.monitoring_rows(account)
if weeks:
    measure = st.selectbox("Measure", list(monitoring.MEASURES), format_func=monitoring.MEASURES.get,
                           key="admin_monitor_measure")
    st.altair_chart(services.monitoring_chart(weeks, measure), width="stretch",
                    key="admin_monitor_chart")
    st.download_button("Download CSV", lambda: services.monitoring_csv(account),
                       file_name="monitoring.csv", mime="text/csv", key="admin_monitor_csv")
else:
    st.info("No reviewed drafts yet: monitoring starts with the first approval or rejection.")

st.subheader("Feedback export")
st.caption("Approved finals become fine-tuning records; edited drafts become preference pairs. "
           "Records with likely identifiers are held back until reviewed.")
if st.button("Export feedback", key="admin_export"):
    st.session_state["feedback_export"] = services.export_feedback(account)
exported = st.session_state.get("feedback_export")
if isinstance(exported, str):
    st.error(inert(exported))
elif exported is not None:
    st.success(f"Exported to {inert(exported.out_dir)}: SFT records {exported.sft_records}, preference "
               f"pairs {exported.preference_pairs}, held back {len(exported.held_back)}")
    if exported.held_back:
        st.dataframe([{"report": h.report_id, "record": h.record,
                       "identifiers": "; ".join(f"{f}: {', '.join(k)}" for f, k in h.fields.items())}
                      for h in exported.held_back], hide_index=True, key="admin_held_back")
        report_id = st.selectbox("Held-back record to review", [h.report_id for h in exported.held_back],
                                 format_func=lambda i: f"report {i}", key="admin_clear_pick")
        for field, text in services.held_back_texts(account, report_id).items():
            st.text_area(field, text, disabled=True, key=f"admin_clear_text_{report_id}_{field}")
        st.caption("Clear a record only when its texts hold no identifiers; it is exported from "
                   "the next export on, and the clearance is audited.")
        if st.button("Clear for export", key="admin_clear"):
            error = services.attempt(services.clear_for_export, account, report_id)
            if error:
                st.error(inert(error))
            else:
                st.session_state["feedback_export"] = exported.model_copy(update={"held_back": [
                    h for h in exported.held_back if h.report_id != report_id]})
                state.flash("success", f"Report {report_id} cleared; export again to include it.")
                st.rerun()
