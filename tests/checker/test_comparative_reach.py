"""A degree word before a comparative grades the change, not the finding ("LVEF slightly lower than
in March 2025" says nothing of a mildly reduced LV), and "than in <month or year or date>" compares
with an earlier study as "than the prior study" does."""

from __future__ import annotations

import pytest

from echogpt.checker.facts import extract_facts, mentions_comparison


@pytest.mark.parametrize("sentence", ["LVEF slightly lower than in March 2025.",
                                      "LV function slightly better than before."])
def test_degree_before_a_comparative_grades_no_finding(sentence: str) -> None:
    graded = [f for f in extract_facts(sentence) if f.grade is not None]
    assert not graded, graded


def test_degree_before_a_finding_still_grades_it() -> None:
    assert [f.grade for f in extract_facts("Slightly dilated LV.")] == ["mildly_dilated"]


@pytest.mark.parametrize("sentence", ["LVEF lower than in March 2025.", "Gradient higher than in 2024.",
                                      "MR worse than on 14/03/2025."])
def test_than_a_date_is_a_comparison(sentence: str) -> None:
    assert mentions_comparison(sentence)


def test_than_a_view_is_no_comparison() -> None:
    assert not mentions_comparison("Gradient higher than in the apical view.")


@pytest.mark.parametrize("sentence", ["Progression of Vmax by 0.3 m/s over one year.",
                                      "Mean gradient rose by 5 mmHg."])
def test_a_number_after_by_is_a_change(sentence: str) -> None:
    assert not [f for f in extract_facts(sentence) if f.concept == "measurement"]


def test_a_method_after_by_keeps_the_value() -> None:
    values = [f.value for f in extract_facts("LVEF by Simpson 55 %.") if f.concept == "measurement"]
    assert values == [55.0], values


@pytest.mark.parametrize("sentence", ["Anaesthetic risk is not substantially increased by the MR.",
                                      "Risk not increased by the MR with preserved LV function."])
def test_the_cause_after_by_is_neither_graded_nor_negated(sentence: str) -> None:
    mr = [(f.polarity, f.grade) for f in extract_facts(sentence) if f.concept == "valve_regurgitation"]
    assert mr == [("present", None)], mr


@pytest.mark.parametrize(("sentence", "grade"), [
    ("Akinesis of the mid anteroseptum, corrected from hypokinesis in the preliminary read.", "akinetic"),
    ("Severe MR, upgraded from moderate on the preliminary report.", "severe"),
    ('Mildly reduced RV function; revised from "normal RV function" on the preliminary.', "mildly_reduced"),
])
def test_the_grade_a_statement_was_revised_from_is_not_claimed(sentence: str, grade: str) -> None:
    assert {f.grade for f in extract_facts(sentence)} - {None} == {grade}
