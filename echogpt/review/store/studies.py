"""The store's studies and the worklist: entering and importing studies, reading one, the worklist
and one study's entry on it. Mixed into ``Store``, the one door.

    db.import_studies(user, studies); db.list_worklist(user, "drafted")
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import select

from echogpt.review.accounts import User
from echogpt.review.database import Database, WorklistItem
from echogpt.review.tables import StudyRow
from echogpt.review.workflow import Status
from echogpt.schemas import Study

log = logging.getLogger(__name__)  # internal row ids only: never study ids, patient ids or text


class Studies(Database):
    """Studies and the worklist, each method one transaction (see ``Store``)."""

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
