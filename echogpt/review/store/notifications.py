"""The store's notifications of critical findings: recording who was told of which finding and
when (before signing it joins the report, after signing it is appended as an addendum) and the
findings still without a record. Mixed into ``Store``, the one door.

    db.record_notification(user, "S1", "tamponade", "Dr Ward, ICU", at, rep.version)
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from echogpt.review import workflow as review
from echogpt.review.accounts import User
from echogpt.review.database import Database, load_check
from echogpt.review.tables import AddendumRow, DraftRow, NotificationRow, ReportRow, StudyRow, utcnow
from echogpt.review.workflow import Action, Status


class Notifications(Database):
    """Notifications of critical findings, each method one transaction (see ``Store``)."""

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
