""""Atrial" with no side before a lesion ("an atrial myxoma", "no atrial thrombus") names one atrium, not
both: the lesion takes the side named elsewhere in the sentence, or none."""

from __future__ import annotations

import pytest

from echogpt.checker.facts import extract_facts


@pytest.mark.parametrize(("sentence", "concept"), [
    ("Pedunculated mass in the right atrium, most likely an atrial myxoma.", "mass"),
    ("Right atrium: no atrial thrombus.", "thrombus"),
])
def test_an_unsided_atrial_lesion_is_no_lesion_of_both_atria(sentence: str, concept: str) -> None:
    assert {f.location for f in extract_facts(sentence) if f.concept == concept} <= {"ra", None}


def test_both_atria_are_still_read_where_named() -> None:
    facts = extract_facts("Biatrial enlargement.")
    assert {f.concept for f in facts} == {"la_size", "ra_size"}
