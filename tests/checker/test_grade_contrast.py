"""A negation set between two grades ("severe, not moderate") denies the second grade only, never the
finding: a reviewer's "[mild, not moderate]" keeps the regurgitation present and mild."""

from __future__ import annotations

import pytest

from echogpt.checker.facts import extract_facts


@pytest.mark.parametrize(("text", "location", "grade"), [
    ("Severe tricuspid regurgitation (VC 0.8 cm) [reviewer: severe, not moderate].", "tricuspid", "severe"),
    ("Mild mitral regurgitation [mild, not moderate].", "mitral", "mild"),
    ("Mild MR, not moderate.", "mitral", "mild"),
])
def test_a_grade_contrast_keeps_the_finding(text: str, location: str, grade: str) -> None:
    facts = [f for f in extract_facts(text) if f.concept == "valve_regurgitation"]
    assert [(f.location, f.polarity, f.grade) for f in facts] == [(location, "present", grade)]


@pytest.mark.parametrize("text", ["MR not severe.", "Not severe MR.", "No MR, not even trace."])
def test_a_negation_without_a_contrast_still_denies(text: str) -> None:
    facts = [f for f in extract_facts(text) if f.concept == "valve_regurgitation"]
    assert facts and all(f.polarity == "absent" for f in facts)
