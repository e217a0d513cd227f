"""How the aorta is read: the segments of the ascending aorta ("mid ascending"), the sinuses as the
root, a growth that is no diameter, and the numbers of a table with leader dots."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study


def measured(sentence: str) -> list[tuple[str | None, float | None]]:
    return [(f.location, f.value) for f in extract_facts(sentence) if f.concept == "measurement"]


def verdicts(impression: str, findings: str) -> list[str]:
    study = Study.model_validate({"study_id": "S1", "findings_text": findings})
    return [s.verdict for s in check(impression, study).statements]


@pytest.mark.parametrize(("sentence", "fact"), [
    ("Aneurysm of the mid ascending aorta, 53 mm.", ("aortic_dilation", "ascending", "aneurysmal")),
    ("Normal-sized distal ascending aorta (34 mm).", ("aortic_dilation", "ascending", "normal")),
])
def test_a_segment_of_the_ascending_aorta_is_the_ascending_aorta(sentence: str, fact: tuple) -> None:
    assert fact in [(f.concept, f.location, f.grade) for f in extract_facts(sentence)]


def test_an_aneurysm_of_the_mid_ascending_aorta_is_no_wall_motion() -> None:
    findings = "Mid ascending aorta 53 mm. LV: EF 58 %. No RWMA."
    assert verdicts("Aneurysm of the mid ascending aorta, 53 mm.", findings) == ["supported"]


def test_the_sinuses_are_the_root() -> None:
    assert measured("Sinuses 39 mm, STJ 33 mm.") == [("aortic_root", 3.9)]


@pytest.mark.parametrize("sentence", [
    "Root growth 2 mm in 2 years (1.0 mm/year).",
    "Aortic root aneurysm, 51 mm at the sinuses, grown 4 mm in one year.",
])
def test_a_growth_is_no_diameter(sentence: str) -> None:
    assert ("aortic_root", 0.2) not in measured(sentence) and ("aortic_root", 0.4) not in measured(sentence)


def test_a_growth_statement_is_not_refuted_by_the_diameter() -> None:
    findings = "Sinuses of Valsalva 46 mm. Previous: sinuses of Valsalva 44 mm (2024)."
    assert "contradicted" not in verdicts("Root growth 2 mm in 2 years.", findings)


@pytest.mark.parametrize(("sentence", "field", "value"), [
    ("AV Vmax ................ 2.8 m/s", "av_vmax", 2.8),
    ("Mean gradient .......... 17 mmHg", "av_mean_gradient", 17.0),
    ("LVIDd ............ 4.4 cm", "lvidd", 4.4),
])
def test_leader_dots_join_a_name_to_its_value(sentence: str, field: str, value: float) -> None:
    assert measured(sentence) == [(field, value)]


def test_a_table_with_leader_dots_grades_the_valve() -> None:
    findings = ("Aortic valve: bicuspid.\nAV Vmax ........ 2.8 m/s\nMean gradient .... 17 mmHg\n"
                "AVA (continuity) ... 2.0 cm2\n")
    assert verdicts("Mild aortic stenosis.", findings) == ["supported"]


@pytest.mark.parametrize(("sentence", "fact"), [
    ("aorta: root 39 mm, stj 33 mm, asc 34 mm.", ("measurement", "ascending_aorta")),
    ("Dilated asc aorta.", ("aortic_dilation", "ascending")),
    ("mild central ar (vc 0.2 cm).", ("valve_regurgitation", "aortic")),  # a report in lower case
])
def test_abbreviations_of_the_aorta_and_its_valve(sentence: str, fact: tuple) -> None:
    assert fact in [(f.concept, f.location) for f in extract_facts(sentence)]


def test_aortic_regurgitation_in_lower_case_is_not_read_as_tricuspid() -> None:
    findings = "av: trileaflet, mild sclerosis, vmax 1.8 m/s. mild central ar (vc 0.2 cm). tr trace."
    assert verdicts("Mild aortic regurgitation.", findings) == ["supported"]
