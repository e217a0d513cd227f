"""Admin page: accounts, adapter versions (select the active one), feedback export."""

from __future__ import annotations

import streamlit as st

from app import services, state

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
            st.error(error)
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
            st.error(error)
        else:
            state.flash("success", "Active adapter changed; new drafts use it.")
            st.rerun()
else:
    st.info("No adapter registered: drafts come from the base model alone.")

st.subheader("Feedback export")
st.caption("Approved finals become fine-tuning records; edited drafts become preference pairs. "
           "Records with likely identifiers are held back until reviewed.")
if st.button("Export feedback", key="admin_export"):
    summary = services.export_feedback(account)
    if isinstance(summary, str):
        st.error(summary)
    else:
        st.success(f"Exported to {summary['out']}: " + ", ".join(
            f"{k} {v}" for k, v in summary.items() if k != "out"))
