"""Sign-in page: name and password, checked by ``echogpt.review.accounts``."""

from __future__ import annotations

import streamlit as st

from app import services, state
from app.markup import inert

st.title("EchoGPT copilot")
st.caption("Drafts of echocardiography impressions, checked statement by statement against the "
           "study. Every draft is reviewed and signed by a cardiologist.")
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
        state.sign_in(account)
        st.rerun()
