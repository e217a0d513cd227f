"""The store's accounts and log-in: the command line's account, adding users, passwords, the
account list and ``authenticate`` (throttled, audited). Mixed into ``Store``, the one door.

    user = Store().authenticate("dr-lee", password)   # or Store().cli_user() on the command line
"""

from __future__ import annotations

from sqlalchemy import select

from echogpt.review import accounts, sessions, throttle
from echogpt.review.accounts import AuthenticationError, User
from echogpt.review.database import Database
from echogpt.review.tables import UserRow


class Accounts(Database):
    """Accounts and log-in, each method one transaction (see ``Store``)."""

    def cli_user(self) -> User:
        """The admin account the local command line acts as (created on first use, cannot log in)."""
        with self.transaction() as s:
            row = s.scalars(select(UserRow).where(UserRow.name == accounts.CLI_USER)).one_or_none()
            if row is None:
                row = UserRow(name=accounts.CLI_USER, role="admin", password_hash=None, active=True)
                s.add(row)
                s.flush()
            return accounts.to_user(row)

    def add_user(self, actor: User, name: str, role: str, password: str | None = None) -> User:
        """Create an account (admins only).

        Args:
            actor: The acting admin.
            name: Unique log-in name (1-128 characters, no spaces).
            role: cardiologist | reader | admin.
            password: At least 8 characters; None makes an account that cannot log in yet.

        Returns:
            The new user.
        """
        name, role_ = accounts.new_account(name, role)
        hashed = accounts.hash_password(password) if password is not None else None
        with self.transaction() as s:
            me = self.acting(s, actor, "users.manage")
            if s.scalars(select(UserRow).where(UserRow.name == name)).first() is not None:
                raise ValueError(f"user '{name}' already exists")
            row = UserRow(name=name, role=role_.value, password_hash=hashed, active=True)
            s.add(row)
            s.flush()
            self.audit(s, me, "user.add", entity="user", entity_id=row.id, detail=f"role={role_.value}")
            return accounts.to_user(row)

    def set_password(self, actor: User, name: str, password: str,
                     current_password: str | None = None) -> None:
        """Set a user's password: admins for anyone, everyone for themself.

        Args:
            actor: The acting user.
            name: Whose password changes.
            password: The new password (at least 8 characters).
            current_password: Required when users change their own password from a log-in
                session (``AuthenticationError`` if it is wrong); None for admins and the CLI.
        """
        if name == accounts.CLI_USER:
            raise ValueError(f"'{accounts.CLI_USER}' is the command line's account and cannot log in")
        hashed = accounts.hash_password(password)
        with self.transaction() as s:
            me = self.acting(s, actor)
            if me.name != name:
                self.acting(s, actor, "users.manage")
            row = s.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()
            if row is None:
                raise ValueError(f"no user '{name}'")
            if current_password is not None and not accounts.verify_password(row.password_hash,
                                                                             current_password):
                raise AuthenticationError("the current password is wrong")
            row.password_hash = hashed
            ended = sessions.revoke_all(s, row.id)
            self.audit(s, me, "user.password", entity="user", entity_id=row.id,
                       detail=f"{ended} session(s) ended" if ended else None)

    def list_users(self, actor: User) -> list[User]:
        """All active accounts (admins only)."""
        with self.transaction() as s:
            self.acting(s, actor, "users.manage")
            rows = s.scalars(select(UserRow).where(UserRow.active.is_(True)).order_by(UserRow.name))
            return [accounts.to_user(r) for r in rows]

    def authenticate(self, name: str, password: str, client: str | None = None) -> User:
        """Log in: the user for ``name`` when ``password`` matches, else ``AuthenticationError``.

        Attempts are audited (``review.throttle``), never with the password, and with the name only
        when it names an account. After repeated failures for the account or from ``client`` (its
        address; None when unknown) an attempt is refused unchecked with ``SignInThrottled``.
        """
        with self.transaction() as s:
            row = s.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()
            wait = throttle.admit(s, row.id if row else None, client)
            if not wait:
                ok = accounts.check_login(row, password)
                throttle.record(s, ok, row.id if row else None, row.name if row else None, client)
        if wait:
            raise throttle.SignInThrottled(wait)
        if not ok:
            raise AuthenticationError("unknown user or wrong password")
        return accounts.to_user(row)
