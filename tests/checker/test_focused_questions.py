"""A focused question asserts nothing; the answer on its line does ("Effusion? None." is no
effusion); a question left unanswered names no finding; "?vegetation" stays the referral's hedge.
A bare "No" or "Nil" after a label ("Thrombus: nil") negates the label's finding."""

from __future__ import annotations

import pytest

from echogpt.checker.facts import extract_facts
from echogpt.checker.questions import answered_questions


def _facts(text: str) -> set[tuple[str, str | None, str, str | None]]:
    return {(f.concept, f.location, f.polarity, f.grade) for f in extract_facts(text)}


@pytest.mark.parametrize(("text", "fact"), [
    ("Pericardial effusion? None seen.", ("pericardial_effusion", None, "absent", None)),
    ("Tamponade? No.", ("tamponade", None, "absent", None)),
    ("- Thrombus? Nil.\n- RV? Dilated.", ("thrombus", None, "absent", None)),
    ("- Thrombus? Nil.\n- RV? Dilated.", ("rv_size", None, "present", "dilated")),
    ("Is there an effusion? Yes - small.", ("pericardial_effusion", None, "present", "small")),
])
def test_an_answered_question_states_its_answer(text: str, fact: tuple) -> None:
    assert fact in _facts(text)


@pytest.mark.parametrize("text", ["Questions asked: VSD? Tamponade? Outflow obstruction?",
                                  "- Vegetation?\n- Effusion?"])
def test_an_unanswered_question_states_nothing(text: str) -> None:
    assert _facts(text) == set()


def test_an_answered_question_keeps_later_questions_apart() -> None:
    assert _facts("Effusion? Small. VSD?") == {("pericardial_effusion", None, "present", "small")}


def test_the_rewrite_keeps_offsets_and_the_referral_hedge() -> None:
    text = "Effusion? None. VSD?\n?vegetation on the mitral valve"
    out = answered_questions(text)
    assert len(out) == len(text) and out.startswith("Effusion: None.")
    assert ("vegetation", "mitral", "uncertain", None) in _facts(text)


@pytest.mark.parametrize(("text", "concept"), [("Thrombus: nil.", "thrombus"),
                                               ("Pericardial effusion: No", "pericardial_effusion")])
def test_a_bare_no_after_a_label_negates_it(text: str, concept: str) -> None:
    assert (concept, None, "absent", None) in _facts(text)


@pytest.mark.parametrize("text", ["Tamponade? No echo features.", "Thrombus? None seen.",
                                  "Tamponade? No echocardiographic features. LV? Normal."])
def test_a_negative_answer_with_no_finding_denies_the_question(text: str) -> None:
    found = [f for f in extract_facts(text) if f.concept in ("tamponade", "thrombus")]
    assert [f.polarity for f in found] == ["absent"]


def test_a_negative_answer_naming_a_finding_keeps_it() -> None:
    assert ("valve_regurgitation", "mitral", "present", "mild") in _facts("Effusion? No, but mild MR.")
