"""Account page: who is signed in, and sign out."""

from __future__ import annotations

import streamlit as st

from app import state

account = state.user()
st.title("Account")
if account is not None:
    st.write(f"Signed in as **{account.name}**, role **{account.role}**.")
if st.button("Sign out", key="sign_out"):
    state.sign_out()
    st.rerun()
