"""Sign-in throttling: after repeated failed sign-ins an account, and a client address, wait longer
and longer before the next try is checked, then are locked for a while; every refusal is audited.

The state is the audit log's sign-in entries (``login``, ``login.failed``), so it holds across app
processes and restarts and needs no table of its own. ``Store.authenticate`` calls it.

    wait = throttle.admit(s, account_id, client)   # 0.0: check the password; else refused, audited
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from echogpt.review.accounts import AuthenticationError
from echogpt.review.tables import AuditRow, utcnow


class Policy(BaseModel):
    """How failures in a row turn into waits: none for the first ``free``, then a wait doubling
    from ``first_wait_s`` up to ``max_wait_s``, then a lock of ``lock_s`` from the ``lock_after``-th."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    free: int = Field(3, ge=0, description="Failures in a row that cost no wait")
    first_wait_s: float = Field(2.0, gt=0, description="Wait after the first failure past the free ones")
    max_wait_s: float = Field(60.0, gt=0, description="Longest wait before the lock")
    lock_after: int = Field(10, ge=1, description="Failures in a row that lock")
    lock_s: float = Field(900.0, gt=0, description="Length of a lock (each failure after one locks again)")
    window_s: float = Field(3600.0, gt=0, description="Failures older than this are forgotten")


ACCOUNT = Policy()
"""Per account; a successful sign-in starts its count again."""

CLIENT = Policy(free=10, lock_after=30)
"""Per client address, over all names tried from it (several people may share an address, and a
success does not clear it: one known password must not buy guesses at other accounts)."""


class SignInThrottled(AuthenticationError):
    """Too many failed sign-ins: the attempt was refused unchecked; the message says how long to wait."""

    def __init__(self, wait_s: float):
        super().__init__(f"too many failed sign-ins: try again in {_duration(wait_s)}")
        self.wait_s = wait_s


def wait_after(failures: Sequence[datetime], now: datetime, policy: Policy) -> float:
    """Seconds still to wait before the next attempt may be checked.

    Args:
        failures: times of the failures in a row, oldest first.
        now: the time of the attempt.
        policy: the waits and the lock.

    Returns:
        0.0 when the attempt may be checked now.
    """
    recent = [t for t in failures if (now - t).total_seconds() < policy.window_s]
    n = len(recent)
    if n < policy.free:
        return 0.0
    if n >= policy.lock_after:
        wait = policy.lock_s
    else:
        wait = min(policy.first_wait_s * 2 ** (n - policy.free), policy.max_wait_s)
    return max(0.0, wait - (now - recent[-1]).total_seconds())


def admit(s: Session, account_id: int | None, client: str | None) -> float:
    """Whether a sign-in attempt may be checked now; a refusal is audited (``login.throttled``).

    Args:
        s: the sign-in's transaction.
        account_id: the account the name names, or None.
        client: the client's address, or None when unknown (e.g. the same machine).

    Returns:
        The seconds to wait (0.0: go ahead and check the password).
    """
    now = _now()
    by_account, by_client = _failures(s, now, account_id, _clean(client))
    waits = {"account": wait_after(by_account, now, ACCOUNT), "client": wait_after(by_client, now, CLIENT)}
    key = max(waits, key=lambda k: waits[k])
    if waits[key] > 0:
        _audit(s, now, "login.throttled", account_id, client,
               f"refused unchecked ({key}): wait {math.ceil(waits[key])} s")
    return waits[key]


def record(s: Session, ok: bool, account_id: int | None, name: str | None, client: str | None) -> None:
    """Audit a checked sign-in: ``login`` or ``login.failed`` (and ``login.locked`` when the
    failure locks the account or the client).

    Args:
        s: the sign-in's transaction.
        ok: the password matched.
        account_id: the account the name names, or None.
        name: the account's name, or None: a name that names no account is never stored (it may
            be a password typed into the wrong field).
        client: the client's address, or None.
    """
    now = _now()
    if ok:
        _audit(s, now, "login", account_id, client, f"name={name}", user_name=name)
        return
    _audit(s, now, "login.failed", account_id, client, f"name={name}" if name else "unknown name")
    by_account, by_client = _failures(s, now, account_id, _clean(client))
    for key, failures, policy in (("account", by_account, ACCOUNT), ("client", by_client, CLIENT)):
        if len(failures) >= policy.lock_after:
            _audit(s, now, "login.locked", account_id, client,
                   f"{key} locked for {_duration(policy.lock_s)} after {len(failures)} failures")


# ---------------------------------------------------------------- audit rows

_CLIENT = re.compile(r"(?:^|; )client=(\S+)")


def _now() -> datetime:
    return utcnow()


def _clean(client: str | None) -> str | None:
    if not isinstance(client, str) or not client.strip():
        return None  # unknown (Streamlit gives None for the same machine)
    return re.sub(r"\s+", "_", client.strip())[:64]


def _audit(s: Session, now: datetime, action: str, account_id: int | None, client: str | None,
           detail: str, user_name: str | None = None) -> None:
    client = _clean(client)
    s.add(AuditRow(at=now, user_id=account_id if user_name else None,
                   user_name=user_name or "anonymous", action=action,
                   entity="user" if account_id is not None else None, entity_id=account_id,
                   detail=detail + (f"; client={client}" if client else "")))
    s.flush()


def _failures(s: Session, now: datetime, account_id: int | None,
              client: str | None) -> tuple[list[datetime], list[datetime]]:
    """Failure times in a row, oldest first: the account's since its last success, the client's."""
    since = now - timedelta(seconds=max(ACCOUNT.window_s, CLIENT.window_s))
    rows = s.execute(select(AuditRow.at, AuditRow.action, AuditRow.entity, AuditRow.entity_id,
                            AuditRow.detail)
                     .where(AuditRow.at >= since, AuditRow.action.in_(("login", "login.failed")))
                     .order_by(AuditRow.id))
    by_account: list[datetime] = []
    by_client: list[datetime] = []
    for at, action, entity, entity_id, detail in rows:
        if account_id is not None and entity == "user" and entity_id == account_id:
            by_account = [] if action == "login" else [*by_account, at]
        found = _CLIENT.search(detail or "")
        if client and action == "login.failed" and found and found.group(1) == client:
            by_client.append(at)
    return by_account, by_client


def _duration(seconds: float) -> str:
    return f"{math.ceil(seconds)} s" if seconds < 120 else f"{math.ceil(seconds / 60)} min"
