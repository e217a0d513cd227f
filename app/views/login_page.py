"""Sign-in page: the hospital account (when ``st.login`` is configured, ``app.signin``), and a
local name and password, checked by ``echogpt.review.accounts``."""

from __future__ import annotations

import streamlit as st

from app import services, signin
from app.markup import inert

st.title("EchoGPT copilot")
st.caption("Drafts of echocardiography impressions, checked statement by statement against the "
           "study. Every draft is reviewed and signed by a cardiologist.")
if signin.oidc_configured():
    refusal = st.session_state.get("sign_in_refusal")
    if refusal:
        st.error(f"Hospital sign-in refused: {inert(refusal)}")
        if st.button("Sign out of the hospital account", key="login_oidc_out"):
            st.logout()
    elif st.button("Sign in with the hospital account", key="login_oidc", type="primary"):
        st.login()
    st.caption("Or with a local EchoGPT account:")
with st.form("login_form"):
    name = st.text_input("User name", key="login_name")
    password = st.text_input("Password", type="password", key="login_password")
    submitted = st.form_submit_button("Sign in", key="login_submit", type="primary")
if submitted:
    try:
        account, refusal = services.authenticate(name.strip(), password), None
    except Exception as exc:  # noqa: BLE001 - too many failed sign-ins: one line saying how long to wait
        account, refusal = None, str(exc)
    if account is None:
        st.error(inert(refusal) if refusal else "Unknown user name or wrong password.")
    else:
        signin.after_password(account)
        st.rerun()
