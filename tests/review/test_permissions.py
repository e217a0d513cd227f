"""The one permission table: what each role may do, the refusal it gives, and that nothing else in
the package or the app decides by role."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from echogpt.review import permissions
from echogpt.review.accounts import User
from echogpt.review.permissions import ACTIONS, PERMISSIONS, PermissionDenied, Role, may, require

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = {  # action -> roles that may take it; the table must say exactly this
    "study.create": {"cardiologist", "admin"},
    "study.read": {"cardiologist", "admin"},  # readers would unblind the cases they rate
    "draft.write": {"cardiologist"}, "draft.approve": {"cardiologist"},
    "draft.reject": {"cardiologist"}, "report.sign": {"cardiologist"},
    "report.addendum": {"cardiologist"}, "notification.record": {"cardiologist"},
    "audit.read": {"cardiologist", "admin"},
    "adapter.register": {"admin"}, "adapter.select": {"admin"},
    "adapter.list": {"cardiologist", "admin"},
    "feedback.export": {"admin"}, "feedback.clear": {"admin"}, "users.manage": {"admin"},
    "batch.run": {"cardiologist", "admin"}, "batch.send": {"cardiologist"},
    "reader.rate": {"cardiologist", "reader"}, "reader.manage": {"admin"},
}


def test_the_table_grants_exactly_the_expected_roles():
    assert set(ACTIONS) == set(EXPECTED)
    for action, roles in EXPECTED.items():
        assert {r.value for r in permissions.roles_for(action)} == roles, action
    assert set(PERMISSIONS) == set(Role)
    for role, actions in PERMISSIONS.items():
        assert actions <= set(ACTIONS), f"{role}: {sorted(actions - set(ACTIONS))} are not actions"


def test_require_names_the_roles_that_may():
    reader = User(id=1, name="rd", role=Role.reader)
    require(reader, "reader.rate")
    with pytest.raises(PermissionDenied, match="may not read studies and reports"):
        require(reader, "study.read")
    with pytest.raises(PermissionDenied,
                       match=r"^rd \(reader\) may not run batch jobs: needs the admin or cardiologist role$"):
        require(reader, "batch.run")


def test_unknown_actions_and_roles():
    with pytest.raises(KeyError, match="unknown action 'draft.delete'"):
        may(Role.admin, "draft.delete")
    assert not may("nurse", "study.read")
    assert may("cardiologist", "draft.write") and not may("admin", "draft.write")


# Decisions by role outside the table: a role compared or tested for membership, or a set of roles.
ROLE_CHECK = re.compile(r"""\brole["')\]]*(\.value)?\s*(==|!=|\bin\b|\bnot in\b)"""
                        r"|frozenset\(\{\s*Role\.|\bRole\.\w+\s*(==|!=|\bin\b)")


def test_no_role_checks_outside_the_permission_table():
    # Where accounts act (chat-message roles of the model's prompts are another thing).
    places = ["echogpt/review", "echogpt/batch", "echogpt/reader", "echogpt/cli", "app"]
    files = [*(p for place in places for p in sorted((ROOT / place).rglob("*.py"))),
             ROOT / "echogpt" / "quickstart.py"]
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in files if path != Path(permissions.__file__)
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if ROLE_CHECK.search(line) and not line.lstrip().startswith("for ")
             and "not a permission check" not in line]  # e.g. storing the role a mapping gives
    assert found == []


def test_the_role_check_finds_what_it_looks_for():
    for line in ('if account.role == "cardiologist":', 'if u.get("role") in ("reader",):',
                 "WRITERS = frozenset({Role.cardiologist, Role.admin})", "if role in RATERS:"):
        assert ROLE_CHECK.search(line), line
