"""Session keys of the copilot, initialised in one place so every page reads the same names.

    state.init(); user = state.user()
"""

from __future__ import annotations

from typing import Any, NamedTuple

import streamlit as st

from app.markup import inert

DEFAULTS: dict[str, Any] = {
    "user": None,            # the signed-in account (echogpt.review.accounts user record) or None
    "study_id": None,        # study open on the draft page
    "flash": None,           # (kind, message) shown once at the top of the next page render
    "conflict_text": None,   # the other reviewer's text after a lost-update conflict
    "shown": None,           # what the draft page last rendered (``Shown``): what a click acts on
    "edit_for": None,        # (draft id, version, text) the edit box's text started from
    "import_result": None,   # last file import: (accepted count, rejects JSONL text, reject rows)
    "feedback_export": None,  # last feedback export on the admin page (its report, or an error line)
    "edit_note": None,       # (draft id, note) about an unsaved edit kept across a reload
    "session_token": None,   # the local sign-in session's cookie value (``app.signin``)
    "via_oidc": False,       # signed in through the hospital's identity provider
    "sign_in_refusal": None,  # why the hospital identity has no EchoGPT account (shown on sign-in)
    "cookie_pending": None,  # ("set", token) | ("clear", "") for the browser, sent once
}


def init() -> None:
    """Create every session key with its default (existing values are kept)."""
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value


def user() -> Any:
    """The signed-in account, or None."""
    return st.session_state.get("user")


def sign_in(account: Any) -> None:
    """Remember the signed-in account."""
    st.session_state["user"] = account


def sign_out() -> None:
    """Forget the account and everything opened under it."""
    for key, value in DEFAULTS.items():
        st.session_state[key] = value


def open_study(study_id: str | None) -> None:
    """Select the study the draft page shows."""
    st.session_state["study_id"] = study_id
    st.session_state["conflict_text"] = None


def sync_editor(draft_id: int, version: int, text: str) -> int:
    """Fill the edit box (key ``edit_text``) from the draft unless it holds unsaved changes.

    Call before the text area is drawn. Returns the draft version the box's text started from,
    which is what a save must expect: if someone else saved meanwhile, the save is refused with
    their text instead of overwriting it (or silently replacing the reader's unsaved edit).
    """
    base = st.session_state.get("edit_for")
    box = st.session_state.get("edit_text")
    if base is None or base[0] != draft_id or box is None or box == base[2]:
        st.session_state["edit_for"] = (draft_id, version, text)
        st.session_state["edit_text"] = text
        return version
    return base[1]


def restore_editor(draft_id: int, version: int, text: str, kept: Any) -> None:
    """Put an unsaved edit kept across a reload (``echogpt.review.edits.KeptEdit``) back in the
    edit box when it was typed on this draft version; else only note what it held.

    Call before ``sync_editor``, once per opening of a draft.
    """
    if kept is None:
        return
    if kept.current and kept.draft_id == draft_id and kept.draft_version == version:
        st.session_state["edit_for"] = (draft_id, version, text)
        st.session_state["edit_text"] = kept.text
        note = ("Your unsaved edit from before the page was reloaded is back in the edit box; "
                "save it to keep it.")
    else:
        note = (f"Your unsaved edit was typed on version {kept.draft_version} of a draft that has "
                "changed since, so it was not put back. What you had typed:\n\n" + inert(kept.text))
    st.session_state["edit_note"] = (draft_id, note)


def rebase_editor(draft_id: int, version: int, text: str) -> None:
    """After a save (or a conflict), the box's text counts as starting from ``version``."""
    st.session_state["edit_for"] = (draft_id, version, text)


class Shown(NamedTuple):
    """The versions a render of the draft page showed: a button clicked on it acts on these."""

    study_id: str
    draft_id: int | None
    draft_version: int | None
    study_version: int


def shown_before(now: Shown) -> Shown:
    """Record what this render shows; return what the previous render of the same study showed.

    A click reruns the page, which reads the study again: a transition must act on the versions
    the user saw when clicking (the previous render), not on what the rerun read, or it would act
    on another reviewer's text the user never saw. The store refuses stale versions.
    """
    before = st.session_state.get("shown")
    st.session_state["shown"] = now
    return before if before is not None and before.study_id == now.study_id else now


def gate_shown_before(now: dict[str, str]) -> dict[str, str]:
    """Record the comparison tokens this render of the admin page shows (version name ->
    ``VersionRow.seen``, and ``ROLLBACK`` -> ``Comparison.rollback_seen``); return the previous
    render's, which a click acts on (see :func:`shown_before`)."""
    before = st.session_state.get("gate_shown")
    st.session_state["gate_shown"] = now
    return before if before is not None else now


ROLLBACK = "\x00rollback"  # the key of the rollback token (no version name starts with NUL)


def flash(kind: str, message: str) -> None:
    """Queue a message ("success" | "info" | "warning" | "error") for the next render."""
    st.session_state["flash"] = (kind, message)


def show_flash() -> None:
    """Show and clear the queued message."""
    queued = st.session_state.get("flash")
    if queued:
        kind, message = queued
        getattr(st, kind, st.info)(inert(message))  # messages quote study ids, names, findings
        st.session_state["flash"] = None
