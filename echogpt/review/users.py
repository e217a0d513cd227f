"""Accounts from the command line: ``echogpt users add`` and ``echogpt users set-password`` open
the configured database and act as its local admin (``Store.cli_user``).

    create_account("dr-lee", "cardiologist", password); reset_password("dr-lee", new_password)
"""

from __future__ import annotations

from echogpt.review.accounts import User
from echogpt.review.store import Store


def _open(url: str | None) -> Store:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return Store(url)
    except SQLAlchemyError as exc:
        raise ValueError(f"cannot open the database: {str(exc).splitlines()[0]}") from None


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
    db = _open(url)
    try:
        return db.add_user(db.cli_user(), name, role, password)
    finally:
        db.dispose()


def reset_password(name: str, password: str, url: str | None = None) -> None:
    """``echogpt users set-password``: set an account's password as the command line's admin.

    Args:
        name: The account.
        password: The new password (at least 8 characters).
        url: Database URL (default: the configured one).

    Raises:
        ValueError: one line for an unknown account, a short password or an unusable database.
    """
    db = _open(url)
    try:
        db.set_password(db.cli_user(), name, password)
    finally:
        db.dispose()
