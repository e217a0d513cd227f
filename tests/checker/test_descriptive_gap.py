"""A severity grade reaches its finding over descriptive words set off by commas or brackets ("Severe,
eccentric, anteriorly directed MR", "Severe primary (degenerative) MR"), never over a comma that ends
its own phrase ("LV: small cavity, LVEF 58 %") or past a chamber it already graded ("Normal LV, MR")."""

from __future__ import annotations

import pytest

from echogpt.checker.facts import extract_facts


def _graded(text: str, concept: str) -> list[str | None]:
    return [f.grade for f in extract_facts(text) if f.concept == concept]


@pytest.mark.parametrize("text", ["Severe, eccentric, anteriorly directed mitral regurgitation.",
                                  "Severe primary (degenerative) mitral regurgitation due to a flail P2."])
def test_the_grade_reaches_over_descriptive_words(text: str) -> None:
    assert _graded(text, "valve_regurgitation") == ["severe"]


def test_a_comma_after_the_grades_own_phrase_stops_it() -> None:
    assert "lv_systolic_function" not in [f.concept for f in extract_facts("LV: small cavity, LVEF 58 %.")]
    assert _graded("Normal LV, functional MR.", "valve_regurgitation") == [None]
