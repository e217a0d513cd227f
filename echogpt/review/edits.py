"""Unsaved edits kept on the server, so that a page reload does not lose what a reviewer typed:
one per user and study, tied to the draft and the draft version it was typed on.

A kept edit is offered back only while the study's working draft is still that draft at that
version; once someone saved, approved or regenerated it, the kept text is handed back as stale (to
show, never to apply) and forgotten. Saving or approving the draft discards the user's kept edit
(``Store.edit_draft`` and ``Store.approve`` call ``discard`` in their transaction).

    edits.keep(db, user, draft_id, version, text)      # the edit box changed
    kept = edits.take(db, user, "S1")                  # after a reload: KeptEdit or None
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from echogpt.review.accounts import User
from echogpt.review.database import Database
from echogpt.review.tables import EditDraftRow, utcnow


@dataclass(frozen=True)
class KeptEdit:
    """An unsaved edit found after a reload: ``current`` when its draft version is still the one
    the study shows (the text may go back into the edit box), else it is only to be shown."""

    draft_id: int
    draft_version: int
    text: str
    current: bool


def keep(db: Database, user: User, draft_id: int, draft_version: int, text: str) -> None:
    """Keep the edit box's unsaved text, typed on ``draft_version`` of ``draft_id``.

    Args:
        db: The copilot's database.
        user: A user who may edit drafts.
        draft_id: The draft the text was typed on.
        draft_version: The version of that draft the edit started from.
        text: What the edit box holds.
    """
    with db.transaction() as s:
        me = db.acting(s, user, "draft.write")
        d, study = db.draft_rows(s, draft_id)
        row = s.scalars(select(EditDraftRow).where(EditDraftRow.user_id == me.id,
                                                   EditDraftRow.study_pk == study.id)).one_or_none()
        if row is None:
            row = EditDraftRow(user_id=me.id, study_pk=study.id, draft_id=d.id,
                               draft_version=draft_version, text=text)
            s.add(row)
        else:
            row.draft_id, row.draft_version, row.text = d.id, draft_version, text
        row.updated_at = utcnow()


def take(db: Database, user: User, study_id: str) -> KeptEdit | None:
    """The user's kept edit of the study, or None. One whose draft has moved on since (another
    version, or a replaced draft) is returned with ``current`` False and forgotten."""
    with db.transaction() as s:
        me = db.acting(s, user, "draft.write")
        study = db.study_row(s, study_id)
        row = s.scalars(select(EditDraftRow).where(EditDraftRow.user_id == me.id,
                                                   EditDraftRow.study_pk == study.id)).one_or_none()
        if row is None:
            return None
        d = db.current_draft_row(s, study)
        current = d is not None and d.id == row.draft_id and d.version == row.draft_version
        kept = KeptEdit(row.draft_id, row.draft_version, row.text, current)
        if not current:
            s.delete(row)
        return kept


def forget(db: Database, user: User, draft_id: int) -> None:
    """Drop the user's kept edit of the draft's study (the edit box is back to the draft's text)."""
    with db.transaction() as s:
        me = db.acting(s, user)
        _, study = db.draft_rows(s, draft_id)
        s.execute(delete(EditDraftRow).where(EditDraftRow.user_id == me.id,
                                             EditDraftRow.study_pk == study.id))


def discard(s: Session, user_id: int, draft_id: int) -> None:
    """Inside a save or an approval: the user's kept edit of this draft is done with."""
    s.execute(delete(EditDraftRow).where(EditDraftRow.user_id == user_id,
                                         EditDraftRow.draft_id == draft_id))
