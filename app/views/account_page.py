"""Account page: who is signed in, change one's own password (the current one is asked; local
accounts only), sign out (which ends the session a reload would resume)."""

from __future__ import annotations

import streamlit as st

from app import services, signin, state
from app.markup import inert

account = state.user()
st.title("Account")
if account is not None:
    st.markdown(f"Signed in as **{inert(account.name)}**, role **{account.role}**.")
    if st.session_state.get("via_oidc"):
        st.caption("Signed in with your hospital account: its password is changed there.")
if account is not None and not st.session_state.get("via_oidc"):
    st.subheader("Change password")
    with st.form("change_password", clear_on_submit=True):
        current = st.text_input("Current password", type="password", key="password_current")
        new = st.text_input("New password (at least 8 characters)", type="password",
                            key="password_new")
        repeated = st.text_input("New password, again", type="password", key="password_repeat")
        if st.form_submit_button("Change password", key="password_submit"):
            error = services.attempt(services.change_password, account, current, new, repeated)
            if error:
                st.error(inert(error))
            else:
                signin.after_password(account)  # the change ended every session: a new one here
                state.flash("success", "Password changed.")
                st.rerun()
if st.button("Sign out", key="sign_out"):
    signin.sign_out()
