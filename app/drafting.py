"""What the draft page calls: the study with its draft, report and pending notifications in one
view, and one function per review transition (generate, edit, approve, reject, notify, sign,
addendum), each a call into ``echogpt.review.store`` with the checker run on every new text.

    view = drafting.open_study(user, "S1")
    out = drafting.attempt(drafting.approve, user, view.draft.id, view.draft.version, False)

Every transition names the version the user was shown; a stale one is refused with the text the
study holds now (``Outcome.other_text``), as a conflicting edit is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.services import describe, generator, log_failure, model_choice, run_check, store
from echogpt.schemas import Study


@dataclass
class StudyView:
    """Everything the draft page shows for one study, and which actions its buttons offer."""

    study: Study
    status: str
    version: int  # the study's version: what report actions (notify, sign, addendum) act on
    actions: list[str]  # echogpt.review.workflow.allowed_actions: the buttons to show
    draft: Any | None  # echogpt.review.database.DraftView
    report: Any | None  # echogpt.review.workflow.ReportView
    report_text: str | None
    unnotified: list[str]
    flags: list[str]
    rejection: str | None


def open_study(account: Any, study_id: str) -> StudyView:
    """Load one study's worklist entry, record, working draft, report and pending notifications
    (reads are audited), and the actions the workflow allows this user now."""
    from echogpt.review import workflow as review

    db = store()
    item = db.worklist_item(account, study_id)
    study = db.get_study(account, study_id)
    draft = db.current_draft(account, study_id) if item.draft_id is not None else None
    report = db.get_report(account, study_id) if item.report_id is not None else None
    rejection = db.rejection_reason(account, study_id) if draft is None else None
    return StudyView(study=study, status=item.status.value, version=item.version,
                     actions=[a.value for a in review.allowed_actions(account, item.status)],
                     draft=draft, report=report,
                     report_text=review.final_report_text(report) if report else None,
                     unnotified=db.pending_notifications(account, study_id),
                     flags=review.approval_flags(draft.check) if draft else [],
                     rejection=rejection)


def study_sections(study: Study) -> list[tuple[str, list[str]]]:
    """The study as titled blocks of markdown lines: measurements, findings, prior, prose, and, for an
    imported report, its own plan, what the import could not read (a grey verdict may cite it) and what
    a later part of the report replaced (a preliminary read, a first impression)."""
    from echogpt.model.prompts import render_findings, render_measurements

    sections = []
    if study.indication:
        sections.append(("Indication", [study.indication]))
    if study.measurements is not None:
        sections.append(("Measurements", render_measurements(study.measurements)))
    if study.findings is not None:
        sections.append(("Structured findings", render_findings(study.findings)))
    if study.prior is not None and study.prior.impression:
        sections.append(("Prior impression", [study.prior.impression]))
    sections.append(("Findings", study.findings_text.splitlines()))  # the report's own line breaks
    sections.append(("Recommendations in the report", study.recommendations or []))
    sections.append(("Not read by the import", [n[:1].upper() + n[1:] for n in study.unread or []]))
    sections.append(("Replaced within the report", [n[:1].upper() + n[1:] for n in study.superseded or []]))
    return [(title, lines) for title, lines in sections if lines]


def stream_draft(account: Any, study: Study) -> Iterator[Any]:
    """The guarded draft as it forms, from the cached generator: ``echogpt.model.guard.GuardProgress``
    items, each with the whole text so far (a replaced statement already replaced); the last one
    carries the finished ``GuardedDraft``."""
    from echogpt.model.guard import guarded_stream

    return guarded_stream(generator(account), study)


def save_generated(account: Any, study: Study, draft: Any,
                   replaces: tuple[int, int] | None = None, study_version: int | None = None) -> None:
    """Check a generated draft and store it with the model, adapter and prompt identity, and the
    guard's record (interventions and the unguarded text) when it was drafted guarded.

    Args:
        account: A cardiologist.
        study: The study drafted.
        draft: The impression text, or an ``echogpt.model.guard.GuardedDraft``.
        replaces: (id, version) of the draft shown when Regenerate was clicked (lost-update guard).
        study_version: The study's version shown when Generate was clicked (refused if stale).
    """
    from echogpt.model.prompts import build_messages, prompt_hash

    gen = generator(account)
    choice = model_choice(account)
    text, guard = (draft, None) if isinstance(draft, str) else (draft.text, draft.record())
    if not text.strip():
        raise ValueError("the model returned an empty draft; regenerate or write the impression")
    store().save_draft(account, study.study_id, text.strip(), gen.bundle.base.label,
                       choice.adapter_label, prompt_hash(build_messages(study, gen.prompt)),
                       run_check(text.strip(), study),
                       expected_version=replaces[1] if replaces else None,
                       replaces=replaces[0] if replaces else None, study_version=study_version,
                       guard=guard)


@dataclass(frozen=True)
class Outcome:
    """A transition's outcome: done (``error`` None, ``version`` of an edit), or why not; when
    someone changed the study first, also the text it holds now."""

    version: int | None = None
    error: str | None = None
    other_version: int | None = None
    other_text: str | None = None


def attempt(action: Any, *args: Any) -> Outcome:
    """Run one transition; a stale version comes back with the other reviewer's text."""
    from echogpt.review.database import ConflictError

    try:
        action(*args)
    except ConflictError as exc:
        return Outcome(error=str(exc), other_version=exc.current_version, other_text=exc.current_text)
    except Exception as exc:  # noqa: BLE001 - one line on the page
        return Outcome(error=describe(exc))
    return Outcome()


def save_edit(account: Any, draft_id: int, expected_version: int, text: str) -> Outcome:
    """Save an edit in place with the check re-run on the new text.

    Args:
        account: A cardiologist.
        draft_id: The draft edited.
        expected_version: The version the edit started from (lost-update guard).
        text: The edited impression.

    Returns:
        The new version, or the refusal; on a conflict also the text another reviewer saved.
    """
    saved: list[Any] = []
    out = attempt(lambda: saved.append(store().edit_draft(account, draft_id, text, expected_version,
                                                          run_check)))
    return Outcome(version=saved[0].version) if saved else out


def keep_edit(account: Any, draft_id: int, version: int, base_text: str, text: str) -> None:
    """Keep the edit box's unsaved text on the server (so a reload does not lose it), or forget
    it when the box is back to the draft's text; a failure only logs (the page goes on).

    Args:
        account: A cardiologist.
        draft_id: The draft the text was typed on.
        version: The draft version the edit started from.
        base_text: That version's text.
        text: What the edit box holds now.
    """
    from echogpt.review import edits

    try:
        if text == base_text:
            edits.forget(store(), account, draft_id)
        else:
            edits.keep(store(), account, draft_id, version, text)
    except Exception as exc:  # noqa: BLE001 - keeping is a convenience, never a page error
        log_failure("keeping the edit", exc)


def kept_edit(account: Any, study_id: str) -> Any | None:
    """The user's unsaved edit of the study kept across a reload (``edits.KeptEdit``), or None."""
    from echogpt.review import edits

    try:
        return edits.take(store(), account, study_id)
    except Exception as exc:  # noqa: BLE001 - e.g. a reader's role: nothing to restore
        log_failure("restoring the edit", exc)
        return None


def approve(account: Any, draft_id: int, version: int, confirmed: bool) -> None:
    """Approve the draft as shown at ``version`` (``confirmed`` acknowledges its flags)."""
    store().approve(account, draft_id, version, confirm=confirmed)


def reject(account: Any, draft_id: int, version: int, reason: str) -> None:
    """Reject the draft as shown at ``version``, with a reason."""
    store().reject(account, draft_id, reason, version)


def notify(account: Any, study_id: str, version: int, finding: str, whom: str, at: datetime) -> None:
    """Record who was told of a critical finding, and when (a naive time is read as UTC)."""
    store().record_notification(account, study_id, finding, whom, at, version)


def sign(account: Any, report_id: int, version: int) -> None:
    """Sign and lock the report as shown at study ``version``."""
    store().sign(account, report_id, version)


def add_addendum(account: Any, report_id: int, version: int, text: str) -> None:
    """Append an addendum to a signed report, as shown at study ``version``."""
    store().add_addendum(account, report_id, text, version)


def audit_rows(account: Any, study_id: str) -> list[dict[str, Any]]:
    """The study's audit trail for display (who, when, what, edit distance, detail)."""
    return [{"at": a.at.strftime("%Y-%m-%d %H:%M:%S"), "user": a.user, "action": a.action,
             "edit_distance": a.edit_distance, "detail": a.detail}
            for a in store().audit_log(account, study_id)]
