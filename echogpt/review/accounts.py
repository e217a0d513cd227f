"""Accounts: users, their roles (cardiologist, reader, admin), argon2 password hashing, log-in, and
the permission table every store and review function enforces.

    admin = accounts.cli_user(db)                    # the local command line acts as this admin
    accounts.add_user(db, admin, "dr-lee", "cardiologist", password="...")
    user = accounts.authenticate(db, "dr-lee", "...")
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from echogpt.review.tables import UserRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from echogpt.review.store import Store


class Role(StrEnum):
    cardiologist = "cardiologist"
    reader = "reader"
    admin = "admin"


class User(BaseModel):
    """The acting user, as returned by ``authenticate``; its role is re-read from the database on use."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int
    name: str
    role: Role


class PermissionDenied(Exception):
    """The acting user's role does not allow the action (the message says which roles do)."""


class AuthenticationError(Exception):
    """Unknown user, wrong password or inactive account (one message for all, on purpose)."""


CLI_USER = "cli"
"""The account the local command line acts as (an admin that cannot log in to the app)."""

# Who may do what. Admins run the installation but do not report studies; readers (reader
# studies) may look at studies and the worklist only.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "study.create": frozenset({Role.cardiologist, Role.admin}),
    "study.read": frozenset({Role.cardiologist, Role.reader, Role.admin}),
    "draft.write": frozenset({Role.cardiologist}),
    "draft.approve": frozenset({Role.cardiologist}),
    "draft.reject": frozenset({Role.cardiologist}),
    "report.sign": frozenset({Role.cardiologist}),
    "report.addendum": frozenset({Role.cardiologist}),
    "notification.record": frozenset({Role.cardiologist}),
    "audit.read": frozenset({Role.cardiologist, Role.admin}),
    "adapter.register": frozenset({Role.admin}),
    "adapter.select": frozenset({Role.admin}),
    "adapter.list": frozenset({Role.cardiologist, Role.admin}),
    "feedback.export": frozenset({Role.admin}),
    "feedback.clear": frozenset({Role.admin}),
    "users.manage": frozenset({Role.admin}),
}


def require(user: User, action: str) -> None:
    """Raise ``PermissionDenied`` unless ``user``'s role may perform ``action``.

    Args:
        user: The acting user.
        action: A key of ``PERMISSIONS`` (e.g. ``"draft.approve"``).
    """
    allowed = PERMISSIONS[action]
    if user.role not in allowed:
        roles = " or ".join(sorted(r.value for r in allowed))
        raise PermissionDenied(f"{user.name} ({user.role.value}) may not {action.replace('.', ' ')}: "
                               f"needs the {roles} role")


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


def _to_user(row: UserRow) -> User:
    return User(id=row.id, name=row.name, role=Role(row.role))


def current_role(session: Session, user: User) -> User:
    """The user as stored now (role changes and deactivation apply at once); raises if unknown."""
    row = session.get(UserRow, user.id)
    if row is None or not row.active or row.name != user.name:
        raise PermissionDenied(f"{user.name} is not an active account")
    return _to_user(row)


def acting(session: Session, user: User, roles: frozenset[Role], action: str) -> User:
    """The acting user as stored now; ``PermissionDenied`` unless their role is in ``roles``.

    Args:
        session: An open database session.
        user: The acting user.
        roles: The roles allowed to perform ``action``.
        action: What is being done, for the message ("rate reports").

    Returns:
        The user with the role currently stored.
    """
    me = current_role(session, user)
    if me.role not in roles:
        need = " or ".join(sorted(r.value for r in roles))
        raise PermissionDenied(f"{me.name} ({me.role.value}) may not {action}: needs the {need} role")
    return me


def cli_user(db: Store) -> User:
    """The admin account the local command line acts as (created on first use, cannot log in)."""
    with db.transaction() as s:
        row = s.scalars(select(UserRow).where(UserRow.name == CLI_USER)).one_or_none()
        if row is None:
            row = UserRow(name=CLI_USER, role=Role.admin.value, password_hash=None, active=True)
            s.add(row)
            s.flush()
        return _to_user(row)


def add_user(db: Store, actor: User, name: str, role: str, password: str | None = None) -> User:
    """Create an account (admins only).

    Args:
        db: The store.
        actor: The acting admin.
        name: Unique log-in name (1-128 characters, no spaces).
        role: cardiologist | reader | admin.
        password: At least 8 characters; None makes an account that cannot log in yet.

    Returns:
        The new user.
    """
    name = name.strip()
    if not name or len(name) > 128 or any(c.isspace() for c in name):
        raise ValueError("user name must be 1-128 characters without spaces")
    if name == CLI_USER:
        raise ValueError(f"'{CLI_USER}' is reserved for the command line")
    try:
        role_ = Role(role)
    except ValueError:
        raise ValueError(f"role '{role}' is not one of: "
                         + ", ".join(r.value for r in Role)) from None
    hashed = hash_password(password) if password is not None else None
    with db.transaction() as s:
        require(current_role(s, actor), "users.manage")
        if s.scalars(select(UserRow).where(UserRow.name == name)).first() is not None:
            raise ValueError(f"user '{name}' already exists")
        row = UserRow(name=name, role=role_.value, password_hash=hashed, active=True)
        s.add(row)
        s.flush()
        db.audit(s, actor, "user.add", entity="user", entity_id=row.id, detail=f"role={role_.value}")
        return _to_user(row)


def set_password(db: Store, actor: User, name: str, password: str) -> None:
    """Set a user's password (admins, or the user themself)."""
    hashed = hash_password(password)
    with db.transaction() as s:
        me = current_role(s, actor)
        if me.name != name:
            require(me, "users.manage")
        row = s.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()
        if row is None:
            raise ValueError(f"no user '{name}'")
        row.password_hash = hashed
        db.audit(s, actor, "user.password", entity="user", entity_id=row.id)


def list_users(db: Store, actor: User) -> list[User]:
    """All active accounts (admins only)."""
    with db.transaction() as s:
        require(current_role(s, actor), "users.manage")
        rows = s.scalars(select(UserRow).where(UserRow.active.is_(True)).order_by(UserRow.name))
        return [_to_user(r) for r in rows]


def authenticate(db: Store, name: str, password: str, client: str | None = None) -> User:
    """Log in: the user for ``name`` when ``password`` matches, else ``AuthenticationError``.

    Attempts are audited (``review.throttle``), never with the password, and with the name only
    when it names an account. After repeated failures for the account or from ``client`` (its
    address; None when unknown) an attempt is refused unchecked with ``SignInThrottled``.
    """
    from echogpt.review import throttle

    with db.transaction() as s:
        row = s.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()
        wait = throttle.admit(s, row.id if row else None, client)
        if not wait:
            if row is None or not row.password_hash:
                # Spend the same hashing time as a real check, so timing does not reveal names.
                verify_password(_dummy_hash(), password)
            ok = row is not None and row.active and verify_password(row.password_hash, password)
            if ok and _HASHER.check_needs_rehash(row.password_hash):
                row.password_hash = _HASHER.hash(password)
            throttle.record(s, ok, row.id if row else None, row.name if row else None, client)
    if wait:
        raise throttle.SignInThrottled(wait)
    if not ok:
        raise AuthenticationError("unknown user or wrong password")
    return _to_user(row)


def create_account(name: str, role: str, password: str | None, url: str | None = None) -> User:
    """``echogpt users add``: create an account as the command line's admin.

    Args:
        name: Log-in name.
        role: cardiologist | reader | admin.
        password: At least 8 characters (None: cannot log in until one is set).
        url: Database URL (default: the configured one).

    Returns:
        The new user; ``ValueError`` with one line for bad input or an unusable database.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from echogpt.review.store import Store

    try:
        db = Store(url)
    except SQLAlchemyError as exc:
        raise ValueError(f"cannot open the database: {str(exc).splitlines()[0]}") from None
    try:
        return add_user(db, cli_user(db), name, role, password)
    finally:
        db.dispose()
