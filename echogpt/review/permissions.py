"""Who may do what: the roles, the one table of the actions each role may take, and the check
every store method, batch job, reader study and page of the copilot goes through.

    require(user, "draft.approve")      # PermissionDenied unless the user's role may
    may(user.role, "batch.run")         # True / False, e.g. to show a page
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class Role(StrEnum):
    cardiologist = "cardiologist"
    reader = "reader"
    admin = "admin"


ACTIONS: dict[str, str] = {
    "study.create": "add studies to the worklist",
    "study.read": "read studies and reports",
    "draft.write": "draft impressions",
    "draft.approve": "approve drafts",
    "draft.reject": "reject drafts",
    "report.sign": "sign reports",
    "report.addendum": "add addenda",
    "notification.record": "record notifications",
    "audit.read": "read the audit log",
    "adapter.register": "register adapter versions",
    "adapter.select": "select the active adapter",
    "adapter.list": "see adapter versions",
    "feedback.export": "export feedback",
    "feedback.clear": "clear records for export",
    "users.manage": "manage users",
    "batch.run": "run batch jobs",
    "batch.send": "send batch drafts to the worklist",
    "reader.rate": "rate reports in reader studies",
    "reader.manage": "manage reader studies",
}
"""Every action, with the words a refusal uses ("... may not approve drafts")."""

PERMISSIONS: dict[Role, frozenset[str]] = {
    # Cardiologists report studies, run batch drafts and rate reports in reader studies.
    Role.cardiologist: frozenset({
        "study.create", "study.read", "draft.write", "draft.approve", "draft.reject", "report.sign",
        "report.addendum", "notification.record", "audit.read", "adapter.list", "batch.run",
        "batch.send", "reader.rate"}),
    # Readers rate blinded reports in reader studies and nothing else: the worklist, drafts and
    # signed reports would unblind the cases they rate.
    Role.reader: frozenset({"reader.rate"}),
    # Admins run the installation but do not report studies.
    Role.admin: frozenset({
        "study.create", "study.read", "audit.read", "adapter.register", "adapter.select",
        "adapter.list", "feedback.export", "feedback.clear", "users.manage", "batch.run",
        "reader.manage"}),
}
"""Role -> the actions it may take; anything not listed is refused."""


class Actor(Protocol):
    """Who acts: any record with a name and a role (``accounts.User``)."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> Role: ...


class PermissionDenied(Exception):
    """The acting user's role does not allow the action (the message says which roles do)."""


def may(role: Role | str, action: str) -> bool:
    """True when ``role`` may take ``action`` (a key of ``ACTIONS``; ``KeyError`` otherwise)."""
    if action not in ACTIONS:
        raise KeyError(f"unknown action '{action}'")
    try:
        return action in PERMISSIONS[Role(role)]
    except ValueError:  # not a role at all
        return False


def roles_for(action: str) -> list[Role]:
    """The roles that may take ``action``, in table order."""
    return [role for role in PERMISSIONS if may(role, action)]


def require(user: Actor, action: str) -> None:
    """Raise ``PermissionDenied`` unless ``user``'s role may take ``action``.

    Args:
        user: The acting user (its role as stored now: see ``accounts.current_role``).
        action: A key of ``ACTIONS`` (e.g. ``"draft.approve"``).
    """
    if not may(user.role, action):
        roles = " or ".join(sorted(r.value for r in roles_for(action)))
        raise PermissionDenied(f"{user.name} ({Role(user.role).value}) may not {ACTIONS[action]}: "
                               f"needs the {roles} role")
