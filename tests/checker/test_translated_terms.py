"""Literal English of Spanish, French and Italian reports: the words a translation leaves behind
(FEVI, VD, 'light', 'conserved', 'spill', 'narrowing', 'atrium left') read as the terms they
translate, and an indexed LV mass is no intracardiac mass."""

from __future__ import annotations

import pytest

from echogpt.checker.facts import extract_facts

READS = [
    # (sentence, concept, location, polarity, grade)
    ("Function systolic conserved (FE 63 %).", "lv_systolic_function", None, "present", "normal"),
    ("Pericardium without spill.", "pericardial_effusion", None, "absent", None),
    ("No pericardial spill.", "pericardial_effusion", None, "absent", None),
    ("Function systolic of the VD slightly reduced.", "rv_systolic_function", None, "present",
     "mildly_reduced"),
    ("VI severely dilated.", "lv_size", None, "present", "severely_dilated"),
    ("OG severely dilated.", "la_size", None, "present", "severely_dilated"),
    ("Atrium left dilated severely.", "la_size", None, "present", "severely_dilated"),
    ("Severe rheumatic mitral narrowing.", "valve_stenosis", "mitral", "present", "severe"),
    ("Light aortic insufficiency.", "valve_regurgitation", "aortic", "present", "mild"),
    ("IM light.", "valve_regurgitation", "mitral", "present", "mild"),
    # a grade written after its head does not stop the head reaching "of the VD" after the grade
    ("Dysfunction systolic light of VD.", "rv_systolic_function", None, "present", "mildly_reduced"),
    ("Dilatation severe of the LA.", "la_size", None, "present", "severely_dilated"),
    # the noun first: a grade after the head's subject grades the head
    ("Insufficiency mitral trivial.", "valve_regurgitation", "mitral", "present", "trace"),
    ("Insufficiency tricuspidal severe: VC 9 mm.", "valve_regurgitation", "tricuspid", "present", "severe"),
    ("IM (insufficiency mitral): light, functional.", "valve_regurgitation", "mitral", "present", "mild"),
]


@pytest.mark.parametrize(("sentence", "concept", "location", "polarity", "grade"), READS)
def test_reading(sentence: str, concept: str, location: str | None, polarity: str, grade: str | None) -> None:
    facts = [(f.concept, f.location, f.polarity, f.grade) for f in extract_facts(sentence)]
    assert (concept, location, polarity, grade) in facts, facts


@pytest.mark.parametrize("sentence", ["FEVI 62 % (Simpson biplane).", "FEVG 60 %.", "FE 63 % (biplane)."])
def test_ejection_fraction_abbreviations(sentence: str) -> None:
    values = [(f.location, f.value) for f in extract_facts(sentence) if f.concept == "measurement"]
    assert values and values[0][0] == "lvef", values


def test_indexed_mass_is_no_tumour() -> None:
    facts = extract_facts("Left ventricle: mass 180 g, mass indexed 112 g/m2, RWT 0.50.")
    assert not [f for f in facts if f.concept == "mass"], facts


def test_narrowing_is_stenosis_only_at_a_valve() -> None:
    read = [(f.concept, f.location) for f in extract_facts("Tight mitral narrowing.")]
    assert ("valve_stenosis", "mitral") in read
    assert not extract_facts("Possible SVC anastomotic narrowing.")


@pytest.mark.parametrize("sentence", ["Absence of valvulopathy significant.",
                                      "No regurgitation significant."])
def test_significant_after_a_negated_finding(sentence: str) -> None:
    facts = extract_facts(sentence)
    assert facts and all(f.polarity == "absent" and f.rule == "no-significant" for f in facts), facts


def test_significant_after_a_comma_stays_its_own() -> None:
    mr = [f for f in extract_facts("No MR, significant AS.") if f.concept == "valve_regurgitation"]
    assert mr and mr[0].rule is None, mr
