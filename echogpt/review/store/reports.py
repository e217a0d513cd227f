"""The store's reports: reading the approved report and its issued text, signing it (the signature
hashes everything it issues), verifying that signature and appending addenda. Mixed into
``Store``, the one door.

    rep = db.get_report(user, "S1"); db.sign(user, rep.id, rep.version)
"""

from __future__ import annotations

from sqlalchemy import select

from echogpt.review import workflow as review
from echogpt.review.accounts import User
from echogpt.review.database import Database, NotFound
from echogpt.review.tables import AddendumRow, ReportRow, SignatureRow, StudyRow, utcnow
from echogpt.review.workflow import Action, ReportView, Status


class Reports(Database):
    """Reports, signatures and addenda, each method one transaction (see ``Store``)."""

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
