"""The copilot's one door to its database: accounts and log-in, studies, the worklist, drafts and
their review, reports, signatures, addenda, notifications, the audit log, adapter versions and
the records the feedback export reads. Every transaction on these tables is opened here.

SQLite under ECHOGPT_HOME by default (WAL, foreign keys, busy timeout), PostgreSQL when
ECHOGPT_DATABASE_URL is ``postgresql+psycopg://...``. Every method takes the acting user, checks
the role (``PermissionDenied``), runs as one transaction and writes the audit log. Saves use
optimistic locking: a stale ``expected_version`` raises ``ConflictError`` with the other text.
Each noun's methods live in its own module of this folder (``accounts``, ``studies``, ``drafts``,
``reports``, ``notifications``, ``adapters``, ``records``); ``Store`` joins them.

    db = Store()                                   # opens and migrates the configured database
    user = db.authenticate("dr-lee", password)     # or db.cli_user() on the command line
    db.create_study(user, study); d = db.save_draft(user, "S1", text, model, None, h, check)
    d = db.edit_draft(user, d.id, new_text, d.version, check); db.approve(user, d.id, d.version)
"""

from __future__ import annotations

from echogpt.review.accounts import AuthenticationError
from echogpt.review.database import (
    AdapterVersion,
    AuditView,
    ConflictError,
    DraftView,
    FeedbackItem,
    NotFound,
    WorklistItem,
    upgrade_db,
)
from echogpt.review.permissions import PermissionDenied
from echogpt.review.store.accounts import Accounts
from echogpt.review.store.adapters import Adapters
from echogpt.review.store.drafts import Drafts
from echogpt.review.store.notifications import Notifications
from echogpt.review.store.records import Records
from echogpt.review.store.reports import Reports
from echogpt.review.store.studies import Studies
from echogpt.review.workflow import ConfirmationRequired, NotificationRequired, ReportView, Status

__all__ = ["AdapterVersion", "AuditView", "AuthenticationError", "ConfirmationRequired",
           "ConflictError", "DraftView", "FeedbackItem", "NotFound", "NotificationRequired",
           "PermissionDenied", "ReportView", "Status", "Store", "WorklistItem", "upgrade_db"]


class Store(Accounts, Studies, Drafts, Reports, Notifications, Adapters, Records):
    """Accounts, studies and their review, adapter versions; one transaction per method call.

    Errors: ``PermissionDenied`` (role), ``NotFound``, ``ConflictError`` (stale version),
    ``review.InvalidTransition`` (wrong status), ``ConfirmationRequired`` (flagged approval),
    ``NotificationRequired`` (critical finding without a notification record),
    ``AuthenticationError`` (log-in), ``ValueError``.
    """
