"""The copilot's one door to its database: accounts and log-in, studies, the worklist, drafts and
their review, reports, signatures, addenda, notifications, the audit log, adapter versions and
the records the feedback export reads. Every transaction on these tables is opened here.

SQLite under ECHOGPT_HOME by default (WAL, foreign keys, busy timeout), PostgreSQL when
ECHOGPT_DATABASE_URL is ``postgresql+psycopg://...``. Every method takes the acting user, checks
the role (``PermissionDenied``), runs as one transaction and writes the audit log. Saves use
optimistic locking: a stale ``expected_version`` raises ``ConflictError`` with the other text.

    db = Store()                                   # opens and migrates the configured database
    user = db.authenticate("dr-lee", password)     # or db.cli_user() on the command line
    db.create_study(user, study); d = db.save_draft(user, "S1", text, model, None, h, check)
    d = db.edit_draft(user, d.id, new_text, d.version, check); db.approve(user, d.id, d.version)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from echogpt.review import accounts, edits, sessions, throttle
from echogpt.review import workflow as review
from echogpt.review.accounts import AuthenticationError, User
from echogpt.review.database import (
    AdapterVersion,
    AuditView,
    Checker,
    ConflictError,
    Database,
    DraftView,
    FeedbackItem,
    NotFound,
    WorklistItem,
    dump_check,
    load_check,
    upgrade_db,
)
from echogpt.review.permissions import PermissionDenied
from echogpt.review.tables import (
    AdapterRow,
    AddendumRow,
    AuditRow,
    ClearanceRow,
    DraftRow,
    NotificationRow,
    ReportRow,
    ReviewRow,
    SignatureRow,
    StudyRow,
    UserRow,
    utcnow,
)
from echogpt.review.workflow import Action, ConfirmationRequired, NotificationRequired, ReportView, Status
from echogpt.schemas import CheckResult, GuardRecord, Study

__all__ = ["AdapterVersion", "AuditView", "AuthenticationError", "ConfirmationRequired",
           "ConflictError", "DraftView", "FeedbackItem", "NotFound", "NotificationRequired",
           "PermissionDenied", "ReportView", "Status", "Store", "WorklistItem", "upgrade_db"]

log = logging.getLogger(__name__)  # internal row ids only: never study ids, patient ids or text


class Store(Database):
    """Accounts, studies and their review, adapter versions; one transaction per method call.

    Errors: ``PermissionDenied`` (role), ``NotFound``, ``ConflictError`` (stale version),
    ``review.InvalidTransition`` (wrong status), ``ConfirmationRequired`` (flagged approval),
    ``NotificationRequired`` (critical finding without a notification record),
    ``AuthenticationError`` (log-in), ``ValueError``.
    """

    # ------------------------------------------------------------ accounts

    def cli_user(self) -> User:
        """The admin account the local command line acts as (created on first use, cannot log in)."""
        with self.transaction() as s:
            row = s.scalars(select(UserRow).where(UserRow.name == accounts.CLI_USER)).one_or_none()
            if row is None:
                row = UserRow(name=accounts.CLI_USER, role="admin", password_hash=None, active=True)
                s.add(row)
                s.flush()
            return accounts.to_user(row)

    def add_user(self, actor: User, name: str, role: str, password: str | None = None) -> User:
        """Create an account (admins only).

        Args:
            actor: The acting admin.
            name: Unique log-in name (1-128 characters, no spaces).
            role: cardiologist | reader | admin.
            password: At least 8 characters; None makes an account that cannot log in yet.

        Returns:
            The new user.
        """
        name, role_ = accounts.new_account(name, role)
        hashed = accounts.hash_password(password) if password is not None else None
        with self.transaction() as s:
            me = self.acting(s, actor, "users.manage")
            if s.scalars(select(UserRow).where(UserRow.name == name)).first() is not None:
                raise ValueError(f"user '{name}' already exists")
            row = UserRow(name=name, role=role_.value, password_hash=hashed, active=True)
            s.add(row)
            s.flush()
            self.audit(s, me, "user.add", entity="user", entity_id=row.id, detail=f"role={role_.value}")
            return accounts.to_user(row)

    def set_password(self, actor: User, name: str, password: str,
                     current_password: str | None = None) -> None:
        """Set a user's password: admins for anyone, everyone for themself.

        Args:
            actor: The acting user.
            name: Whose password changes.
            password: The new password (at least 8 characters).
            current_password: Required when users change their own password from a log-in
                session (``AuthenticationError`` if it is wrong); None for admins and the CLI.
        """
        if name == accounts.CLI_USER:
            raise ValueError(f"'{accounts.CLI_USER}' is the command line's account and cannot log in")
        hashed = accounts.hash_password(password)
        with self.transaction() as s:
            me = self.acting(s, actor)
            if me.name != name:
                self.acting(s, actor, "users.manage")
            row = s.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()
            if row is None:
                raise ValueError(f"no user '{name}'")
            if current_password is not None and not accounts.verify_password(row.password_hash,
                                                                             current_password):
                raise AuthenticationError("the current password is wrong")
            row.password_hash = hashed
            ended = sessions.revoke_all(s, row.id)
            self.audit(s, me, "user.password", entity="user", entity_id=row.id,
                       detail=f"{ended} session(s) ended" if ended else None)

    def list_users(self, actor: User) -> list[User]:
        """All active accounts (admins only)."""
        with self.transaction() as s:
            self.acting(s, actor, "users.manage")
            rows = s.scalars(select(UserRow).where(UserRow.active.is_(True)).order_by(UserRow.name))
            return [accounts.to_user(r) for r in rows]

    def authenticate(self, name: str, password: str, client: str | None = None) -> User:
        """Log in: the user for ``name`` when ``password`` matches, else ``AuthenticationError``.

        Attempts are audited (``review.throttle``), never with the password, and with the name only
        when it names an account. After repeated failures for the account or from ``client`` (its
        address; None when unknown) an attempt is refused unchecked with ``SignInThrottled``.
        """
        with self.transaction() as s:
            row = s.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()
            wait = throttle.admit(s, row.id if row else None, client)
            if not wait:
                ok = accounts.check_login(row, password)
                throttle.record(s, ok, row.id if row else None, row.name if row else None, client)
        if wait:
            raise throttle.SignInThrottled(wait)
        if not ok:
            raise AuthenticationError("unknown user or wrong password")
        return accounts.to_user(row)

    # ------------------------------------------------------------ studies and the worklist

    def create_study(self, user: User, study: Study) -> WorklistItem:
        """Enter one study (status pending); ``ValueError`` if its study_id exists."""
        return self.import_studies(user, [study], skip_existing=False)[0]

    def import_studies(self, user: User, studies: Iterable[Study], *,
                       skip_existing: bool = True) -> list[WorklistItem]:
        """Add studies in one transaction; existing study_ids are skipped (or refused).

        Returns:
            The worklist items of the studies added.
        """
        studies = list(studies)
        with self.transaction() as s:
            me = self.acting(s, user, "study.create")
            ids = [x.study_id for x in studies]
            existing = set(s.scalars(select(StudyRow.study_id).where(StudyRow.study_id.in_(ids))))
            if existing and not skip_existing:
                raise ValueError(f"study '{sorted(existing)[0]}' already exists")
            added, seen = [], set()
            for st in studies:
                if st.study_id in existing or st.study_id in seen:
                    continue
                seen.add(st.study_id)
                row = StudyRow(study_id=st.study_id, patient_id=st.patient_id,
                               study_date=st.study_date.isoformat() if st.study_date else None,
                               study_json=st.model_dump_json(exclude_none=True),
                               status=Status.pending.value, created_by=me.id)
                s.add(row)
                s.flush()
                self.audit(s, me, "study.create", study_id=st.study_id, entity="study", entity_id=row.id)
                added.append(WorklistItem(study_id=row.study_id, patient_id=row.patient_id,
                                          study_date=row.study_date, status=Status.pending,
                                          updated_at=row.updated_at))
            log.info("imported %d studies (%d skipped)", len(added), len(studies) - len(added))
            return added

    def get_study(self, user: User, study_id: str) -> Study:
        """The study record (the read is audited)."""
        with self.transaction() as s:
            me = self.acting(s, user, "study.read")
            row = self.study_row(s, study_id)
            self.audit(s, me, "study.read", study_id=study_id, entity="study", entity_id=row.id)
            return Study.model_validate_json(row.study_json)

    def list_worklist(self, user: User, status: Status | str | None = None) -> list[WorklistItem]:
        """Studies, newest change first, optionally of one status (the read is audited)."""
        with self.transaction() as s:
            me = self.acting(s, user, "study.read")
            q = select(StudyRow).order_by(StudyRow.updated_at.desc(), StudyRow.id.desc())
            if status is not None:
                q = q.where(StudyRow.status == Status(status).value)
            items = [self.worklist_entry(s, row) for row in s.scalars(q)]
            self.audit(s, me, "worklist.read", detail=f"status={status or 'all'} n={len(items)}")
            return items

    def worklist_item(self, user: User, study_id: str) -> WorklistItem:
        """One study's worklist entry: status, working draft and report ids (the read is audited)."""
        with self.transaction() as s:
            me = self.acting(s, user, "study.read")
            item = self.worklist_entry(s, self.study_row(s, study_id))
            self.audit(s, me, "worklist.read", study_id=study_id)
            return item

    # ------------------------------------------------------------ drafts

    def _move_draft(self, s: Session, d: DraftRow, expected_version: int, refusal: str,
                    **values: object) -> None:
        """Move draft ``d`` on from the version the user was shown, setting ``values``; a draft that
        changed since is refused with its current text (``refusal`` names ``{other}`` and ``{version}``).
        """
        res = s.execute(update(DraftRow).where(DraftRow.id == d.id, DraftRow.version == expected_version,
                                               DraftRow.superseded.is_(False))
                        .values(version=DraftRow.version + 1, **values))
        if res.rowcount != 1:
            s.refresh(d)
            other = self.user_name(s, d.updated_by)
            raise ConflictError(refusal.format(other=other, version=d.version), d.version, d.text, other)

    def save_draft(self, user: User, study_id: str, text: str, model: str, adapter: str | None,
                   prompt_hash: str | None, check: CheckResult | None,
                   expected_version: int | None = None, replaces: int | None = None,
                   study_version: int | None = None, guard: GuardRecord | None = None) -> DraftView:
        """Store a model draft: the first one (pending -> drafted) or a regeneration.

        Args:
            user: A cardiologist.
            study_id: The study.
            text: The generated impression.
            model: Base model identity (``Prediction.base_model``).
            adapter: Adapter path or name, None for the base model.
            prompt_hash: ``prompts.prompt_hash`` of the messages used.
            check: The checker's result on ``text``.
            expected_version: When regenerating, the version of the draft being replaced
                (``ConflictError`` if someone saved it since).
            replaces: When regenerating, the id of the draft being replaced (``ConflictError``
                if another draft replaced it since, whatever its version).
            study_version: The study's version the user was shown when asking for the draft
                (``ConflictError`` with the text it holds now if it changed since); None skips it.
            guard: What checker-guided drafting changed (kept with the draft, one audit entry per
                intervention), None for an unguarded draft.

        Returns:
            The new draft (version 1).
        """
        with self.transaction() as s:
            me = self.acting(s, user)
            study = self.study_row(s, study_id)
            if study_version is not None:
                self.expect_version(s, study, study_version)
            old = self.current_draft_row(s, study)
            action = Action.regenerate if old is not None else Action.draft
            nxt = review.transition(me, study.status, action)
            if old is not None:
                if replaces is not None and replaces != old.id:
                    other = self.user_name(s, old.updated_by)
                    raise ConflictError(f"{other} drafted this study again after you opened it; it was "
                                        "not regenerated",
                                        old.version, old.text, other)
                self._move_draft(s, old, expected_version, "{other} changed this draft (version {version}) "
                                 "after you opened it; it was not regenerated", superseded=True)
            d = DraftRow(study_pk=study.id, model_text=text, text=text, model=model, adapter=adapter,
                         prompt_hash=prompt_hash, check_json=dump_check(check),
                         model_check_json=dump_check(check), created_by=me.id,
                         updated_by=me.id, guard_json=guard.model_dump_json() if guard else None)
            s.add(d)
            s.flush()
            self.set_status(s, study, nxt)
            self.audit(s, me, f"draft.{action.value}", study_id=study_id, entity="draft",
                       entity_id=d.id, detail=f"model={model} adapter={adapter} prompt={prompt_hash}"
                       + (f" guard={len(guard.interventions)} interventions" if guard else ""))
            for i in guard.interventions if guard else []:
                self.audit(s, me, f"draft.guard.{i.kind}", study_id=study_id, entity="draft", entity_id=d.id,
                           detail=i.line())
            log.info("draft %d saved (%s)", d.id, action.value)
            return self.draft_view(s, d, study)

    def current_draft(self, user: User, study_id: str) -> DraftView | None:
        """The study's working draft, or None (the read is audited)."""
        with self.transaction() as s:
            me = self.acting(s, user, "study.read")
            study = self.study_row(s, study_id)
            d = self.current_draft_row(s, study)
            self.audit(s, me, "draft.read", study_id=study_id, entity="draft",
                       entity_id=d.id if d else None)
            return self.draft_view(s, d, study) if d else None

    def edit_draft(self, user: User, draft_id: int, text: str, expected_version: int,
                   check: CheckResult | Checker | None) -> DraftView:
        """Save an edit in place; the check of the new text is stored with it.

        Args:
            user: A cardiologist.
            draft_id: The draft.
            text: The edited impression.
            expected_version: The version the edit started from.
            check: The check of ``text``, or a checker ``(text, study) -> CheckResult`` to run.

        Returns:
            The draft at its new version; ``ConflictError`` (with the other text) if stale.
        """
        if callable(check):
            with self.transaction() as s:
                self.acting(s, user, "draft.write")
                study = Study.model_validate_json(self.draft_rows(s, draft_id)[1].study_json)
            check = check(text, study)
        with self.transaction() as s:
            me = self.acting(s, user)
            d, study = self.draft_rows(s, draft_id)
            review.transition(me, study.status, Action.edit)
            if d.superseded:
                raise ConflictError("this draft was replaced by a regenerated one", d.version,
                                    d.text, self.user_name(s, d.updated_by))
            before = d.text
            self._move_draft(s, d, expected_version, "{other} saved this draft first (version {version}); "
                             "review their text and edit again", text=text, check_json=dump_check(check),
                             updated_by=me.id, updated_at=utcnow())
            s.refresh(d)
            edits.discard(s, me.id, d.id)  # the kept unsaved edit, if any, is what was just saved
            self.audit(s, me, "draft.edit", study_id=study.study_id, entity="draft", entity_id=d.id,
                       edit=review.edit_entry(before, text))
            log.info("draft %d edited to version %d", d.id, d.version)
            return self.draft_view(s, d, study)

    def approve(self, user: User, draft_id: int, expected_version: int,
                confirm: bool = False) -> ReportView:
        """Approve the draft's current text as the report (drafted -> approved).

        Args:
            user: A cardiologist.
            draft_id: The draft.
            expected_version: The version the reviewer saw.
            confirm: Required when the check has contradicted statements or critical
                omissions, or the text is unchecked (``ConfirmationRequired`` otherwise).

        Returns:
            The approved, unsigned report.
        """
        with self.transaction() as s:
            me = self.acting(s, user)
            d, study = self.draft_rows(s, draft_id)
            review.transition(me, study.status, Action.approve)
            flags: list[str] = []
            if d.version == expected_version and not d.superseded:
                # Only the text the reviewer saw can need confirmation; a stale one is a conflict.
                flags = review.approval_flags(load_check(d.check_json))
                if flags and not confirm:
                    raise review.ConfirmationRequired(flags)
            self._move_draft(s, d, expected_version, "{other} changed this draft (version {version}) after "
                             "you opened it")
            s.refresh(d)
            edits.discard(s, me.id, d.id)
            self.set_status(s, study, Status.approved)
            seconds = (utcnow() - d.created_at).total_seconds()
            r = ReviewRow(draft_id=d.id, decision="approved", confirmed=bool(flags), reviewer=me.id,
                          seconds_to_decision=seconds)
            s.add(r)
            s.flush()
            rep = ReportRow(study_pk=study.id, draft_id=d.id, review_id=r.id, final_text=d.text,
                            model=d.model, adapter=d.adapter)
            s.add(rep)
            s.flush()
            self.audit(s, me, "draft.approve", study_id=study.study_id, entity="report",
                       entity_id=rep.id, edit=review.edit_entry(d.model_text, d.text),
                       seconds_to_approve=seconds,
                       detail=("confirmed despite: " + "; ".join(flags)) if flags else None)
            log.info("draft %d approved as report %d", d.id, rep.id)
            return self.report_view(s, rep)

    def reject(self, user: User, draft_id: int, reason: str, expected_version: int) -> None:
        """Reject the draft with a reason (drafted -> rejected; a new draft may follow).

        Args:
            user: A cardiologist.
            draft_id: The draft.
            reason: Why (required).
            expected_version: The version the reviewer saw (``ConflictError`` with the other
                text if someone saved it since).
        """
        if not reason or not reason.strip():
            raise ValueError("a rejection needs a reason")
        with self.transaction() as s:
            me = self.acting(s, user)
            d, study = self.draft_rows(s, draft_id)
            nxt = review.transition(me, study.status, Action.reject)
            # Bumping the version makes a concurrent edit of this draft fail instead of landing.
            self._move_draft(s, d, expected_version, "{other} changed this draft (version {version}) after "
                             "you opened it", superseded=True)
            seconds = (utcnow() - d.created_at).total_seconds()
            s.add(ReviewRow(draft_id=d.id, decision="rejected", reason=reason.strip(),
                            reviewer=me.id, seconds_to_decision=seconds))
            self.set_status(s, study, nxt)
            self.audit(s, me, "draft.reject", study_id=study.study_id, entity="draft",
                       entity_id=d.id, detail=reason.strip())

    def rejection_reason(self, user: User, study_id: str) -> str | None:
        """Why the study's last draft was rejected (None if it never was)."""
        with self.transaction() as s:
            self.acting(s, user, "study.read")
            study = self.study_row(s, study_id)
            return s.scalars(select(ReviewRow.reason).join(DraftRow, DraftRow.id == ReviewRow.draft_id)
                             .where(DraftRow.study_pk == study.id, ReviewRow.decision == "rejected")
                             .order_by(ReviewRow.id.desc())).first()

    # ------------------------------------------------------------ reports

    def get_report(self, user: User, study_id: str) -> ReportView | None:
        """The study's approved report, or None (the read is audited)."""
        with self.transaction() as s:
            me = self.acting(s, user, "study.read")
            study = self.study_row(s, study_id)
            rep = s.scalars(select(ReportRow).where(ReportRow.study_pk == study.id)).first()
            self.audit(s, me, "report.read", study_id=study_id, entity="report",
                       entity_id=rep.id if rep else None)
            return self.report_view(s, rep) if rep else None

    def final_report(self, user: User, study_id: str) -> str:
        """The issued text of the study's report (``review.final_report_text``)."""
        rep = self.get_report(user, study_id)
        if rep is None:
            raise NotFound(f"study '{study_id}' has no approved report")
        return review.final_report_text(rep)

    def record_notification(self, user: User, study_id: str, finding: str, notified: str,
                            at: datetime, expected_version: int) -> review.NotificationView:
        """Record that ``notified`` was told of a critical ``finding`` at ``at`` (UTC if naive).

        Before signing the notification joins the report above the signature; after signing the
        issued text changes only by addenda, so a late notification is appended as one.

        Args:
            user: A cardiologist.
            study_id: The study (drafted, approved or signed).
            finding: One of the critical findings of the study's current text
                (``pending_notifications`` lists those still without a record).
            notified: Who was told (name, role; at most 256 characters).
            at: When: not before the study date, not in the future.
            expected_version: The study version the user saw (``ReportView.version`` or
                ``WorklistItem.version``); ``ConflictError`` with the current text if stale.

        Returns:
            The notification as the report states it (after signing, ``id`` is the addendum's).
        """
        finding, notified = finding.strip(), notified.strip()
        if not finding or not notified:
            raise ValueError("a notification needs the finding and who was notified")
        if len(notified) > 256:
            raise ValueError("who was notified: at most 256 characters")
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        if at > utcnow():
            raise ValueError("the notification time is in the future")
        with self.transaction() as s:
            me = self.acting(s, user, "notification.record")
            study = self.study_row(s, study_id)
            signed = study.status == Status.signed.value
            if signed:
                review.transition(me, study.status, Action.addendum)
            elif study.status not in (Status.drafted.value, Status.approved.value):
                raise review.InvalidTransition(f"cannot record a notification for a study that is "
                                               f"{study.status}: there is no impression to notify of")
            self.expect_version(s, study, expected_version)
            finding = self.critical_label(s, study, finding)
            if study.study_date and at.date().isoformat() < study.study_date:
                raise ValueError(f"the notification time is before the study ({study.study_date})")
            view = review.NotificationView(id=0, finding=finding, notified=notified, at=at,
                                           recorded_by=me.name)
            detail = f"{finding} -> {notified} at {at.isoformat()}"
            if signed:
                rep = s.scalars(select(ReportRow).where(ReportRow.study_pk == study.id)).one()
                row = AddendumRow(report_id=rep.id, text=review.notification_line(view), author=me.id)
                s.add(row)
                s.flush()
                self.audit(s, me, "report.addendum", study_id=study_id, entity="addendum",
                           entity_id=row.id, edit=review.edit_entry("", row.text))
            else:
                row = NotificationRow(study_pk=study.id, finding=finding, notified=notified, at=at,
                                      recorded_by=me.id)
                s.add(row)
                s.flush()
            self.touch(s, study)
            self.audit(s, me, "notification.record", study_id=study_id,
                       entity="addendum" if signed else "notification", entity_id=row.id, detail=detail)
            return view.model_copy(update={"id": row.id})

    def pending_notifications(self, user: User, study_id: str) -> list[str]:
        """Critical findings of the study's current text that have no notification record yet."""
        with self.transaction() as s:
            self.acting(s, user, "study.read")
            return self.unnotified(s, self.study_row(s, study_id))

    def sign(self, user: User, report_id: int, expected_version: int) -> ReportView:
        """Sign an approved report (approved -> signed); it is read-only from then on.

        The signature stores a hash of everything the report then issues
        (``review.signature_digest``; ``verify_signature`` checks it).

        Args:
            user: A cardiologist.
            report_id: The report.
            expected_version: The version the signer saw (``ReportView.version``); ``ConflictError``
                with the current text if a notification or anything else changed it since.

        ``review.NotificationRequired`` while a critical finding has no notification record.
        """
        with self.transaction() as s:
            me = self.acting(s, user)
            rep = self.report_row(s, report_id)
            study = s.get(StudyRow, rep.study_pk)
            review.transition(me, study.status, Action.sign)
            self.expect_version(s, study, expected_version)
            missing = self.unnotified(s, study)
            if missing:
                raise review.NotificationRequired(missing)
            sig = SignatureRow(report_id=rep.id, signed_by=me.id, signed_at=utcnow().replace(microsecond=0),
                               text_sha256="", hash_version=review.SIGNATURE_VERSION)
            s.add(sig)
            self.set_status(s, study, Status.signed)
            view = self.report_view(s, rep)
            sig.text_sha256 = review.signature_digest(view, sig.hash_version)
            self.audit(s, me, "report.sign", study_id=study.study_id, entity="report", entity_id=rep.id)
            return view

    def verify_signature(self, user: User, study_id: str) -> bool:
        """True when the signed report still issues what was signed (its stored hash matches).

        Signatures made before hash version 2 are checked the way they were made (text only).
        ``NotFound`` when the study has no signed report.
        """
        with self.transaction() as s:
            me = self.acting(s, user, "study.read")
            study = self.study_row(s, study_id)
            rep = s.scalars(select(ReportRow).where(ReportRow.study_pk == study.id)).first()
            sig = (s.scalars(select(SignatureRow).where(SignatureRow.report_id == rep.id)).first()
                   if rep else None)
            if sig is None:
                raise NotFound(f"study '{study_id}' has no signed report")
            ok = review.signature_digest(self.report_view(s, rep), sig.hash_version) == sig.text_sha256
            self.audit(s, me, "report.verify", study_id=study_id, entity="report", entity_id=rep.id,
                       detail="intact" if ok else "MISMATCH")
            return ok

    def add_addendum(self, user: User, report_id: int, text: str, expected_version: int) -> ReportView:
        """Append an addendum to a signed report (the signed text itself never changes).

        ``expected_version``: the version the author saw (``ConflictError`` if stale).
        """
        if not text.strip():
            raise ValueError("an addendum needs text")
        with self.transaction() as s:
            me = self.acting(s, user)
            rep = self.report_row(s, report_id)
            study = s.get(StudyRow, rep.study_pk)
            review.transition(me, study.status, Action.addendum)
            self.expect_version(s, study, expected_version)
            a = AddendumRow(report_id=rep.id, text=text.strip(), author=me.id)
            s.add(a)
            s.flush()
            self.touch(s, study)
            self.audit(s, me, "report.addendum", study_id=study.study_id, entity="addendum",
                       entity_id=a.id, edit=review.edit_entry("", text.strip()))
            return self.report_view(s, rep)

    def expect_version(self, s: Session, study: StudyRow, expected: int) -> None:
        """Refuse an action on a report the user no longer sees: ``ConflictError`` with the
        current text and who changed it last."""
        if study.version == expected:
            return
        rep = s.scalars(select(ReportRow).where(ReportRow.study_pk == study.id)).first()
        d = self.current_draft_row(s, study)
        text = review.final_report_text(self.report_view(s, rep)) if rep else (d.text if d else None)
        other = s.scalars(select(AuditRow.user_name).where(
            AuditRow.study_id == study.study_id, AuditRow.action.not_like("%.read"),
            AuditRow.action != "report.verify").order_by(AuditRow.id.desc())).first()
        raise ConflictError(f"{other or 'someone'} changed this study (version {study.version}) "
                            "after you opened it; review the current text", study.version, text, other)

    def critical_label(self, s: Session, study: StudyRow, finding: str) -> str:
        """``finding`` as the study's current text names it; ``ValueError`` if it is not one of
        its critical findings."""
        rep = s.scalars(select(ReportRow).where(ReportRow.study_pk == study.id)).first()
        d = s.get(DraftRow, rep.draft_id) if rep else self.current_draft_row(s, study)
        labels = review.critical_findings(load_check(d.check_json)) if d else []
        match = next((x for x in labels if x.lower() == finding.lower()), None)
        if match is None:
            known = ", ".join(labels) or "none"
            raise ValueError(f"'{finding}' is not a critical finding of this study's impression "
                             f"(critical findings: {known})")
        return match

    # ------------------------------------------------------------ audit

    def audit_log(self, user: User, study_id: str | None = None, limit: int = 1000) -> list[AuditView]:
        """Audit entries, oldest first, for one study or all (the read is itself audited)."""
        with self.transaction() as s:
            me = self.acting(s, user, "audit.read")
            q = select(AuditRow).order_by(AuditRow.id)
            if study_id is not None:
                q = q.where(AuditRow.study_id == study_id)
            rows = list(s.scalars(q.limit(limit)))
            self.audit(s, me, "audit.read", study_id=study_id)
            return [AuditView(id=r.id, at=r.at, user=r.user_name, action=r.action, study_id=r.study_id,
                              entity=r.entity, entity_id=r.entity_id, before=r.before, after=r.after,
                              diff=r.diff, edit_distance=r.edit_distance,
                              seconds_to_approve=r.seconds_to_approve, detail=r.detail) for r in rows]

    # ------------------------------------------------------------ adapter versions

    def register_adapter(self, user: User, path: str | Path, method: str, *, name: str | None = None,
                         base_model: str | None = None, parent: str | None = None,
                         metrics: dict[str, Any] | None = None) -> AdapterVersion:
        """Record a trained adapter as a new version (not active until an admin selects it).

        Args:
            user: An admin (the command line acts as one).
            path: The adapter folder.
            method: ``sft`` or ``dpo``.
            name: Unique name; default ``<method>-<n>``.
            base_model: The base model identity it was trained on.
            parent: Name of the version it was trained from.
            metrics: Figures worth showing next to it (losses, steps).

        Returns:
            The registered version.
        """
        if method not in ("sft", "dpo"):
            raise ValueError(f"method '{method}' is not one of: sft, dpo")
        with self.transaction() as s:
            me = self.acting(s, user, "adapter.register")
            if name is None:
                n = s.scalar(select(func.count()).select_from(AdapterRow)) or 0
                name = f"{method}-{n + 1}"
            if s.scalars(select(AdapterRow).where(AdapterRow.name == name)).first() is not None:
                raise ValueError(f"adapter version '{name}' already exists")
            row = AdapterRow(name=name, path=str(path), base_model=base_model, method=method,
                             parent_id=self.adapter_row(s, parent).id if parent else None,
                             metrics_json=json.dumps(metrics or {}), active=False, created_by=me.id)
            s.add(row)
            s.flush()
            self.audit(s, me, "adapter.register", entity="adapter", entity_id=row.id,
                       detail=f"{name} {method} {path}")
            return self.adapter_view(s, row)

    def list_adapters(self, user: User) -> list[AdapterVersion]:
        """All adapter versions, newest first."""
        with self.transaction() as s:
            self.acting(s, user, "adapter.list")
            return [self.adapter_view(s, r)
                    for r in s.scalars(select(AdapterRow).order_by(AdapterRow.id.desc()))]

    def select_adapter(self, user: User, name: str) -> AdapterVersion:
        """Make ``name`` the active adapter (admins only); the previous one is deactivated."""
        with self.transaction() as s:
            me = self.acting(s, user, "adapter.select")
            row = self.adapter_row(s, name)
            s.execute(update(AdapterRow).where(AdapterRow.id != row.id).values(active=False))
            row.active = True
            s.flush()
            self.audit(s, me, "adapter.select", entity="adapter", entity_id=row.id, detail=name)
            return self.adapter_view(s, row)

    def active_adapter(self, user: User) -> AdapterVersion | None:
        """The adapter drafts are generated with, or None for the base model."""
        with self.transaction() as s:
            self.acting(s, user, "adapter.list")
            row = s.scalars(select(AdapterRow).where(AdapterRow.active.is_(True))).first()
            return self.adapter_view(s, row) if row else None

    # ------------------------------------------------------------ feedback records

    def feedback_items(self, user: User) -> list[FeedbackItem]:
        """Every approved (or signed) report with its study and the model's original draft."""
        with self.transaction() as s:
            me = self.acting(s, user, "feedback.export")
            q = (select(ReportRow, StudyRow, DraftRow)
                 .join(StudyRow, StudyRow.id == ReportRow.study_pk)
                 .join(DraftRow, DraftRow.id == ReportRow.draft_id).order_by(ReportRow.id))
            cleared = set(s.scalars(select(ClearanceRow.report_id)))
            items = [FeedbackItem(report_id=rep.id, study=Study.model_validate_json(st.study_json),
                                  final_text=rep.final_text, model_text=d.model_text, model=rep.model,
                                  adapter=rep.adapter, cleared=rep.id in cleared)
                     for rep, st, d in s.execute(q)]
            self.audit(s, me, "feedback.read", detail=f"n={len(items)}")
            return items

    def clear_for_export(self, user: User, report_id: int) -> None:
        """An admin states the report's texts were reviewed and hold no identifiers (audited)."""
        with self.transaction() as s:
            me = self.acting(s, user, "feedback.clear")
            self.report_row(s, report_id)
            if s.scalars(select(ClearanceRow).where(ClearanceRow.report_id == report_id)).first() is None:
                s.add(ClearanceRow(report_id=report_id, cleared_by=me.id))
                self.audit(s, me, "feedback.clear", entity="report", entity_id=report_id)
