"""Sign-in sessions of local accounts, so that a page reload keeps the user signed in: a random
session id stored in the database (``sign_in_sessions``) and handed to the browser as a cookie
value signed with HMAC-SHA256 under a server secret, with its expiry.

A cookie is honoured only while its signature matches, it has not expired, its session has not
been revoked (signing out revokes it) and its account is still active. The secret lives in
``ECHOGPT_HOME/session_secret`` (created 0600 on first use); deleting it ends every session.

    token = sessions.open_session(db, user)        # after a password sign-in: the cookie value
    user = sessions.resume(db, token)              # on a reload: the account, or None
    sessions.close_session(db, token)              # on sign-out
    sessions.revoke_all(s, user_id)                # a password change ends every session
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session

from echogpt.review import accounts
from echogpt.review.accounts import User
from echogpt.review.database import Database
from echogpt.review.tables import SessionRow, UserRow, utcnow

COOKIE = "echogpt_session"
"""The cookie's name."""

LIFETIME = timedelta(hours=12)
"""How long a session lasts from sign-in (one clinical shift); signing in again starts a new one."""


def secret_path(home: Path | None = None) -> Path:
    """Where the signing secret lives (``ECHOGPT_HOME/session_secret``)."""
    if home is None:
        from echogpt.config import Settings

        home = Settings().home
    return home / "session_secret"


def signing_key(home: Path | None = None) -> bytes:
    """The server's signing secret, created (32 random bytes, file mode 0600) on first use."""
    path = secret_path(home)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes().strip()
        if len(key) < 32:
            raise ValueError(f"{path} holds no usable secret: delete it to make a new one") from None
        return key
    key = secrets.token_hex(32).encode()
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def _mac(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(session_id: str, expires: datetime, key: bytes) -> str:
    """The cookie value: ``<session id>.<expiry, unix seconds>.<HMAC of both>``."""
    payload = f"{session_id}.{int(expires.timestamp())}"
    return f"{payload}.{_mac(key, payload)}"


def unsign(token: str, key: bytes, now: datetime | None = None) -> str | None:
    """The session id of a cookie value whose signature matches and which has not expired."""
    parts = token.split(".") if isinstance(token, str) and len(token) < 256 else []
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    session_id, expires, mac = parts
    if not hmac.compare_digest(mac, _mac(key, f"{session_id}.{expires}")):
        return None
    if int(expires) <= int((now or utcnow()).timestamp()):
        return None
    return session_id


def open_session(db: Database, user: User, home: Path | None = None) -> str:
    """Start a session for a user who just signed in with their password; its cookie value."""
    session_id = secrets.token_urlsafe(24)
    now = utcnow()
    expires = now + LIFETIME
    with db.transaction() as s:
        me = db.acting(s, user)
        s.add(SessionRow(id=session_id, user_id=me.id, created_at=now, expires_at=expires))
    return sign(session_id, expires, signing_key(home))


def resume(db: Database, token: str | None, client: str | None = None,
           home: Path | None = None) -> User | None:
    """The account a session cookie stands for, or None (bad signature, expired, revoked, or an
    account no longer active). A resumed session is audited (``login.resumed``)."""
    session_id = unsign(token, signing_key(home)) if token else None
    if session_id is None:
        return None
    with db.transaction() as s:
        row = s.get(SessionRow, session_id)
        if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
            return None
        user = s.get(UserRow, row.user_id)
        if user is None or not user.active:
            return None
        me = accounts.to_user(user)
        where = f"; client={client}" if client else ""
        db.audit(s, me, "login.resumed", entity="user", entity_id=me.id, detail=f"session cookie{where}")
        return me


def close_session(db: Database, token: str | None, home: Path | None = None) -> None:
    """Revoke the session a cookie stands for (signing out): the cookie is refused from now on."""
    session_id = unsign(token, signing_key(home)) if token else None
    if session_id is None:
        return
    with db.transaction() as s:
        row = s.get(SessionRow, session_id)
        done = s.execute(update(SessionRow).where(SessionRow.id == session_id,
                                                  SessionRow.revoked_at.is_(None))
                         .values(revoked_at=utcnow()))
        user = s.get(UserRow, row.user_id) if row is not None and done.rowcount == 1 else None
        if user is not None:
            db.audit(s, accounts.to_user(user), "logout", entity="user", entity_id=user.id,
                     detail="session revoked")


def revoke_all(s: Session, user_id: int) -> int:
    """Inside a password change: end every open session of the account (a stolen cookie dies
    with the old password); the number ended."""
    done = s.execute(update(SessionRow).where(SessionRow.user_id == user_id, SessionRow.revoked_at.is_(None))
                     .values(revoked_at=utcnow()))
    return done.rowcount
