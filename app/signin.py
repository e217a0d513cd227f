"""Who is signed in, across page reloads: a local account's session cookie or the hospital
identity ``st.login`` keeps, mapped to an EchoGPT account by ``echogpt.review.oidc``.

A password sign-in opens a server-side session (``echogpt.review.sessions``) whose signed,
expiring id the browser keeps as a cookie; a reload (a new Streamlit session) resumes it from
``st.context.cookies``. Signing out revokes it. Hospital sign-in is offered when the ``[auth]``
section of ``.streamlit/secrets.toml`` configures a provider; without it the sign-in page is the
local one alone.

    signin.restore()          # main.py, every run: resumes a session when nobody is signed in
"""

from __future__ import annotations

import json
import logging
from typing import Any

import streamlit as st

from app import services, state

log = logging.getLogger(__name__)


def oidc_configured() -> bool:
    """True when ``.streamlit/secrets.toml`` configures a provider for ``st.login`` (``[auth]``
    with ``client_id``, ``client_secret``, ``server_metadata_url``, ``redirect_uri`` and
    ``cookie_secret``)."""
    try:
        return bool(st.secrets.load_if_toml_exists() and "client_id" in st.secrets.get("auth", {}))
    except Exception:  # noqa: BLE001 - an unreadable secrets file means no hospital sign-in
        return False


def restore() -> None:
    """Sign in the user a reload left signed in: the local session cookie first, else the
    hospital identity (a refusal is audited once and kept to show on the sign-in page)."""
    if state.user() is not None:
        return
    token = st.context.cookies.get(_cookie())
    if token:
        account = _attempt(lambda: _sessions().resume(services.store(), token, st.context.ip_address))
        if account is not None:
            state.sign_in(account)
            st.session_state["session_token"] = token
            return
    if (st.session_state.get("sign_in_refusal") or st.session_state.get("oidc_signed_out")
            or not oidc_configured() or not st.user.is_logged_in):
        return
    from echogpt.review import oidc

    try:
        account = oidc.sign_in(services.store(), st.user.to_dict(), oidc.load_mapping(),
                               st.context.ip_address)
    except Exception as exc:  # noqa: BLE001 - refused (audited) or a bad mapping file: one line
        st.session_state["sign_in_refusal"] = services.describe(exc)
        return
    state.sign_in(account)
    st.session_state["via_oidc"] = True


def after_password(account: Any) -> None:
    """A password sign-in succeeded: open its session and have the browser keep the cookie."""
    state.sign_in(account)
    token = _attempt(lambda: _sessions().open_session(services.store(), account))
    if token:
        st.session_state["session_token"] = token
        st.session_state["cookie_pending"] = ("set", token)


def sign_out() -> None:
    """Sign out and end the run: revoke the local session (its cookie is refused from now on),
    clear it in the browser and rerun onto the sign-in page; a hospital identity is signed out
    with ``st.logout``, which sends the browser to the provider's sign-out."""
    token, via_oidc = st.session_state.get("session_token"), st.session_state.get("via_oidc")
    if token:
        _attempt(lambda: _sessions().close_session(services.store(), token))
    state.sign_out()
    st.session_state["cookie_pending"] = ("clear", "")
    if via_oidc:
        st.session_state["oidc_signed_out"] = True  # never signed in again by this session
        st.logout()
        st.stop()  # a rerun now could drop the redirect st.logout queued
    st.rerun()


def write_cookie() -> None:
    """Send the browser the cookie change a sign-in or sign-out asked for (once)."""
    pending = st.session_state.get("cookie_pending")
    if not pending:
        return
    st.session_state["cookie_pending"] = None
    kind, token = pending
    age = int(_sessions().LIFETIME.total_seconds()) if kind == "set" else 0
    value = json.dumps(f"{_cookie()}={token}; Path=/; Max-Age={age}; SameSite=Strict")
    # Signed in, the script goes last in the sidebar: in the main area it would shift the page's
    # elements by one on the next run, and a widget remounted then (a file upload) can lose its value.
    where = st.sidebar if kind == "set" else st
    where.html(f"<script>document.cookie = {value} + (location.protocol === 'https:' ? '; Secure' : '');"
               "</script>", unsafe_allow_javascript=True, width="content")


def send_typing_on_leave() -> None:
    """Have the browser hand the focused text box's value to the server when the page is left
    (reload, close): Streamlit sends a text box's value when it loses focus, so text typed and
    not yet sent reaches the server (the draft page keeps it) before the page goes."""
    st.html("<script>if (!window.echogptBlurOnLeave) { window.echogptBlurOnLeave = true;"
            " window.addEventListener('beforeunload', () => { const a = document.activeElement;"
            " if (a && a.tagName === 'TEXTAREA') a.blur(); }); }</script>",
            unsafe_allow_javascript=True, width="content")


def _cookie() -> str:
    return _sessions().COOKIE


def _sessions() -> Any:
    from echogpt.review import sessions

    return sessions


def _attempt(action: Any) -> Any:
    """A session lookup that fails (a database hiccup) leaves the user signed out, not stuck."""
    try:
        return action()
    except Exception as exc:  # noqa: BLE001 - logged by type; the sign-in page still works
        services.log_failure("session", exc)
        return None
