"""A bubble study is flagged (``agitated_saline``) wherever the findings say it was done, in a
labelled line or inside a paragraph of prose, and not when they say it was not done."""

from __future__ import annotations

import pytest

from echogpt.data.report_text import parse_report


@pytest.mark.parametrize(("text", "done"), [
    # one paragraph with no findings heading: the flag used to be read from headed sections only
    ("Outpatient TTE, 2 Oct 2026.\n\nLV normal, EF 58 %; RV normal; saline bubble test with three "
     "injections, one on cough release: a few bubbles in the LA within two beats.\n\n"
     "Impression: Small PFO shunt.", True),
    ("FINDINGS:\nAtrial septum: contrast-saline study after Valsalva, no early left-sided bubbles.\n\n"
     "IMPRESSION:\n1. No interatrial shunt.", True),
    ("FINDINGS:\nLV normal.\nAgitated saline: not performed.\n\nIMPRESSION:\n1. Normal LV.", False),
    ("FINDINGS:\nLV normal. No bubble study was done today.\n\nIMPRESSION:\n1. Normal LV.", False),
    ("FINDINGS:\nLV normal.\n\nComparison: bubble study in 2024 showed a PFO.\n\nIMPRESSION:\n1. Normal LV.",
     False),
    # only its result is written, under a bare label or in prose
    ("FINDINGS:\nLV normal.\nBubble: late (>3 beats) appearance of bubbles in LA.\n\n"
     "IMPRESSION:\n1. Normal LV.", True),
    ("FINDINGS:\nLV normal. No bubbles crossed to the left heart at rest or after Valsalva.\n\n"
     "IMPRESSION:\n1. No shunt.", True),
])
def test_a_bubble_study_is_flagged_only_when_it_was_done(text: str, done: bool) -> None:
    assert parse_report(text).agitated_saline is done
