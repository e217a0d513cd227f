"""A report with its study, read through the store's public API (every read is audited there).

    item = load_report(Store(), user, "S1")   # item.study, item.report (a workflow.ReportView)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from echogpt.review.database import NotFound
from echogpt.review.workflow import ReportView, Status
from echogpt.schemas import Study

if TYPE_CHECKING:
    from echogpt.review.accounts import User
    from echogpt.review.store import Store


class StudyReport(BaseModel):
    """A study and its approved (maybe signed) report."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    study: Study
    report: ReportView

    @property
    def signed(self) -> bool:
        return self.report.signed_at is not None


def load_report(db: Store, user: User, study_id: str) -> StudyReport:
    """The study and its report.

    Raises:
        NotFound: no such study, or it has no approved report yet.
    """
    study = db.get_study(user, study_id)
    report = db.get_report(user, study_id)
    if report is None:
        raise NotFound(f"study '{study_id}' has no approved report")
    return StudyReport(study=study, report=report)


def signed_study_ids(db: Store, user: User) -> list[str]:
    """Studies whose report is signed, newest change first."""
    return [i.study_id for i in db.list_worklist(user, Status.signed)]
