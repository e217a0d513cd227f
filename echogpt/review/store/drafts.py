"""The store's drafts and their review: saving a model draft (first or regenerated), reading and
editing it, approving it as the report or rejecting it. Every move names the draft version the
user was shown (``ConflictError`` when stale). Mixed into ``Store``, the one door.

    d = db.edit_draft(user, d.id, new_text, d.version, check); db.approve(user, d.id, d.version)
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from echogpt.review import edits
from echogpt.review import workflow as review
from echogpt.review.accounts import User
from echogpt.review.database import Checker, ConflictError, Database, DraftView, dump_check, load_check
from echogpt.review.tables import DraftRow, ReportRow, ReviewRow, utcnow
from echogpt.review.workflow import Action, ReportView, Status
from echogpt.schemas import CheckResult, GuardRecord, Study

log = logging.getLogger(__name__)  # internal row ids only: never study ids, patient ids or text


class Drafts(Database):
    """Drafts and their review, each method one transaction (see ``Store``)."""

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
