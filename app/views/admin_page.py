"""Admin page: accounts, adapter versions (select the active one), feedback export, and clearing
records held back for likely identifiers once their texts have been read."""

from __future__ import annotations

import streamlit as st

from app import services, state
from app.markup import inert

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
adapters = services.adapter_rows(account)
if adapters:
    st.dataframe(adapters, hide_index=True, key="admin_adapters")
    names = [a["name"] for a in adapters]
    active = next((a["name"] for a in adapters if a["active"]), None)
    chosen = st.selectbox("Active adapter", names,
                          index=names.index(active) if active in names else 0,
                          key="admin_adapter_pick")
    if st.button("Make active", key="admin_adapter_activate", disabled=chosen == active):
        error = services.attempt(services.activate_adapter, account, chosen)
        if error:
            st.error(inert(error))
        else:
            state.flash("success", "Active adapter changed; new drafts use it.")
            st.rerun()
else:
    st.info("No adapter registered: drafts come from the base model alone.")

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
