"""A negation inside a parenthesis reaches no further than the parenthesis: "(sinus rhythm, no
pacing): new anterior hypokinesis" states the hypokinesis."""

from __future__ import annotations

import pytest

from echogpt.checker.facts import extract_facts


@pytest.mark.parametrize(("sentence", "concept"), [
    ("Second look (sinus rhythm, no pacing): new hypokinesis of the mid anterior wall.", "wall_motion"),
    ("After protamine (no vasopressors) moderate mitral regurgitation.", "valve_regurgitation"),
])
def test_a_negation_in_a_parenthesis_denies_nothing_after_it(sentence: str, concept: str) -> None:
    facts = [f for f in extract_facts(sentence) if f.concept == concept]
    assert facts and all(f.polarity == "present" for f in facts)


def test_a_negation_inside_its_parenthesis_still_denies() -> None:
    facts = extract_facts("Mitral valve normal (no regurgitation, no stenosis).")
    assert {f.polarity for f in facts if f.concept in ("valve_regurgitation", "valve_stenosis")} == {"absent"}
