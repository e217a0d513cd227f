"""A wall right before a grade of its own belongs to that grade, not to the list of walls an earlier
grade names: "akinesis of the mid and apical segments and basal hyperkinesis" claims no basal akinesis;
"the mid and apical segments of all walls" are those two levels, not the LV walls' thickness."""

from __future__ import annotations

import pytest

from echogpt.checker.facts import extract_facts


def sites(sentence: str) -> set[tuple[str | None, str | None]]:
    return {(f.location, f.grade) for f in extract_facts(sentence) if f.concept == "wall_motion"}


@pytest.mark.parametrize(("sentence", "expected"), [
    ("Akinesis of the mid and apical segments and basal hyperkinesis.",
     {("mid", "akinetic"), ("apical", "akinetic")}),
    ("Hypokinesis of the inferior and lateral walls.",
     {("inferior", "hypokinetic"), ("lateral", "hypokinetic")}),
])
def test_a_wall_with_its_own_grade_is_not_listed(sentence: str, expected: set) -> None:
    assert sites(sentence) == expected


def test_segments_of_all_walls_are_the_levels_named() -> None:
    facts = extract_facts("Mid and apical segments of all walls akinetic.")
    assert {(f.concept, f.location) for f in facts} == {("wall_motion", "mid"), ("wall_motion", "apical")}
