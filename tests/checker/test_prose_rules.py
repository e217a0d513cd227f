"""Checker rules for prose it was not written against: one clinical sentence per case.

Each case is (findings text, impression statement, expected verdict): claims no rule verifies
(``not_checked``), comparison with a prior study written inside the findings, numbers bound to
their clause and subject, the words real reports use, and clinical syntheses.
"""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.schemas import Study


def verdict(findings: str, statement: str, **kw: object) -> str:
    study = Study.model_validate({"study_id": "S1", "findings_text": findings, **kw})
    return check(statement, study).statements[0].verdict


NORMAL = "Normal left ventricular size and systolic function. No pericardial effusion."

NOT_CHECKED = [
    (NORMAL, "Successful cardioversion to sinus rhythm.", "not_checked"),
    (NORMAL, "Excellent functional capacity.", "not_checked"),
    (NORMAL, "Hypertensive blood pressure response to exercise.", "not_checked"),
    (NORMAL, "Anatomy appears favorable for surgical repair.", "not_checked"),
    (NORMAL, "Innocent flow murmur likely.", "not_checked"),
    (NORMAL, "Technically limited study.", "not_factual"),
    (NORMAL, "Findings discussed with the referring team.", "not_factual"),
    (NORMAL, "Moderate aortic stenosis.", "unsupported"),
    (NORMAL, "Severely reduced left ventricular systolic function.", "contradicted"),
]


@pytest.mark.parametrize(("findings", "statement", "expected"), NOT_CHECKED)
def test_claims_no_rule_verifies_are_not_checked(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement) == expected


def test_not_checked_is_counted_and_never_a_flag() -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": NORMAL})
    result = check("1. Successful cardioversion to sinus rhythm.\n2. No pericardial effusion.", study)
    assert result.summary["not_checked"] == 1
    assert not result.flagged
    assert "cardioversion" in result.statements[0].reason


PRIOR = [
    ("Mitral regurgitation is now mild (previously moderate).", "Mitral regurgitation reduced to mild.",
     "supported"),
    ("Mitral regurgitation is now mild (previously moderate).", "Moderate mitral regurgitation.",
     "contradicted"),
    ("LVEF 60%, previously 50%.", "LVEF 60%.", "supported"),
    ("LVEF 60%, previously 50%.", "LVEF 50%.", "contradicted"),
    ("LVEF 40-45%, improved from 25% one year ago.", "Improved LV systolic function, EF now 40-45%.",
     "supported"),
    ("Small pericardial effusion (moderate previously).",
     "Small pericardial effusion, decreased in size compared with the prior study.", "supported"),
    ("No pericardial effusion (small effusion previously).",
     "Resolution of the previously noted pericardial effusion.", "supported"),
    ("Severe mitral regurgitation, progressed from moderate on the study of June 2023.",
     "Progression of mitral regurgitation from moderate to severe.", "supported"),
    ("The previously seen apical thrombus has resolved.", "Resolved apical LV thrombus.", "supported"),
    ("Aortic valve: previously described vegetation no longer seen.", "No residual vegetation.", "supported"),
    ("Peak velocity 4.3 m/s, increased from 3.6 m/s one year ago. LVEF 60%, unchanged.",
     "Preserved LV systolic function, unchanged.", "supported"),
    ("Normal LV size and function. Compared with the prior study of 2022, there is no significant change.",
     "Normal study, unchanged from 2022.", "supported"),
    # no prior to compare with: the comparison is not checked (LV function, said of now, holds)
    ("Normal LV size and function.", "LV function unchanged from the prior study.", "not_checked"),
]


@pytest.mark.parametrize(("findings", "statement", "expected"), PRIOR)
def test_prior_comparison_inside_the_findings(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement) == expected


SYNTHESES = [
    ("LAVI 45 mL/m2. Elevated filling pressures. Normal LV systolic function.",
     "Grade II diastolic dysfunction with elevated filling pressures.", "supported"),
    ("Normal LV systolic function. Normal diastolic function.", "Grade II diastolic dysfunction.",
     "contradicted"),
    ("Large pericardial effusion. Early diastolic RV free wall collapse. RA inversion in systole.",
     "Large pericardial effusion with tamponade physiology.", "supported"),
    ("Large pericardial effusion. No chamber collapse.",
     "Large pericardial effusion with tamponade physiology.", "unsupported"),
    ("IVC 2.5 cm. Normal RV.", "Plethoric IVC.", "supported"),
    ("IVC plethoric. Normal RV.", "Plethoric IVC.", "supported"),
    ("IVC 1.5 cm with normal collapse.", "Plethoric IVC.", "contradicted"),
    ("Bioprosthetic aortic valve with normal leaflet motion. Mean gradient 12 mmHg.",
     "Normally functioning aortic bioprosthesis.", "supported"),
    ("Mechanical mitral prosthesis with prosthetic valve thrombosis.",
     "Normally functioning mitral prosthesis.", "contradicted"),
]


@pytest.mark.parametrize(("findings", "statement", "expected"), SYNTHESES)
def test_clinical_syntheses(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement) == expected


WORDS = [
    ("There is mild bileaflet mitral valve prolapse with mild regurgitation. Mild aortic regurgitation.",
     "Mild mitral regurgitation.", "supported"),
    ("There is mild bileaflet mitral valve prolapse with mild regurgitation. Mild aortic regurgitation.",
     "Severe mitral regurgitation.", "contradicted"),
    ("Mitral valve: Anterior leaflet prolapse (A2)\nRegurgitation: Moderate, posteriorly directed",
     "Anterior mitral leaflet prolapse with moderate mitral regurgitation.", "supported"),
    ("With agitated saline there is no passage of bubbles across the interatrial septum.",
     "No interatrial shunt on saline contrast.", "supported"),
    ("Bubble study: neg at rest and w/ Valsalva.", "Neg bubble study, no intracardiac shunt.", "supported"),
    ("Trivial tricuspid regurgitation. Insufficient TR to estimate PASP. Trivial MR.",
     "No significant valvular disease.", "supported"),
    ("No vegetation. No abscess.", "TEE recommended to assess for abscess.", "not_factual"),
    # "normal flow" qualifies the stenosis; it does not call the valve normal
    ("AV Vmax 4.1 m/s, mean gradient 41 mmHg, AVA 0.8 cm2. SVi 38 mL/m2.",
     "Severe aortic stenosis, normal flow (AV Vmax 4.1 m/s).", "supported"),
    ("AV Vmax 2.1 m/s, mean gradient 8 mmHg.", "Severe aortic stenosis, normal flow.", "contradicted"),
    ("Normal EF. Elevated filling pressures.", "Gr II DD w/ elevated filling pressures.", "supported"),
    ("Posterior mitral leaflet prolapse (P2). Severe eccentric, anteriorly directed mitral regurgitation.",
     "Severe degenerative mitral regurgitation due to P2 prolapse.", "supported"),
    ("EF normal, mitral regurgitation trace.", "No mitral regurgitation.", "supported"),
    ("The left atrium is severely dilated and the appendage is not well seen.",
     "Severely dilated left atrium.", "supported"),
    ("Asymmetric septal hypertrophy. SAM (+), LVOT gradient 64 mmHg at rest.",
     "Resting LVOTO, peak gradient 64 mmHg.", "supported"),
    ("Asymmetric septal hypertrophy. LVOT gradient 12 mmHg at rest.", "Resting LVOTO.", "unsupported"),
    ("RV sev dilated, sev reduced fxn. McConnell sign.",
     "Acute RV pressure overload: sev RV dilation + dysfxn, McConnell sign.", "supported"),
    ("RV sev dilated, mildly reduced fxn.", "Sev RV dilation and dysfxn.", "contradicted"),
    ("Hyperdynamic LV, EF 75%. Normal dimensions. Normal valves.", "Structurally normal heart.", "supported"),
    ("Hyperdynamic LV, EF 75%. Moderate mitral regurgitation.", "Structurally normal heart.", "contradicted"),
    ("Posterior loculated pericardial collection with diastolic compression of the left atrium.",
     "Loculated pericardial collection with left atrial compression, in keeping with regional tamponade.",
     "supported"),
    ("The right atrium contains a mobile mass that prolapses through the tricuspid valve, consistent with "
     "thrombus in transit. Normal mitral valve.",
     "Mobile right atrial thrombus in transit prolapsing across the tricuspid valve.", "supported"),
    ("Pacemaker lead in the RA with a 0.8 cm mobile vegetation. Valves: no vegetation.",
     "No valvular vegetation.", "supported"),
    ("Mitral valve: 0.8 cm mobile vegetation on the anterior leaflet.", "No valvular vegetation.",
     "contradicted"),
    # a change is no value: the gradient is 44, it rose by 18
    ("Severe aortic stenosis, mean gradient 44 mmHg.", "Increase in mean gradient of 18 mmHg with exercise.",
     "not_checked"),
    ("Severe aortic stenosis, mean gradient 44 mmHg.", "Mean gradient 18 mmHg.", "contradicted"),
    # a ratio names no chamber: "reduced function" is the RV's, the subject of its sentence
    ("RV sev dilated, RV/LV >1, sev reduced fxn. LV small, EF 65%.",
     "Severely reduced RV systolic function.", "supported"),
    ("RV sev dilated, RV/LV >1, sev reduced fxn. LV small, EF 65%.", "Nl LV systolic fxn.", "supported"),
    # a phrase naming fixed facts takes no grade: the grade is the atrium's
    ("The left atrium is moderately dilated with spontaneous echo contrast.",
     "Spontaneous echo contrast in a moderately dilated left atrium.", "supported"),
    ("The left atrium is mildly dilated with spontaneous echo contrast.",
     "Spontaneous echo contrast in a severely dilated left atrium.", "contradicted"),
    ("The aortic valve vegetation seen previously (1.2 cm) now measures 0.4 cm.",
     "Smaller residual aortic valve vegetation (0.4 cm, previously 1.2 cm).", "supported"),
]


@pytest.mark.parametrize(("findings", "statement", "expected"), WORDS)
def test_words_real_reports_use(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement) == expected


STRESS_FINDINGS = ("Normal LV size. LVEF 55%. Normal regional wall motion at rest.\n"
                   "New hypokinesis of the apical anterior wall and apex. LV cavity dilates at peak.\n"
                   "Wall motion returns to baseline.")
STRESS = [
    (STRESS_FINDINGS, "Normal resting LV systolic function, no resting wall motion abnormality.",
     "supported"),
    (STRESS_FINDINGS, "Severely reduced LV systolic function at rest.", "contradicted"),
    (STRESS_FINDINGS, "New apical anterior hypokinesis at peak stress.", "supported"),
    # the resting findings do not refute a claim about peak stress; nothing at stress states it
    ("Normal LV size and function. No regional wall motion abnormality.",
     "Hypokinesis of the apex at peak stress.", "not_checked"),
    ("Normal LV size and function at rest. No new wall motion abnormality at peak stress.",
     "Hypokinesis of the apex at peak stress.", "contradicted"),
]


@pytest.mark.parametrize(("findings", "statement", "expected"), STRESS)
def test_stress_images_are_apart_from_rest(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement, study_type="stress") == expected


def test_stress_phase_findings_are_no_omission() -> None:
    text = "LVEF 60%. Moderate mitral regurgitation.\nMitral regurgitation becomes severe."
    study = Study.model_validate({"study_id": "S1", "study_type": "stress", "findings_text": text})
    assert check("Moderate mitral regurgitation at rest.", study).omissions == []


@pytest.mark.parametrize(("impression", "omitted"), [
    ("Mobile right atrial thrombus in transit.", []),  # the mass, named for what it is
    ("Dilated right ventricle with reduced systolic function.", ["intracardiac mass"]),
])
def test_a_mass_named_thrombus_is_stated(impression: str, omitted: list[str]) -> None:
    text = ("The right atrium contains a large mobile mass, consistent with thrombus in transit. "
            "The right ventricle is dilated with reduced function.")
    study = Study.model_validate({"study_id": "S1", "findings_text": text})
    found = [o.finding for o in check(impression, study).omissions]
    assert [f for f in found if f == "intracardiac mass"] == omitted
