"""Sign-in sessions of local accounts: a signed, expiring cookie value under a 0600 secret, refused
once tampered with, expired, revoked by sign-out or when the account is deactivated."""

from __future__ import annotations

import os
import stat
from datetime import timedelta

import _db
import pytest
from sqlalchemy import update

from echogpt.review import sessions
from echogpt.review.tables import UserRow, utcnow

db_url, people, pg_url = _db.db_url, _db.people, _db.pg_url  # fixtures


def test_the_secret_is_created_once_readable_by_its_owner_only(tmp_path):
    key = sessions.signing_key(tmp_path)
    assert len(key) >= 32 and sessions.signing_key(tmp_path) == key
    if os.name == "posix":
        assert stat.S_IMODE(sessions.secret_path(tmp_path).stat().st_mode) == 0o600


def test_a_token_is_refused_when_tampered_with_or_expired(tmp_path):
    key = sessions.signing_key(tmp_path)
    now = utcnow()
    token = sessions.sign("abc", now + timedelta(minutes=5), key)
    assert sessions.unsign(token, key) == "abc"
    sid, expires, mac = token.split(".")
    assert sessions.unsign(f"abd.{expires}.{mac}", key) is None  # another session id
    assert sessions.unsign(f"{sid}.{int(expires) + 3600}.{mac}", key) is None  # a longer life
    assert sessions.unsign(token, b"another server's secret" * 2) is None
    assert sessions.unsign(token, key, now=now + timedelta(minutes=6)) is None  # expired
    for junk in ("", "a.b", "a.b.c", "x" * 300):
        assert sessions.unsign(junk, key) is None


def test_a_session_resumes_until_signed_out(people, tmp_path):
    p = people
    token = sessions.open_session(p.db, p.doc, tmp_path)
    assert sessions.resume(p.db, token, "10.0.0.9", tmp_path) == p.doc
    assert sessions.resume(p.db, token, None, tmp_path) == p.doc  # a second reload too
    sessions.close_session(p.db, token, tmp_path)
    assert sessions.resume(p.db, token, None, tmp_path) is None  # the cookie outlives the session
    actions = [a.action for a in p.db.audit_log(p.admin) if a.user == p.doc.name]
    assert actions.count("login.resumed") == 2 and "logout" in actions


def test_a_session_ends_with_its_account_or_its_expiry(people, tmp_path, monkeypatch):
    p = people
    token = sessions.open_session(p.db, p.doc, tmp_path)
    with p.db.transaction() as s:
        s.execute(update(UserRow).where(UserRow.id == p.doc.id).values(active=False))
    assert sessions.resume(p.db, token, None, tmp_path) is None

    monkeypatch.setattr(sessions, "LIFETIME", timedelta(seconds=-1))
    expired = sessions.open_session(p.db, p.doc2, tmp_path)
    assert sessions.resume(p.db, expired, None, tmp_path) is None


def test_a_token_signed_under_another_secret_is_refused(people, tmp_path):
    p = people
    token = sessions.open_session(p.db, p.doc, tmp_path / "a")
    assert sessions.resume(p.db, token, None, tmp_path / "b") is None


def test_a_short_secret_file_is_an_error(tmp_path):
    sessions.secret_path(tmp_path).write_text("short")
    with pytest.raises(ValueError, match="no usable secret"):
        sessions.signing_key(tmp_path)


def test_a_password_change_ends_every_session_of_the_account(people, tmp_path):
    p = people
    mine, other = sessions.open_session(p.db, p.doc, tmp_path), sessions.open_session(p.db, p.doc2, tmp_path)
    p.db.set_password(p.doc, p.doc.name, "a new password", current_password="doc-password")
    assert sessions.resume(p.db, mine, None, tmp_path) is None
    assert sessions.resume(p.db, other, None, tmp_path) == p.doc2  # another account's goes on
