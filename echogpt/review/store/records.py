"""The store's records read out: the audit log and the approved reports the feedback export
turns into training data, with an admin's clearance of each for export. Mixed into ``Store``.

    db.audit_log(admin, "S1"); items = db.feedback_items(admin)
"""

from __future__ import annotations

from sqlalchemy import select

from echogpt.review.accounts import User
from echogpt.review.database import AuditView, Database, FeedbackItem
from echogpt.review.tables import AuditRow, ClearanceRow, DraftRow, ReportRow, StudyRow
from echogpt.schemas import Study


class Records(Database):
    """The audit log and the feedback export's records (see ``Store``)."""

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
