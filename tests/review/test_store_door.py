"""``echogpt.review.store`` stays the copilot's one door: the names it exports import from it, ``Store``
answers every method the pages, the command line, batch jobs and reader studies call, and no two of
its per-noun modules define the same method (a later one would silently shadow the other).

    python -m pytest tests/review/test_store_door.py
"""

from __future__ import annotations

import importlib

from echogpt.review.database import Database

EXPORTS = ["AdapterVersion", "AuditView", "AuthenticationError", "ConfirmationRequired", "ConflictError",
           "DraftView", "FeedbackItem", "NotFound", "NotificationRequired", "PermissionDenied",
           "ReportView", "Status", "Store", "WorklistItem", "upgrade_db"]
METHODS = ["cli_user", "add_user", "set_password", "list_users", "authenticate", "create_study",
           "import_studies", "get_study", "list_worklist", "worklist_item", "save_draft", "current_draft",
           "edit_draft", "approve", "reject", "rejection_reason", "get_report", "final_report",
           "record_notification", "pending_notifications", "sign", "verify_signature", "add_addendum",
           "expect_version", "critical_label", "audit_log", "register_adapter", "list_adapters",
           "select_adapter", "active_adapter", "feedback_items", "clear_for_export"]


def test_the_store_path_exports_its_names() -> None:
    store = importlib.import_module("echogpt.review.store")
    assert sorted(store.__all__) == sorted(EXPORTS)
    assert [n for n in EXPORTS if not hasattr(store, n)] == []


def test_store_answers_every_method() -> None:
    from echogpt.review.store import Store

    assert [m for m in METHODS if not callable(getattr(Store, m, None))] == []


def test_no_method_is_defined_twice() -> None:
    from echogpt.review.store import Store

    seen: dict[str, str] = {}
    twice = []
    for part in Store.__mro__[1:]:
        if part in (Database, object):
            continue
        for name, value in vars(part).items():
            if callable(value) and not name.startswith("__"):
                if name in seen:
                    twice.append(f"{name}: {seen[name]} and {part.__name__}")
                seen[name] = part.__name__
    assert twice == []
