"""Errors injected by the checker benchmark that the rules must catch: one clinical sentence each."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.schemas import Study


def verdicts(impression: str, findings: str) -> list[str]:
    study = Study.model_validate({"study_id": "S1", "findings_text": findings})
    return [x.verdict for x in check(impression, study).statements]


@pytest.mark.parametrize(("impression", "findings", "verdict"), [
    ("No trace AR.", "Aortic valve: trileaflet, normal opening, trace central AR.", "contradicted"),
    ("No trivial pericardial effusion.", "Pericardium: trivial effusion.", "contradicted"),
    ("No aortic sclerosis.", "Aortic sclerosis without significant stenosis (Vmax 1.9 m/s).", "contradicted"),
    ("No trace AR.", "Aortic valve normal. Mild AR.", "contradicted"),
    ("No aortic regurgitation.", "Trace central AR.", "supported"),
    ("No trace AR.", "Aortic valve normal. No AR.", "supported"),
])
def test_a_denied_grade_below_significance_is_denied_as_named(impression: str, findings: str,
                                                              verdict: str) -> None:
    assert verdicts(impression, findings) == [verdict]


@pytest.mark.parametrize("findings", [
    "The patient was in atrial fibrillation. The left atrium is severely dilated.",
    "Pacing lead in RA and RV. LAVi 52 ml/m2, severely dilated LA.",
    "Many bubbles appear in the LA after RA opacification. LA mildly dilated.",
    "RA: Not well seen. LA: Mildly dilated.",
])
def test_a_chamber_named_for_something_else_leaves_a_grade_of_it_unsupported(findings: str) -> None:
    assert verdicts("Mildly dilated right atrium.", findings) == ["unsupported"]


def test_a_chamber_described_in_words_the_rules_cannot_read_is_still_not_checked() -> None:
    assert verdicts("Mildly dilated right atrium.", "The right atrium looks bulky.") == ["not_checked"]


PRIOR = ("Comparison with prior study: echo 14 August 2025: LVIDd 5.9 cm, mild MR, AVA 1.1 cm2.\n"
         "LV dilated, LVIDd 6.8 cm. MR moderate (vena contracta 0.5 cm). AVA 0.8 cm2.")


@pytest.mark.parametrize(("impression", "verdict"), [
    ("LV dilated since the prior study (LVIDd 6.8 cm, previously 5.9 cm), with mild MR.", "contradicted"),
    ("LV larger than on the prior study, LVIDd 5.9 cm.", "contradicted"),
    ("Moderate MR (mild on the prior study).", "supported"),
    ("Moderate MR, previously mild.", "supported"),
    ("LVIDd 6.8 cm, previously 5.9 cm.", "supported"),
])
def test_a_claim_about_now_in_a_comparison_is_judged_by_this_study(impression: str, verdict: str) -> None:
    assert verdicts(impression, PRIOR) == [verdict]


@pytest.mark.parametrize(("impression", "verdict"), [
    ("Normal left and right ventricular size and function.", "contradicted"),
    ("Left and right ventricles are normal in size.", "contradicted"),
    ("Normal left ventricular size and function.", "supported"),
])
def test_left_and_right_named_together_are_both_graded(impression: str, verdict: str) -> None:
    findings = "The left ventricle is normal in size and function. The right ventricle is severely dilated."
    assert verdicts(impression, findings) == [verdict]


@pytest.mark.parametrize(("impression", "verdict"), [
    ("Severe RV dilatation.", "contradicted"),
    ("Mild RV dilatation.", "supported"),
])
def test_a_grade_of_another_direction_does_not_grade_the_finding_before_it(impression: str,
                                                                          verdict: str) -> None:
    # "hypertrophied and mildly dilated": the RV is mildly dilated; "mildly" is no LVH grade
    findings = "The RV is hypertrophied and mildly dilated, with preserved longitudinal function."
    assert verdicts(impression, findings) == [verdict]


@pytest.mark.parametrize(("impression", "verdict"), [
    ("Large pericardial effusion.", "contradicted"),
    ("Small pericardial effusion.", "supported"),
])
def test_a_size_in_brackets_after_a_grade_leaves_it_on_its_finding(impression: str, verdict: str) -> None:
    assert verdicts(impression, "Small (5 mm) posterior pericardial effusion.") == [verdict]


def test_a_velocity_of_the_descending_aorta_is_no_aortic_valve_velocity() -> None:
    findings = "Aortic valve: trileaflet, Vmax 2.1 m/s. Descending aorta peak velocity 1.6 m/s."
    assert verdicts("Descending aortic velocity 2.2 m/s.", findings) == ["not_checked"]
    assert verdicts("AV Vmax 1.6 m/s.", findings) == ["contradicted"]


def test_a_velocity_named_after_the_aortic_valve_is_the_valves() -> None:
    findings = "Mild TR, aortic valve peak velocity 2.0 m/s. TR velocity 2.6 m/s."
    assert verdicts("AV Vmax 2.6 m/s.", findings) == ["contradicted"]


@pytest.mark.parametrize("findings", [
    "TV: mobile echodensity on the anterior leaflet, c/w vegetation. MV/AV: thin, no vegetation seen.",
    "Tricuspid vegetation. Mitral and aortic valves thin and mobile, no vegetations seen on either.",
])
def test_a_negation_after_two_valves_named_together_covers_both(findings: str) -> None:
    assert verdicts("Mitral valve vegetation.", findings) == ["contradicted"]
    assert verdicts("Tricuspid valve vegetation.", findings) == ["supported"]


@pytest.mark.parametrize(("impression", "verdict"), [
    ("TAPSE has improved from 19 to 18 mm.", "contradicted"),
    ("RVSP 60 -> 28 mmHg.", "contradicted"),
    ("TAPSE has improved from 14 to 18 mm.", "supported"),
    ("RVSP 48 -> 28 mmHg.", "supported"),
    ("RVSP 25 to 30 mmHg.", "supported"),  # a range, no earlier value
])
def test_the_earlier_value_of_a_change_is_the_prior_studys(impression: str, verdict: str) -> None:
    findings = ("Comparison with prior study: echo 12 May 2026: TAPSE 14 mm, RVSP 48 mmHg.\n"
                "TAPSE 18 mm. RVSP 28 mmHg.")
    assert verdicts(impression, findings) == [verdict]


def test_an_aneurysm_of_the_mid_ascending_aorta_is_the_aortas() -> None:
    findings = "Mid ascending aorta 53 mm, aneurysmal. LV: normal size, no RWMA."
    assert verdicts("Aneurysm of the mid ascending aorta (53 mm).", findings) == ["supported"]
    assert verdicts("No aneurysm of the mid ascending aorta.", findings) == ["contradicted"]


def test_an_estimate_said_to_be_probably_low_does_not_hedge_the_finding_after_it() -> None:
    findings = "Severe TR, vena contracta 0.9 cm. RVSP 40 mmHg (likely underestimated given severe TR)."
    assert verdicts("RVSP 40 mmHg, probably underestimated in mild TR.", findings) == ["contradicted"]
    assert verdicts("RVSP 40 mmHg, probably underestimated in severe TR.", findings) == ["supported"]


@pytest.mark.parametrize(("impression", "verdict"), [
    ("Recovery of RV function: LVEF 55 % (prior 44 %).", "unsupported"),
    ("Recovery of LV function: LVEF 55 % (prior 44 %).", "supported"),
    ("LV function has recovered, LVEF 55 %; normal RV.", "supported"),
])
def test_a_recovery_needs_a_prior_that_describes_what_recovered(impression: str, verdict: str) -> None:
    findings = ("Comparison with prior study: echo 26 August 2026: LVEF 44 %, LVIDd 5.6 cm.\n"
                "LV normal size, LVEF 55 %. RV normal size and function.")
    assert verdicts(impression, findings) == [verdict]


@pytest.mark.parametrize(("impression", "verdict"), [
    ("Mild pulmonary regurgitation.", "contradicted"),
    ("Severe pulmonary regurgitation.", "supported"),
])
def test_a_grade_alone_after_a_description_grades_what_it_describes(impression: str, verdict: str) -> None:
    findings = ("Pulmonary regurgitation: wide jet filling the RVOT from the annulus, diastolic flow "
                "reversal in both branch pulmonary arteries. Severe. No residual VSD.")
    assert verdicts(impression, findings) == [verdict]


@pytest.mark.parametrize(("impression", "verdict"), [
    ("The large pericardial effusion seen at baseline has resolved.", "contradicted"),
    ("The small pericardial effusion seen at baseline has resolved.", "supported"),
    ("The pericardial effusion seen at baseline has resolved.", "supported"),
])
def test_the_grade_of_a_resolved_finding_is_the_prior_studys(impression: str, verdict: str) -> None:
    findings = ("Comparison with prior study: baseline echo 12 May 2026: small (6 mm) pericardial effusion.\n"
                "No pericardial effusion.")
    assert verdicts(impression, findings) == [verdict]
