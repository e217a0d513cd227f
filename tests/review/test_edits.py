"""Unsaved edits kept across a reload: restored only on the draft version they were typed on,
one per user and study, discarded by a save or an approval; and Generate refuses a stale study."""

from __future__ import annotations

import _db
import pytest

from echogpt.review import edits
from echogpt.review.permissions import PermissionDenied
from echogpt.review.store import ConflictError
from echogpt.schemas import CheckResult, Study

db_url, people, pg_url = _db.db_url, _db.people, _db.pg_url  # fixtures
MODEL = "embedded:smollm2-135m-instruct"


def _drafted(p, n: int = 1):
    study = Study(study_id=f"E{n}-{p.tag}", findings_text="LVEF 60%.")
    p.db.create_study(p.doc, study)
    d = p.db.save_draft(p.doc, study.study_id, "1. Normal.", MODEL, None, None,
                        CheckResult(study_id=study.study_id, statements=[], omissions=[]))
    return study.study_id, d


def test_a_kept_edit_comes_back_on_its_version_for_its_user_only(people):
    p = people
    sid, d = _drafted(p)
    edits.keep(p.db, p.doc, d.id, d.version, "1. Typed, not saved.")
    edits.keep(p.db, p.doc, d.id, d.version, "1. Typed more, not saved.")  # one per user and study
    assert edits.take(p.db, p.doc2, sid) is None  # another reviewer's is not theirs
    kept = edits.take(p.db, p.doc, sid)
    assert kept == edits.KeptEdit(d.id, d.version, "1. Typed more, not saved.", True)
    assert edits.take(p.db, p.doc, sid) == kept  # still there until saved: a second reload restores it
    with pytest.raises(PermissionDenied):
        edits.keep(p.db, p.reader, d.id, d.version, "a reader cannot keep edits")


def test_a_kept_edit_is_never_applied_to_another_draft_version(people):
    p = people
    sid, d = _drafted(p)
    edits.keep(p.db, p.doc, d.id, d.version, "1. Mine, typed on version 1.")
    p.db.edit_draft(p.doc2, d.id, "1. Theirs, saved as version 2.", d.version, None)
    kept = edits.take(p.db, p.doc, sid)
    assert kept.current is False and kept.draft_version == d.version
    assert kept.text == "1. Mine, typed on version 1."  # to show, never to apply
    assert edits.take(p.db, p.doc, sid) is None  # shown once, then forgotten


def test_a_kept_edit_of_a_replaced_draft_is_stale(people):
    p = people
    sid, d = _drafted(p)
    edits.keep(p.db, p.doc, d.id, d.version, "1. Typed on the first draft.")
    p.db.save_draft(p.doc2, sid, "1. Regenerated.", MODEL, None, None, None,
                    expected_version=d.version, replaces=d.id)
    assert edits.take(p.db, p.doc, sid).current is False


def test_saving_or_approving_discards_the_kept_edit(people):
    p = people
    sid, d = _drafted(p, 1)
    edits.keep(p.db, p.doc, d.id, d.version, "1. Saved now.")
    edits.keep(p.db, p.doc2, d.id, d.version, "1. The other reviewer's, unsaved.")
    p.db.edit_draft(p.doc, d.id, "1. Saved now.", d.version, None)
    assert edits.take(p.db, p.doc, sid) is None
    assert edits.take(p.db, p.doc2, sid).current is False  # theirs stays theirs, now stale

    sid2, d2 = _drafted(p, 2)
    edits.keep(p.db, p.doc, d2.id, d2.version, "1. Typed, then approved as it was.")
    p.db.approve(p.doc, d2.id, d2.version)
    assert edits.take(p.db, p.doc, sid2) is None


def test_forget_drops_the_kept_edit(people):
    p = people
    sid, d = _drafted(p)
    edits.keep(p.db, p.doc, d.id, d.version, "1. Typed, then typed back.")
    edits.forget(p.db, p.doc, d.id)
    assert edits.take(p.db, p.doc, sid) is None


def test_generate_refuses_a_study_that_changed_since_it_was_shown(people):
    p = people
    study = Study(study_id=f"G-{p.tag}", findings_text="LVEF 60%.")
    shown = p.db.create_study(p.doc, study).version
    p.db.save_draft(p.doc2, study.study_id, "1. Theirs.", MODEL, None, None, None, study_version=shown)
    with pytest.raises(ConflictError, match="changed this study") as refused:
        p.db.save_draft(p.doc, study.study_id, "1. Mine.", MODEL, None, None, None, study_version=shown)
    assert refused.value.current_text == "1. Theirs."
    assert p.db.current_draft(p.doc, study.study_id).text == "1. Theirs."
