"""What the copilot's pages call: cached resources (the store and the model generator) and one
thin function per page action, each a call into the library (store, review, registry, checker).

Pages never open the database or load a model themselves; every transition and permission check
happens in ``echogpt.review.store`` / ``echogpt.review.workflow``, and what a page shows follows
the one permission table (``may``). The draft page's actions are in ``app.drafting``.

    db = services.store(); rows = services.worklist(user, "pending")
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import streamlit as st

from echogpt.config import Settings
from echogpt.schemas import CheckResult, Study

log = logging.getLogger(__name__)  # row ids and error types only: never study text or patient ids


# ---------------------------------------------------------------- cached resources


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Any:
    from echogpt.review.store import Store

    return Store(url)


def store() -> Any:
    """The process-wide store for the configured database (migrated on first use)."""
    return _store(Settings().database_url)


@st.cache_resource(show_spinner="Loading the model (first time only)…", max_entries=2)
def _generator(base_model: str | None, adapter: str | None) -> Any:
    from echogpt.model.generator import load_generator

    return load_generator(base_model, adapter, max_new_tokens=Settings().max_new_tokens)


@dataclass(frozen=True)
class ModelChoice:
    """Which base model and adapter drafts come from, and how the report names the adapter."""

    base_model: str | None
    adapter_path: str | None
    adapter_label: str | None


def model_choice(account: Any) -> ModelChoice:
    """The active adapter version (admin's choice), or the configured base model alone."""
    active = store().active_adapter(account)
    if active is None:
        return ModelChoice(Settings().base_model, None, None)
    # The adapter knows its base; ECHOGPT_BASE_MODEL only names a base when no adapter is active.
    return ModelChoice(None, active.path, f"{active.name} ({active.method})")


def generator(account: Any) -> Any:
    """The cached generator for the current model choice (loaded once per process)."""
    choice = model_choice(account)
    return _generator(choice.base_model, choice.adapter_path)


def run_check(text: str, study: Study) -> CheckResult | None:
    """The checker's verdicts on ``text``; None when the checker is not installed."""
    try:
        from echogpt.checker.check import check
    except ImportError:
        log.warning("checker unavailable; draft stored unchecked")
        return None
    return check(text, study)


# ---------------------------------------------------------------- errors


def log_failure(where: str, exc: BaseException) -> None:
    """Log an unexpected failure by type and code location only (messages may hold study text)."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("%s failed: %s\n%s", where, type(exc).__name__, frames)


def attempt(action: Callable[..., Any], *args: Any) -> str | None:
    """Run one page action; the refusal as one line (None when it went through).

    Refusals (role, status, conflict, confirmation, notification, bad input) come from the
    library as typed exceptions; anything unexpected is logged by type and shown in one line.
    """
    try:
        action(*args)
    except Exception as exc:  # noqa: BLE001 - the page shows one line, never a traceback
        log.info("action %s refused: %s", getattr(action, "__name__", "?"), type(exc).__name__)
        return describe(exc)
    return None


def describe(exc: Exception) -> str:
    """One line for the page: the library's message for its typed refusals, else type: message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    known = ("PermissionDenied", "NotFound", "ConflictError", "InvalidTransition", "ValueError",
             "ConfirmationRequired", "NotificationRequired", "AuthenticationError", "FileError",
             "ModelError", "StaleComparison", "ReasonRequired")
    return text if type(exc).__name__ in known else f"{type(exc).__name__}: {text}"


# ---------------------------------------------------------------- accounts and permissions


def may(account: Any, action: str) -> bool:
    """True when the account's role may take ``action`` (``echogpt.review.permissions``): what a
    page shows; the library refuses the action anyway when it may not."""
    from echogpt.review.permissions import may

    return account is not None and may(account.role, action)


def authenticate(name: str, password: str) -> Any | None:
    """The account for name and password, or None when they do not match (``SignInThrottled``,
    saying how long to wait, after too many failed sign-ins)."""
    from echogpt.review.accounts import AuthenticationError
    from echogpt.review.throttle import SignInThrottled

    try:
        return store().authenticate(name, password, client=st.context.ip_address)
    except SignInThrottled:
        raise
    except AuthenticationError:
        return None


def user_rows(account: Any) -> list[dict[str, Any]]:
    """Active accounts for the admin table."""
    return [{"name": u.name, "role": u.role.value} for u in store().list_users(account)]


def rater_names(account: Any) -> list[str]:
    """Active accounts that may rate reports in reader studies (admins only)."""
    from echogpt.review.permissions import may

    return [u.name for u in store().list_users(account) if may(u.role, "reader.rate")]


def add_user(account: Any, name: str, role: str, password: str) -> None:
    """Create an account (admins only; passwords of at least 8 characters)."""
    if len(password) < 8:
        raise ValueError("the password needs at least 8 characters")
    store().add_user(account, name, role, password=password)


def change_password(account: Any, current: str, new: str, repeated: str) -> None:
    """Change the signed-in user's own password; the current one must be given."""
    if new != repeated:
        raise ValueError("the new passwords differ")
    store().set_password(account, account.name, new, current_password=current)


# ---------------------------------------------------------------- worklist and import


def worklist(account: Any, status: str | None) -> list[dict[str, Any]]:
    """Worklist rows (study, patient, date, status, last change), newest change first."""
    return [{"study_id": i.study_id, "patient_id": i.patient_id, "study_date": i.study_date,
             "status": i.status.value, "updated": i.updated_at.strftime("%Y-%m-%d %H:%M")}
            for i in store().list_worklist(account, status)]


@dataclass
class ImportOutcome:
    """What an uploaded file gave: studies added, already present, and every rejected row."""

    added: int
    skipped: int
    rejects: list[dict[str, Any]] = field(default_factory=list)
    rejects_jsonl: str = ""
    error: str | None = None  # the whole file could not be read


def import_upload(account: Any, name: str, data: bytes) -> ImportOutcome:
    """Validate an uploaded study file and add its valid studies to the worklist.

    Args:
        account: The acting user (cardiologist or admin).
        name: The file name (its suffix picks the format).
        data: The file's bytes.

    Returns:
        Counts and the rejected rows (row number and reason, plus JSONL for download).
    """
    from echogpt.data.load import load_studies_bytes
    from echogpt.files import FileError

    if name.lower().endswith(".dcm"):
        return _import_sr_upload(account, name, data)
    try:
        result = load_studies_bytes(data, name)
    except FileError as exc:
        return ImportOutcome(0, 0, error=str(exc))
    added = store().import_studies(account, result.studies) if result.studies else []
    rows = [{"row": r.row, "study_id": r.study_id, "reason": r.reason()} for r in result.rejects]
    jsonl = "".join(r.model_dump_json() + "\n" for r in result.rejects)
    return ImportOutcome(len(added), len(result.studies) - len(added), rows, jsonl)


def _import_sr_upload(account: Any, name: str, data: bytes) -> ImportOutcome:
    """A DICOM echo SR upload: its study goes to the worklist, each item not taken as it came is a row."""
    from echogpt.data.dicom_sr import import_sr_bytes
    from echogpt.files import FileError

    try:
        result = import_sr_bytes(name, data)
    except FileError as exc:
        return ImportOutcome(0, 0, error=str(exc))
    unreadable = [i.message for i in result.issues if i.kind == "unreadable"]
    if unreadable:
        return ImportOutcome(0, 0, error=f"{name}: {unreadable[0]}")
    added = store().import_studies(account, result.studies) if result.studies else []
    rows = [{"row": i.item or "-", "study_id": i.study_id,
             "reason": f"{i.kind.replace('_', ' ')}: {i.message}"} for i in result.issues]
    jsonl = "".join(i.model_dump_json(exclude_none=True) + "\n" for i in result.issues)
    return ImportOutcome(len(added), len(result.studies) - len(added), rows, jsonl)


def add_study_from_form(account: Any, fields: dict[str, str]) -> str | None:
    """Validate a study typed into the form and add it; the one-line error, or None."""
    from pydantic import ValidationError

    record = {k: v.strip() for k, v in fields.items() if v and v.strip()}
    if "lvef" in record:
        record["measurements"] = {"lvef": record.pop("lvef")}
    try:
        study = Study.model_validate(record)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "study"
        return f"{where}: {first['msg']}"
    return attempt(store().create_study, account, study)


# ---------------------------------------------------------------- reports and admin


def signed_reports(account: Any) -> list[Any]:
    """Signed reports (newest first) with their issued text: (study_id, signed_by, at, text)."""
    from echogpt.review import workflow as review

    db = store()
    out = []
    for item in db.list_worklist(account, "signed"):
        rep = db.get_report(account, item.study_id)
        if rep is not None:
            out.append(SignedReport(item.study_id, rep.signed_by or "", rep.signed_at or rep.approved_at,
                                    review.final_report_text(rep)))
    return out


@dataclass(frozen=True)
class SignedReport:
    study_id: str
    signed_by: str
    signed_at: datetime
    text: str


def adapter_rows(account: Any) -> list[dict[str, Any]]:
    """Registered adapter versions for the admin table."""
    return [{"id": a.id, "name": a.name, "method": a.method, "base_model": a.base_model,
             "parent": a.parent, "active": a.active, "created": a.created_at.strftime("%Y-%m-%d")}
            for a in store().list_adapters(account)]


def version_comparison(account: Any) -> Any:
    """Every adapter version beside the active one with its gate figures (``review.gate``)."""
    from echogpt.review.gate import comparison

    return comparison(store(), account)


def activate_adapter(account: Any, name: str, seen: str, reason: str | None = None) -> None:
    """Make an adapter version the one new drafts use, as the admin saw it compared (admins only;
    a worse or unjudged version needs ``reason``; audited)."""
    from echogpt.review.gate import activate

    activate(store(), account, name, seen, reason)


def rollback_adapter(account: Any, seen: str) -> Any:
    """Make the previously active version active again (admins only; audited)."""
    from echogpt.review.gate import rollback

    return rollback(store(), account, seen)


def evaluate_adapter(account: Any, name: str) -> int:
    """Start a version's gate evaluation in the background worker; returns its batch job id."""
    from echogpt.batch.worker import start_gate

    return start_gate(store(), account, name)


def monitoring_rows(account: Any) -> list[Any]:
    """Per version and week: drafts approved unedited, edit distance, flags, critical omissions
    caught (``review.monitoring``)."""
    from echogpt.review.monitoring import weekly

    return weekly(store(), account)


def monitoring_csv(account: Any) -> str:
    """The monitoring table as CSV, read from the database when the download is clicked."""
    from echogpt.review.monitoring import to_csv

    return to_csv(monitoring_rows(account))


def monitoring_chart(rows: list[Any], measure: str) -> Any:
    """An Altair line chart of one monitoring measure per version over the weeks (points too, so
    a version seen in a single week still shows)."""
    import altair as alt
    import pandas as pd

    from echogpt.review.monitoring import MEASURES

    data = pd.DataFrame([r.model_dump() for r in rows])
    data["week"] = [f"{w:%d %b %Y}" for w in data["week"]]  # one tick per week, oldest first
    share = measure == "approved_unedited"
    return (alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=80))
            .encode(x=alt.X("week:O", title="Week of the review decision (from Monday)", sort=None,
                            axis=alt.Axis(labelAngle=0)),
                    y=alt.Y(f"{measure}:Q", title=MEASURES[measure],
                            scale=alt.Scale(domain=[0, 1]) if share else alt.Scale(zero=True)),
                    color=alt.Color("version:N", title="Version", scale=alt.Scale(scheme="category10")),
                    tooltip=["version", "week", "drafts", measure])
            .properties(height=320))


def export_feedback(account: Any) -> Any:
    """Export feedback under ECHOGPT_HOME/feedback/<timestamp>: the ``feedback.ExportReport``
    (counts and held-back records), or a one-line error."""
    from echogpt.review.feedback import export_feedback

    out = Settings().home / "feedback" / datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        return export_feedback(store(), account, out)
    except Exception as exc:  # noqa: BLE001 - one line on the page
        return describe(exc)


def held_back_texts(account: Any, report_id: int) -> dict[str, str]:
    """The free-text fields of a held-back record that hold likely identifiers, for review."""
    from echogpt.review.feedback import identifier_fields

    return identifier_fields(store(), account, report_id)


def clear_for_export(account: Any, report_id: int) -> None:
    """Release a reviewed record for the next export (admins only; audited)."""
    store().clear_for_export(account, report_id)
