"""What the copilot's pages call: cached resources (the store and the model generator) and one
thin function per page action, each a call into the library (store, review, registry, checker).

Pages never open the database or load a model themselves; every transition and role check
happens in ``echogpt.store`` / ``echogpt.review``.

    db = services.store(); view = services.open_study(user, "S1")
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable, Iterator
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
    from echogpt.store import Store

    return Store(url)


def store() -> Any:
    """The process-wide store for the configured database (migrated on first use)."""
    return _store(Settings().database_url)


@st.cache_resource(show_spinner="Loading the model (first time only)…", max_entries=2)
def _generator(base_model: str | None, adapter: str | None) -> Any:
    from echogpt.generate import load_generator

    return load_generator(base_model, adapter)


@dataclass(frozen=True)
class ModelChoice:
    """Which base model and adapter drafts come from, and how the report names the adapter."""

    base_model: str | None
    adapter_path: str | None
    adapter_label: str | None


def model_choice(account: Any) -> ModelChoice:
    """The active adapter version (admin's choice), or the configured base model alone."""
    from echogpt.registry import active_adapter

    active = active_adapter(store(), account)
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
        from echogpt.hallucination import check
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
             "ModelError")
    return text if type(exc).__name__ in known else f"{type(exc).__name__}: {text}"


# ---------------------------------------------------------------- accounts


def authenticate(name: str, password: str) -> Any | None:
    """The account for name and password, or None when they do not match."""
    from echogpt.accounts import AuthenticationError, authenticate

    try:
        return authenticate(store(), name, password)
    except AuthenticationError:
        return None


def user_rows(account: Any) -> list[dict[str, Any]]:
    """Active accounts for the admin table."""
    from echogpt.accounts import list_users

    return [{"name": u.name, "role": u.role.value} for u in list_users(store(), account)]


def add_user(account: Any, name: str, role: str, password: str) -> None:
    """Create an account (admins only; passwords of at least 8 characters)."""
    from echogpt.accounts import add_user

    if len(password) < 8:
        raise ValueError("the password needs at least 8 characters")
    add_user(store(), account, name, role, password=password)


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


def import_upload(account: Any, name: str, data: bytes) -> ImportOutcome:
    """Validate an uploaded study file and add its valid studies to the worklist.

    Args:
        account: The acting user (cardiologist or admin).
        name: The file name (its suffix picks the format).
        data: The file's bytes.

    Returns:
        Counts and the rejected rows (row number and reason, plus JSONL for download).
    """
    from echogpt.data import load_studies_bytes
    from echogpt.files import FileError

    try:
        result = load_studies_bytes(data, name)
    except FileError as exc:
        return ImportOutcome(0, 0, [{"row": None, "reason": str(exc)}],
                             json.dumps({"file": name, "error": str(exc)}) + "\n")
    added = store().import_studies(account, result.studies) if result.studies else []
    rows = [{"row": r.row, "study_id": r.study_id, "reason": r.reason()} for r in result.rejects]
    jsonl = "".join(r.model_dump_json() + "\n" for r in result.rejects)
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


# ---------------------------------------------------------------- the draft page


@dataclass
class StudyView:
    """Everything the draft page shows for one study."""

    study: Study
    status: str
    draft: Any | None  # echogpt.db.DraftView
    report: Any | None  # echogpt.review.ReportView
    report_text: str | None
    unnotified: list[str]
    flags: list[str]
    rejection: str | None


def open_study(account: Any, study_id: str) -> StudyView:
    """Load the study, its working draft, report and pending notifications (reads are audited)."""
    from echogpt import review

    db = store()
    study = db.get_study(account, study_id)
    status = next(i.status.value for i in db.list_worklist(account) if i.study_id == study_id)
    draft = db.current_draft(account, study_id) if status in ("drafted", "approved", "signed") else None
    report = db.get_report(account, study_id) if status in ("approved", "signed") else None
    rejection = db.rejection_reason(account, study_id) if status == "rejected" else None
    return StudyView(study=study, status=status, draft=draft, report=report,
                     report_text=review.final_report_text(report) if report else None,
                     unnotified=db.pending_notifications(account, study_id),
                     flags=review.approval_flags(draft.check) if draft else [],
                     rejection=rejection)


def study_sections(study: Study) -> list[tuple[str, list[str]]]:
    """The study as titled blocks of markdown lines: measurements, findings, prior, prose."""
    from echogpt.prompts import render_findings, render_measurements

    sections = []
    if study.indication:
        sections.append(("Indication", [study.indication]))
    if study.measurements is not None:
        sections.append(("Measurements", render_measurements(study.measurements)))
    if study.findings is not None:
        sections.append(("Structured findings", render_findings(study.findings)))
    if study.prior is not None and study.prior.impression:
        sections.append(("Prior impression", [study.prior.impression]))
    sections.append(("Findings", [study.findings_text]))
    return [(title, lines) for title, lines in sections if lines]


def stream_draft(account: Any, study: Study) -> Iterator[str]:
    """The draft impression, piece by piece, from the cached generator."""
    return generator(account).stream(study)


def save_generated(account: Any, study: Study, text: str, replaces: Any | None = None) -> None:
    """Check a generated draft and store it with the model, adapter and prompt identity.

    Args:
        account: A cardiologist.
        study: The study drafted.
        text: The generated impression.
        replaces: The draft being regenerated (its version guards against lost updates).
    """
    from echogpt.prompts import build_messages, prompt_hash

    gen = generator(account)
    choice = model_choice(account)
    if not text.strip():
        raise ValueError("the model returned an empty draft; regenerate or write the impression")
    store().save_draft(account, study.study_id, text.strip(), gen.bundle.base.label,
                       choice.adapter_label, prompt_hash(build_messages(study, gen.prompt)),
                       run_check(text.strip(), study),
                       expected_version=replaces.version if replaces is not None else None)


@dataclass(frozen=True)
class EditOutcome:
    """A save of an edit: the new version, or why not (with the other reviewer's text)."""

    version: int | None = None
    error: str | None = None
    other_version: int | None = None
    other_text: str | None = None


def save_edit(account: Any, draft_id: int, expected_version: int, text: str) -> EditOutcome:
    """Save an edit in place with the check re-run on the new text.

    Args:
        account: A cardiologist.
        draft_id: The draft edited.
        expected_version: The version the edit started from (lost-update guard).
        text: The edited impression.

    Returns:
        The new version, or the refusal; on a conflict also the text another reviewer saved.
    """
    from echogpt.db import ConflictError

    try:
        saved = store().edit_draft(account, draft_id, text, expected_version, run_check)
    except ConflictError as exc:
        return EditOutcome(error=str(exc), other_version=exc.current_version,
                           other_text=exc.current_text)
    except Exception as exc:  # noqa: BLE001 - one line on the page
        return EditOutcome(error=describe(exc))
    return EditOutcome(version=saved.version)


def approve(account: Any, draft: Any, confirmed: bool) -> None:
    """Approve the draft's current text (``confirmed`` acknowledges its flags)."""
    store().approve(account, draft.id, draft.version, confirm=confirmed)


def reject(account: Any, draft: Any, reason: str) -> None:
    """Reject the draft with a reason."""
    store().reject(account, draft.id, reason)


def notify(account: Any, study_id: str, finding: str, whom: str, at: datetime) -> None:
    """Record who was told of a critical finding, and when (local time of the browser = UTC)."""
    store().record_notification(account, study_id, finding, whom, at)


def sign(account: Any, report: Any) -> None:
    """Sign and lock the approved report."""
    store().sign(account, report.id)


def add_addendum(account: Any, report: Any, text: str) -> None:
    """Append an addendum to a signed report."""
    store().add_addendum(account, report.id, text)


def audit_rows(account: Any, study_id: str) -> list[dict[str, Any]]:
    """The study's audit trail for display (who, when, what, edit distance, detail)."""
    return [{"at": a.at.strftime("%Y-%m-%d %H:%M:%S"), "user": a.user, "action": a.action,
             "edit_distance": a.edit_distance, "detail": a.detail}
            for a in store().audit_log(account, study_id)]


# ---------------------------------------------------------------- reports and admin


def signed_reports(account: Any) -> list[Any]:
    """Signed reports (newest first) with their issued text: (study_id, signed_by, at, text)."""
    from echogpt import review

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
    from echogpt.registry import list_adapters

    return [{"id": a.id, "name": a.name, "method": a.method, "base_model": a.base_model,
             "parent": a.parent, "active": a.active, "created": a.created_at.strftime("%Y-%m-%d")}
            for a in list_adapters(store(), account)]


def activate_adapter(account: Any, name: str) -> None:
    """Make an adapter version the one new drafts use (admins only)."""
    from echogpt.registry import select_adapter

    select_adapter(store(), account, name)


def export_feedback(account: Any) -> dict[str, Any] | str:
    """Export feedback under ECHOGPT_HOME/feedback/<timestamp>; counts, or a one-line error."""
    from echogpt.feedback import export_feedback

    out = Settings().home / "feedback" / datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        report = export_feedback(store(), account, out)
    except Exception as exc:  # noqa: BLE001 - one line on the page
        return describe(exc)
    return {"out": str(out), "SFT records": report.sft_records,
            "preference pairs": report.preference_pairs, "held back": len(report.held_back)}
