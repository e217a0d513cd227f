"""Accounts: the user record, argon2 password hashing, checks of new names and roles, and the
acting user's role as stored now. Opening the database is the store's part (``Store.add_user``,
``Store.authenticate``); what each role may do is ``permissions``.

    hashed = hash_password("correct horse"); verify_password(hashed, "correct horse")  # True
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict

from echogpt.review.permissions import PermissionDenied, Role
from echogpt.review.tables import UserRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class User(BaseModel):
    """The acting user, as returned by ``Store.authenticate``; its role is re-read on every use."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int
    name: str
    role: Role


class AuthenticationError(Exception):
    """Unknown user, wrong password or inactive account (one message for all, on purpose)."""


CLI_USER = "cli"
"""The account the local command line acts as (an admin that cannot log in to the app)."""

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted; the parameters travel inside the hash)."""
    if len(password) < 8:
        raise ValueError("password must have at least 8 characters")
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``password_hash`` (False for accounts without a password)."""
    if not password_hash:
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _HASHER.hash("not a password of anyone")


def check_login(row: UserRow | None, password: str) -> bool:
    """True when ``row`` is an active account whose password is ``password``.

    An unknown name or an account without a password spends the same hashing time as a real
    check, so timing does not reveal which names exist. A match on outdated hashing parameters
    rehashes the password in place (the caller's transaction stores it).
    """
    if row is None or not row.password_hash:
        verify_password(_dummy_hash(), password)
        return False
    ok = bool(row.active) and verify_password(row.password_hash, password)
    if ok and _HASHER.check_needs_rehash(row.password_hash):
        row.password_hash = _HASHER.hash(password)
    return ok


def new_account(name: str, role: str) -> tuple[str, Role]:
    """The checked name and role of an account to create (``ValueError`` with one line if bad).

    Args:
        name: Log-in name: 1-128 characters, no spaces, not the command line's.
        role: cardiologist | reader | admin.
    """
    name = name.strip()
    if not name or len(name) > 128 or any(c.isspace() for c in name):
        raise ValueError("user name must be 1-128 characters without spaces")
    if name == CLI_USER:
        raise ValueError(f"'{CLI_USER}' is reserved for the command line")
    try:
        return name, Role(role)
    except ValueError:
        raise ValueError(f"role '{role}' is not one of: "
                         + ", ".join(r.value for r in Role)) from None


def to_user(row: UserRow) -> User:
    """The user record of a ``users`` row."""
    return User(id=row.id, name=row.name, role=Role(row.role))


def current_role(session: Session, user: User) -> User:
    """The user as stored now (role changes and deactivation apply at once); raises if unknown."""
    row = session.get(UserRow, user.id)
    if row is None or not row.active or row.name != user.name:
        raise PermissionDenied(f"{user.name} is not an active account")
    return to_user(row)
