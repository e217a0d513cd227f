"""A sentence that names a structure alone ("Right ventricle.") labels the next one when that opens
with its grade and a colon or comma ("Dilated: basal diameter 45 mm")."""

from __future__ import annotations

import pytest

from echogpt.checker.facts import sentence_facts


def _facts(text: str) -> list[tuple[str, str | None]]:
    return [(f.concept, f.grade) for _, facts in sentence_facts(text) for f in facts
            if f.concept != "measurement"]


@pytest.mark.parametrize(("text", "expected"), [
    ("Right ventricle. Dilated: basal diameter 45 mm, mid 38 mm.", ("rv_size", "dilated")),
    ("Right atrium. Mildly enlarged, area 21 cm2.", ("ra_size", "mildly_dilated")),
])
def test_label_grades_the_next_sentence(text: str, expected: tuple[str, str]) -> None:
    assert expected in _facts(text), _facts(text)


def test_no_label_no_grade() -> None:
    assert not _facts("Study quality good. Dilated: basal diameter 45 mm.")
