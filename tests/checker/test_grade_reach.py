"""Which structure a grade word grades: one written right before a property no rule reads ("normal
motion", "normal opening") grades that property, not the valve named before it, and a bare grade over
a valve's name grades the valve, not the aorta."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study


def verdicts(impression: str, findings: str) -> list[str]:
    study = Study.model_validate({"study_id": "S1", "findings_text": findings})
    return [s.verdict for s in check(impression, study).statements]


def facts(sentence: str) -> list[tuple]:
    return [(f.concept, f.location, f.grade, f.polarity) for f in extract_facts(sentence)]


@pytest.mark.parametrize("sentence", [
    "Mitral valve: thin leaflets with normal motion, no prolapse.",
    "Mitral valve: thin leaflets, normal mobility.",
    "Tricuspid valve: normal structure.",
    "Valves: normal thickness.",
])
def test_a_grade_of_a_property_says_nothing_of_regurgitation(sentence: str) -> None:
    assert not [f for f in facts(sentence) if f[0] == "valve_regurgitation"]


def test_a_normal_property_does_not_deny_the_regurgitation_beside_it() -> None:
    findings = "Mitral valve: thin leaflets with normal motion. Central MR: EROA 0.25 cm2, RVol 38 mL."
    assert verdicts("Moderate mitral regurgitation.", findings)[0] != "contradicted"


def test_a_prosthesis_named_before_still_takes_the_grade() -> None:
    sentence = "Mitral prosthesis: well seated, normal disc motion."
    assert ("prosthetic_valve", "mitral", "normal", "present") in facts(sentence)


def test_a_bare_grade_over_a_valve_still_grades_the_valve() -> None:
    assert ("valve_regurgitation", "mitral", None, "absent") in facts("Mitral valve: normal.")
    assert ("lv_size", None, "normal", "present") in facts("LV normal in size.")


@pytest.mark.parametrize("sentence", [
    "Aortic valve: trileaflet, normal.",
    "AV normal.",
    "Aortic valve: trileaflet, normal opening, trace central AR.",
])
def test_a_normal_aortic_valve_is_no_normal_aorta(sentence: str) -> None:
    assert not [f for f in facts(sentence) if f[0] == "aortic_dilation"]


def test_a_dilated_root_is_not_refuted_by_a_normal_aortic_valve() -> None:
    findings = "Sinuses of Valsalva 46 mm, dilated. Aortic valve: trileaflet, normal opening, trace AR."
    assert verdicts("Dilated aortic root, 46 mm.", findings) == ["supported"]
    assert verdicts("Dilated aorta.", "Aortic valve: trileaflet, normal.")[0] != "contradicted"


def test_a_grade_borrows_no_head_across_a_comma() -> None:
    # "Small LV, good systolic function": the LV is small, its function is not "small"
    assert not [f for f in facts("Small LV, good systolic function.") if f[2] == "mildly_reduced"]
    # coordinated without a comma the first grade still borrows the head
    assert ("ra_size", None, "severely_dilated", "present") in facts(
        "Severe right atrial and moderate right ventricular dilatation.")
