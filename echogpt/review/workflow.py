"""The review workflow as a pure state machine: statuses, allowed transitions (with the role each
needs), when approval needs an explicit confirmation, which findings need a notification record,
audit entries for edits (diff, word edit distance) and the text of the final report.

Nothing here touches the database; ``echogpt.review.store`` applies these rules inside transactions.

    status = review.transition(user, Status.drafted, Action.approve)   # -> Status.approved
"""

from __future__ import annotations

import difflib
import hashlib
import json
from datetime import datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from echogpt.review.permissions import Actor, may, require
from echogpt.schemas import CheckResult, Fact


class Status(StrEnum):
    pending = "pending"
    drafted = "drafted"
    approved = "approved"
    signed = "signed"
    rejected = "rejected"


class Action(StrEnum):
    draft = "draft"  # first model draft of a pending study
    edit = "edit"  # edit the working text in place
    regenerate = "regenerate"  # replace the draft by a new model draft
    approve = "approve"
    reject = "reject"
    sign = "sign"
    addendum = "addendum"


TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.pending, Action.draft): Status.drafted,
    (Status.rejected, Action.draft): Status.drafted,
    (Status.drafted, Action.edit): Status.drafted,
    (Status.drafted, Action.regenerate): Status.drafted,
    (Status.rejected, Action.regenerate): Status.drafted,
    (Status.drafted, Action.reject): Status.rejected,
    (Status.drafted, Action.approve): Status.approved,
    (Status.approved, Action.sign): Status.signed,
    # A signed report is read-only: later changes are addenda, which keep it signed.
    (Status.signed, Action.addendum): Status.signed,
}
"""(current status, action) -> next status; any other pair is refused."""

PERMISSION: dict[Action, str] = {
    Action.draft: "draft.write", Action.edit: "draft.write", Action.regenerate: "draft.write",
    Action.approve: "draft.approve", Action.reject: "draft.reject", Action.sign: "report.sign",
    Action.addendum: "report.addendum",
}


class InvalidTransition(Exception):
    """The action is not allowed in the study's current status."""


class ConfirmationRequired(Exception):
    """Approval of a flagged draft needs ``confirm=True``; ``reasons`` lists the flags."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("approval needs explicit confirmation: " + "; ".join(reasons))


class NotificationRequired(Exception):
    """A critical finding has no notification record yet; ``findings`` lists them."""

    def __init__(self, findings: list[str]):
        self.findings = findings
        super().__init__("record who was notified of the critical finding(s) before signing: "
                         + ", ".join(findings))


def allowed_actions(user: Actor, status: Status | str) -> list[Action]:
    """The actions ``user`` may take on a study in ``status``: the buttons a page shows."""
    status = Status(status)
    return [action for (state, action) in TRANSITIONS
            if state == status and may(user.role, PERMISSION[action])]


def transition(user: Actor, status: Status | str, action: Action | str) -> Status:
    """The status after ``action``; checks the role first, then the transition.

    Args:
        user: The acting user (``PermissionDenied`` when the role may not take the action).
        status: The study's current status.
        action: What the user wants to do.

    Returns:
        The next status (``InvalidTransition`` when the action is not allowed now).
    """
    status, action = Status(status), Action(action)
    require(user, PERMISSION[action])
    nxt = TRANSITIONS.get((status, action))
    if nxt is None:
        hint = " (signed reports are read-only; add an addendum)" if status == Status.signed else ""
        raise InvalidTransition(f"cannot {action.value} a study that is {status.value}{hint}")
    return nxt


def approval_flags(check: CheckResult | None) -> list[str]:
    """Why approving this draft needs explicit confirmation (empty: no confirmation needed).

    Contradicted and unsupported statements, and critical and high-severity omissions (severe
    aortic stenosis left out is "high"), need it; statements the checker could not judge
    (``not_checked``) and moderate omissions are shown but do not ask.
    """
    if check is None:
        return ["the draft has not been checked"]
    flags = [f"{s.verdict}: {s.text}" for s in check.statements
             if s.verdict in ("contradicted", "unsupported")]
    flags += [f"omitted {o.severity} finding: {o.finding}" for o in check.omissions
              if o.severity in ("critical", "high")]
    return flags


class CriticalRule(BaseModel):
    """The part of a ``resources/critical_findings.json`` entry the sign-off rule uses.

    The checker owns the file's full schema and validates it strictly
    (``checker.omissions.CriticalRules``, unknown keys refused); this view reads only what deciding
    "does this report state a critical finding" needs, so it keeps working as the file grows.
    """

    model_config = ConfigDict(extra="ignore")
    label: str = Field(description="May contain {location}")
    concept: str
    grades: list[str] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)
    severity: Literal["critical", "high", "moderate"] = "critical"


class CriticalRules(BaseModel):
    model_config = ConfigDict(extra="ignore")
    rules: list[CriticalRule]


@cache
def critical_rules() -> CriticalRules:
    """The critical-finding rules (``resources/critical_findings.json``)."""
    text = resources.files("echogpt.resources").joinpath("critical_findings.json").read_text("utf-8")
    return CriticalRules.model_validate(json.loads(text))


def _matches(rule: CriticalRule, fact: Fact) -> bool:
    # Direct matches only: the checker's ``stated_by`` alternatives say what counts as mentioning
    # a finding already known from the study, not that the finding is present.
    if fact.polarity != "present":
        return False
    if fact.concept != rule.concept or (rule.grades and fact.grade not in rule.grades):
        return False
    return not rule.locations or (fact.location or "heart") in rule.locations


def critical_findings(check: CheckResult | None) -> list[str]:
    """Critical findings a report asserts or omits, which need a notification record.

    Only rules of severity ``critical`` count (those the lab must communicate); a statement such
    as "Apical LV thrombus." gives ["LV thrombus"].

    Args:
        check: The check result of the text being approved.

    Returns:
        Labels, without duplicates, in rule order, then critical omissions.
    """
    if check is None:
        return []
    labels: list[str] = []
    for rule in critical_rules().rules:
        if rule.severity != "critical":
            continue
        for statement in check.statements:
            for fact in statement.facts:
                if _matches(rule, fact):
                    labels.append(rule.label.replace("{location}", fact.location or "valve"))
    labels += [o.finding for o in check.omissions if o.severity == "critical"]
    return list(dict.fromkeys(labels))


# ---------------------------------------------------------------- audit entries of edits


def word_edit_distance(before: str, after: str) -> int:
    """Levenshtein distance in words (insertions, deletions and substitutions of whole words)."""
    a, b = before.split(), after.split()
    prev = list(range(len(b) + 1))
    for i, wa in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, wb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (wa != wb))
        prev = cur
    return prev[-1]


def text_diff(before: str, after: str) -> str:
    """A unified line diff of two texts (empty when equal)."""
    return "\n".join(difflib.unified_diff(before.splitlines(), after.splitlines(), "before", "after",
                                          lineterm=""))


class EditEntry(BaseModel):
    """What the audit log records for a change of text."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    before: str
    after: str
    diff: str
    edit_distance: int


def edit_entry(before: str, after: str) -> EditEntry:
    """The audit record of replacing ``before`` by ``after``."""
    return EditEntry(before=before, after=after, diff=text_diff(before, after),
                     edit_distance=word_edit_distance(before, after))


# ---------------------------------------------------------------- the final report


class NotificationView(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int
    finding: str
    notified: str
    at: datetime
    recorded_by: str


class AddendumView(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int
    text: str
    author: str
    at: datetime


class ReportView(BaseModel):
    """An approved (and maybe signed) report with what the final text must state."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int
    study_id: str
    status: Status
    version: int = Field(default=1, description="The study's version: what sign, addendum and "
                         "notification must name, so that they act on the report as shown")
    final_text: str
    model: str
    adapter: str | None
    edited: bool = Field(description="The approved text differs from the model's draft")
    approved_by: str
    approved_at: datetime
    signed_by: str | None = None
    signed_at: datetime | None = None
    addenda: list[AddendumView] = Field(default_factory=list)
    notifications: list[NotificationView] = Field(default_factory=list)


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC")


def notification_line(n: NotificationView) -> str:
    """How the report states one critical-result communication."""
    return f"Critical finding ({n.finding}) communicated to {n.notified} at {_ts(n.at)} by {n.recorded_by}."


SIGNATURE_VERSION = 2
"""What a new signature's hash covers (``signature_digest``); stored with each signature."""


def signature_digest(report: ReportView, version: int = SIGNATURE_VERSION) -> str:
    """The SHA-256 a signature stores, of what the signed report issues.

    Version 2 covers everything the final report shows at signing (impression, notifications,
    AI-assistance statement, approver, signer and the exact times); addenda come later and are
    not covered. Version 1, of signatures made before it, covered the impression text alone.

    Args:
        report: The signed report (its addenda are ignored).
        version: The hash version stored with the signature.

    Returns:
        The hex digest.
    """
    if version == 1:
        return hashlib.sha256(report.final_text.encode()).hexdigest()
    if version != 2:
        raise ValueError(f"unknown signature hash version {version}")
    issued = report.model_copy(update={"addenda": []})
    payload = {"issued": final_report_text(issued), "final_text": report.final_text,
               "signed_by": report.signed_by,
               "signed_at": report.signed_at.isoformat() if report.signed_at else None,
               "approved_at": report.approved_at.isoformat(),
               "notifications": [n.model_dump(mode="json", exclude={"id"}) for n in report.notifications]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def final_report_text(report: ReportView) -> str:
    """The impression as issued: text, critical-result communication, AI-assistance statement,
    signature (or a preliminary notice) and addenda.

    Args:
        report: The report, as ``store.get_report`` returns it.

    Returns:
        Plain text ready to paste into the reporting system.
    """
    lines = ["IMPRESSION", report.final_text.strip(), ""]
    lines += [notification_line(n) for n in report.notifications]
    adapter = report.adapter or "none (base model)"
    lines.append(f"This impression was drafted with AI assistance (EchoGPT; model {report.model}, "
                 f"adapter {adapter}) and was {'edited and ' if report.edited else ''}approved by "
                 f"{report.approved_by} on {_ts(report.approved_at)}.")
    if report.signed_by and report.signed_at:
        lines.append(f"Electronically signed by {report.signed_by} on {_ts(report.signed_at)}.")
    else:
        lines.append("PRELIMINARY: not yet signed.")
    for a in report.addenda:
        lines += ["", f"ADDENDUM ({_ts(a.at)}, {a.author}):", a.text.strip()]
    return "\n".join(lines)
