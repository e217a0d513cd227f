"""How far a word reaches: a "non-" prefix negates only the word it is joined to, a count ("2 of 4
criteria") is no measurement, a denied grade ("no severe AS") denies that grade and worse, and a
grade written beside an index no rule models (GLS, FAC) binds to that index, not to the chamber."""

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


@pytest.mark.parametrize(("sentence", "fact"), [
    ("Large non-restrictive perimembranous VSD.", ("shunt", "vsd", None, "present")),
    ("Non-obstructive hypertrophic cardiomyopathy.", ("other_finding", "hcm", None, "present")),
    ("Apical LV thrombus, non mobile.", ("thrombus", "lv", None, "present")),
])
def test_a_non_prefix_negates_only_its_own_word(sentence: str, fact: tuple) -> None:
    assert fact in facts(sentence)


@pytest.mark.parametrize(("sentence", "fact"), [
    ("Non-dilated LV.", ("lv_size", None, "normal", "present")),
    ("Non LV thrombus.", ("thrombus", "lv", None, "absent")),
])
def test_a_non_joined_to_a_finding_still_negates_it(sentence: str, fact: tuple) -> None:
    assert fact in facts(sentence)


def test_a_count_of_criteria_is_no_measurement() -> None:
    sentence = "Normal E/e' and TR velocity: diastolic function indeterminate (2 of 4 criteria)."
    assert not [f for f in extract_facts(sentence) if f.concept == "measurement"]
    assert [f.value for f in extract_facts("TR velocity: 2.9 m/s.")] == [2.9]


@pytest.mark.parametrize(("impression", "findings", "verdict"), [
    ("No severe aortic stenosis.", "Moderate aortic stenosis, mean gradient 30 mmHg.", "supported"),
    ("No severe aortic stenosis.", "Severe aortic stenosis, mean gradient 52 mmHg.", "contradicted"),
    ("No apical aneurysm.", "The apical segments are hypokinetic.", "supported"),
    ("No apical aneurysm.", "Apical aneurysm with a wide neck.", "contradicted"),
])
def test_a_denied_grade_denies_that_grade_and_worse(impression: str, findings: str, verdict: str) -> None:
    assert verdicts(impression, findings) == [verdict]


def test_a_grade_beside_strain_does_not_reach_the_ventricle() -> None:
    sentence = "Normal LV systolic function (EF 70 %) with reduced GLS (-14 %)."
    assert ("lv_systolic_function", None, "reduced", "present") not in facts(sentence)
    assert verdicts(sentence, "Normal LV systolic function, EF 70 %.") == ["supported"]
    # the chamber's own grade, written before the index, still binds to the chamber
    assert ("rv_systolic_function", None, "moderately_reduced", "present") in facts(
        "RV function moderately impaired (FAC 28 %).")


def test_a_statement_only_about_strain_is_not_checked() -> None:
    assert verdicts("Reduced GLS (-11 %).", "Normal LV size and function.") == ["not_checked"]


@pytest.mark.parametrize("plan", [
    "For discussion of transcatheter aortic valve intervention at the VAD MDT.",
    "Discuss at the heart team regarding TAVI.",
    "Severe aortic stenosis; for heart team review.",
])
def test_a_case_sent_for_discussion_is_a_plan(plan: str) -> None:
    findings = "Severe aortic stenosis, mean gradient 48 mmHg, AVA 0.7 cm2."
    assert verdicts(plan, findings) == (["supported"] if plan.startswith("Severe") else ["not_factual"])


@pytest.mark.parametrize(("impression", "findings"), [
    ("Normal IVC.", "IVC diameter: not recorded on this system; see images."),
    ("Mildly dilated LA.", "LA volume index (biplane area-length) pending, see worksheet."),
])
def test_a_measurement_named_without_a_value_speaks_of_what_it_grades(impression: str, findings: str) -> None:
    assert verdicts(impression, findings) == ["not_checked"]


def test_a_grade_whose_measurements_the_study_never_names_stays_unsupported() -> None:
    silent = "Normal LV size and function. No pericardial effusion."
    assert verdicts("Mildly dilated LA.", silent) == ["unsupported"]


def test_two_dimensions_are_a_lesion_size_not_a_measurement() -> None:
    sentence = "Perivalvular (aortic root) abscess, 15 x 9 mm."
    assert not [f for f in extract_facts(sentence) if f.concept == "measurement"]
    assert verdicts(sentence, "Perivalvular abscess, 15 x 9 mm, beside the non-coronary sinus. "
                              "Aortic root 3.6 cm.") == ["supported"]


def test_a_negated_finding_keeps_the_valve_of_its_clause() -> None:
    findings = "Sclerotic aortic valve, no aortic stenosis. Rheumatic mitral stenosis, MVA 1.0 cm2."
    assert verdicts("Aortic sclerosis without stenosis.", findings) == ["supported"]


def test_normal_leaflets_deny_no_regurgitation() -> None:
    findings = "The mitral leaflets are thin and mobile, with mild MR."
    assert verdicts("The mitral leaflets are normal.", findings) == ["supported"]


def test_a_spaced_dash_ends_a_negation() -> None:
    findings = "Echolucent space without colour flow into it - appearances of a perivalvular abscess."
    assert verdicts("Perivalvular abscess.", findings) == ["supported"]


@pytest.mark.parametrize(("impression", "findings", "verdict"), [
    ("No right-to-left shunt.", "Bubble study: no bubbles in the left heart at rest or with Valsalva.",
     "supported"),
    ("No right-to-left shunt.", "Bubble study: bubbles crossed into the left atrium within 3 cycles.",
     "contradicted"),
    ("No bubble study performed, so a PFO has not been assessed.", "Agitated saline: not performed.",
     "not_checked"),
])
def test_bubble_studies_in_prose(impression: str, findings: str, verdict: str) -> None:
    assert verdicts(impression, findings) == [verdict]


def test_a_mass_in_grams_is_the_lv_mass() -> None:
    findings = "LVIDd 5.7 cm; IVSd 1.1 cm; LVPWd 1.0 cm; mass 241 g; LVMI 118 g/m2. No pericardial effusion."
    study = Study.model_validate({"study_id": "S1", "findings_text": findings})
    assert not check("Normal LV size.", study).omissions
    assert ("mass", "la", None, "present") in facts("Mass 24 mm in the LA.")


def test_a_mean_diastolic_gradient_is_mitral() -> None:
    findings = "Severe MAC. Mean diastolic gradient 7 mmHg at a heart rate of 72 bpm. MVA 1.0 cm2."
    assert verdicts("Functional mitral stenosis, mean gradient 7 mmHg.", findings) == ["supported"]


def test_lv_geometry_is_graded_from_the_lv_dimensions() -> None:
    findings = "LVIDd 5.7 cm, IVSd 1.1 cm, LVPWd 1.0 cm."
    assert verdicts("Eccentric LV hypertrophy.", findings) == ["not_checked"]


def test_a_chamber_described_in_words_no_rule_grades_is_not_checked() -> None:
    assert verdicts("Mild LA enlargement.", "The left atrium looks bulky in all views.") == ["not_checked"]


def test_a_chamber_whose_description_was_read_leaves_an_invented_grade_unsupported() -> None:
    findings = "Normal left ventricular size and function, EF 60%. Normal valves."
    assert verdicts("Mild LV hypertrophy.", findings) == ["unsupported"]
    assert verdicts("Mild LA enlargement.", "Normal LV. No pericardial effusion.") == ["unsupported"]


@pytest.mark.parametrize(("sentence", "field", "value"), [
    ("Mean gradient 18 -> 28 mmHg.", "av_mean_gradient", 28.0),
    ("The IVC has fallen from 2.4 cm to 1.4 cm.", "ivc_diameter", 1.4),
    ("LVEF improved from 35% to 50%.", "lvef", 50.0),
    ("EF 30 → 45 %.", "lvef", 45.0),
])
def test_the_value_now_is_the_one_after_an_arrow_or_from_to(sentence: str, field: str, value: float) -> None:
    values = [(f.location, f.value) for f in extract_facts(sentence) if f.concept == "measurement"]
    assert values == [(field, value)]


def test_a_range_and_a_more_than_are_still_read() -> None:
    assert [(f.value, f.value_max) for f in extract_facts("LVEF 55 to 60%.")] == [(55.0, 60.0)]
    more = [f for f in extract_facts("RVSP > 50 mmHg.") if f.concept == "measurement"]
    assert [f.value for f in more] == [50.0] and more[0].value_max is not None  # at least 50


def test_a_stenosis_denied_beside_mac_is_mitral() -> None:
    findings = "Moderate posterior MAC, mean mitral gradient 3 mmHg. Moderate aortic stenosis, Vmax 3.5 m/s."
    assert verdicts("Moderate MAC without stenosis.", findings) == ["supported"]


def test_severe_lvh_by_the_mass_index_is_supported() -> None:
    findings = "IVSd 1.4 cm, LVIDd 5.0 cm, LVPWd 1.3 cm."
    study = Study.model_validate({"study_id": "S1", "findings_text": findings,
                                  "measurements": {"ivsd": 1.4, "lvidd": 5.0, "lvpwd": 1.3},
                                  "patient": {"sex": "male", "bsa_m2": 1.82}})
    assert [s.verdict for s in check("Severe concentric LV hypertrophy.", study).statements] == ["supported"]
    thin = study.model_copy(update={"measurements": study.measurements.model_copy(
        update={"ivsd": 1.0, "lvpwd": 0.9, "lvidd": 4.8})})
    assert [s.verdict for s in check("Severe concentric LV hypertrophy.", thin).statements] == [
        "contradicted"]
