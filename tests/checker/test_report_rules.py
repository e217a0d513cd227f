"""Checker rules for whole reports read as hospitals write them: one clinical sentence per case.

Each case is (findings text, impression statement, expected verdict): a structurally normal valve
says nothing of its regurgitation, a plan is no finding, an indexed value is not the raw one.
"""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.schemas import Study


def verdict(findings: str, statement: str, **kw: object) -> str:
    study = Study.model_validate({"study_id": "S1", "findings_text": findings, **kw})
    return check(statement, study).statements[0].verdict


STRUCTURE = [
    # structure is no word on the jet: the grade comes from the regurgitation sentence
    ("Mitral valve: leaflets structurally normal with apical tethering. Moderate functional MR.",
     "Moderate functional mitral regurgitation.", "supported"),
    ("The aortic valve is structurally normal. Severe aortic regurgitation.", "Severe aortic regurgitation.",
     "supported"),
    ("Mitral valve: structurally normal.", "Moderate mitral regurgitation.", "unsupported"),
    ("Tricuspid valve: normal leaflets. Mild tricuspid regurgitation.", "Mild tricuspid regurgitation.",
     "supported"),
    ("Mitral valve: structurally normal. Trace MR.", "Structurally normal mitral valve.", "supported"),
    ("Rheumatic mitral valve with thickened leaflets. Mild MR.", "Structurally normal mitral valve.",
     "contradicted"),
    ("Rheumatic mitral valve. Mild MR.", "Structurally normal valves.", "contradicted"),
    # a valve called normal, without "structurally", still has no significant regurgitation
    ("Mitral valve: normal.", "Moderate mitral regurgitation.", "contradicted"),
]


@pytest.mark.parametrize(("findings", "statement", "expected"), STRUCTURE)
def test_a_structurally_normal_valve_says_nothing_of_its_regurgitation(
        findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement) == expected


FINDINGS = ("Severe aortic stenosis, mean gradient 45 mmHg. Moderate mitral regurgitation. "
            "No left ventricular thrombus.")
PLANS = [
    (FINDINGS, "Suggest repeat echo in 6 months.", "not_factual"),
    (FINDINGS, "Clinical correlation recommended.", "not_factual"),
    (FINDINGS, "Consider TEE to exclude left atrial appendage thrombus.", "not_factual"),
    (FINDINGS, "CT angiography of the aorta advised to confirm the dimension.", "not_factual"),
    (FINDINGS, "Follow-up echocardiogram in one year.", "not_factual"),
    (FINDINGS, "Cardiac surgery has been notified.", "not_factual"),
    (FINDINGS, "Discussed with the team: reduce the dose, consider repeat imaging tomorrow.", "not_factual"),
    (FINDINGS, "We will see him again after the angiogram.", "not_factual"),
    (FINDINGS, "Repeat imaging to compare with the prior study.", "not_factual"),
    # the finding before the plan is still judged
    (FINDINGS, "Severe aortic stenosis; referral for valve replacement recommended.", "supported"),
    (FINDINGS, "Mild aortic stenosis; referral for valve replacement recommended.", "contradicted"),
    (FINDINGS, "No left ventricular thrombus; TEE would be needed to exclude a small one.", "supported"),
    # "suggest" that reads the findings is no plan
    (FINDINGS, "Findings suggest severe aortic stenosis.", "supported"),
]


@pytest.mark.parametrize(("findings", "statement", "expected"), PLANS)
def test_a_plan_or_recommendation_is_no_finding(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement) == expected


INDEXED = [
    ("End-systolic dimension 4.0 cm (LVESD index 1.9 cm/m2). Normal LV function.", "LVESD 1.9 cm.",
     "contradicted"),
    ("End-systolic dimension 4.0 cm (LVESD index 1.9 cm/m2). Normal LV function.", "LVESD 4.0 cm.",
     "supported"),
    ("Ascending aorta dilated at 4.7 cm (ascending aorta index 2.2 cm/m2).", "Ascending aorta 4.7 cm.",
     "supported"),
    ("Ascending aorta dilated at 4.7 cm (ascending aorta index 2.2 cm/m2).", "Ascending aorta 2.2 cm.",
     "contradicted"),
    ("LVIDd 5.8 cm (2.9 cm/m2).", "LVIDd 5.8 cm.", "supported"),
    ("LA volume index 40 mL/m2.", "LAVI 40 mL/m2.", "supported"),
    ("LAVI 40 mL/m2.", "LAVI 28 mL/m2.", "contradicted"),
]


@pytest.mark.parametrize(("findings", "statement", "expected"), INDEXED)
def test_an_indexed_value_is_not_the_raw_one(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement) == expected


STAGES = [
    # every sentence of a line labelled with a stress stage is about that stage, not about rest
    ("Resting images: normal LV size and function, no RWMA.\nPost exercise images: mild hypokinesis of "
     "the apical lateral segment only.",
     "Normal resting LV function without regional wall motion abnormality.", "supported"),
    ("Rest: normal wall motion.\nPeak stress: LV cavity smaller. Hypokinesis of the apex.",
     "No regional wall motion abnormality at rest.", "supported"),
    ("Rest: hypokinesis of the apex.\nPeak stress: all segments hyperdynamic.",
     "No regional wall motion abnormality at rest.", "contradicted"),
]


@pytest.mark.parametrize(("findings", "statement", "expected"), STAGES)
def test_a_stage_label_puts_its_line_at_that_stage(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement, study_type="stress") == expected


PROSTHESIS = ("Mechanical bileaflet mitral prosthesis. One leaflet shows reduced excursion with a 0.9 cm "
              "mobile echodensity on the atrial aspect consistent with thrombus. Mean gradient 11 mmHg.")
TEE = [
    # a thrombus on a prosthesis is prosthetic valve thrombosis (ASE 2009), at the prosthesis's site
    (PROSTHESIS, "Mechanical mitral prosthesis thrombosis.", "supported"),
    (PROSTHESIS, "Mechanical aortic prosthesis thrombosis.", "unsupported"),
    ("Mechanical mitral prosthesis with normal leaflet motion. Apical LV thrombus.",
     "Mitral prosthesis thrombosis.", "contradicted"),
    ("Mechanical aortic valve, mean gradient 12 mmHg, normal leaflet excursion.",
     "Normally functioning mechanical aortic valve.", "supported"),
    ("Self-expanding transcatheter valve in aortic position, well seated, normal leaflet mobility.",
     "Normally functioning transcatheter aortic valve.", "supported"),
    ("Well-seated mitral bioprosthesis with normal gradients.", "Normally functioning mitral bioprosthesis.",
     "supported"),
    # aortic atheroma grade: simple (grades I-III) or complex (>= 4 mm, mobile, ulcerated; IV-V)
    ("Descending aorta: grade IV atheroma with a mobile component.", "Complex aortic atheroma.", "supported"),
    ("Descending aorta: grade IV atheroma with a mobile component.", "Mild aortic atheroma.", "contradicted"),
    ("Mild layered atheroma of the descending aorta.", "Simple aortic atheroma.", "supported"),
    ("Mild layered atheroma of the descending aorta.", "Complex atheroma of the arch.", "contradicted"),
    ("Normal LV. Mild MR.", "Complex aortic atheroma.", "unsupported"),
    # the left atrial appendage, with and without thrombus
    ("Left atrial appendage free of thrombus; emptying velocity 55 cm/s.", "No LAA thrombus.", "supported"),
    ("Thrombus in the left atrial appendage.", "No LAA thrombus.", "contradicted"),
]


@pytest.mark.parametrize(("findings", "statement", "expected"), TEE)
def test_tee_syntheses(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement, study_type="TEE") == expected


@pytest.mark.parametrize(("findings", "impression", "omitted"), [
    # a summary term covers the finding: prosthesis thrombosis states the thrombus on it
    (PROSTHESIS, "Mechanical mitral prosthesis thrombosis.", []),
    # "the atrial aspect" of a leaflet is no atrium: no LA or right heart thrombus to name
    (PROSTHESIS, "Mitral prosthesis with reduced leaflet excursion.", ["intracardiac thrombus"]),
    # a thrombus that was excluded is not an omitted thrombus
    ("Left atrial appendage without thrombus. Normal LV.", "Normal LV.", []),
])
def test_omissions_read_the_finding_in_other_words(findings: str, impression: str,
                                                   omitted: list[str]) -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": findings, "study_type": "TEE"})
    assert [o.finding for o in check(impression, study).omissions] == omitted


@pytest.mark.parametrize(("findings", "impression", "omitted"), [
    # native cut-offs on a prosthesis's gradient give no 'severe mitral stenosis' to name
    ("Bioprosthetic mitral valve with thickened leaflets.", "Bioprosthetic mitral valve stenosis.", []),
    ("Thickened rheumatic mitral valve.", "Rheumatic mitral valve.", ["severe mitral stenosis"]),
])
def test_a_prosthesis_gradient_is_no_native_stenosis_to_name(findings: str, impression: str,
                                                             omitted: list[str]) -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": findings,
                                  "measurements": {"mv_mean_gradient": 13}})
    assert [o.finding for o in check(impression, study).omissions] == omitted


NORMAL_PROSTHESIS = ("Mitral valve: bileaflet mechanical prosthesis, leaflets open normally. "
                     "No vegetation or thrombus.")
DENIED = [
    # "no prosthetic valve thrombus" denies the thrombus, never the prosthesis
    (NORMAL_PROSTHESIS, "No prosthetic valve thrombus or obstruction evident.", "supported"),
    (NORMAL_PROSTHESIS, "No prosthetic valve dysfunction.", "supported"),
    (NORMAL_PROSTHESIS, "No echocardiographic evidence of prosthetic valve endocarditis.", "supported"),
    ("Mechanical mitral prosthesis with a large thrombus on it and restricted leaflet motion.",
     "No prosthetic valve thrombus.", "contradicted"),
    ("Rheumatic mitral valve. Mild MR.", "No mitral valve prolapse.", "supported"),
    ("Posterior mitral leaflet prolapse (P2). Mild MR.", "No mitral valve prolapse.", "contradicted"),
    # a value of the prior study is no value of this one
    ("Aortic valve area 1.1 cm2, mean gradient 29 mmHg. Last year the mean gradient was 15 mmHg.",
     "Aortic mean gradient 15 mmHg.", "contradicted"),
]


@pytest.mark.parametrize(("findings", "statement", "expected"), DENIED)
def test_a_denied_grade_and_a_prior_value(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement) == expected


READINGS = [
    # "free wall" is the RV's, never a torrential grade or the LV's wall
    ("RV: dilated, reduced free wall function. LV: normal size and function.",
     "Dilated RV with reduced systolic function.", "supported"),
    ("RV: dilated, reduced free wall function. LV: normal size and function.",
     "Normal left ventricular systolic function.", "supported"),
    ("Left atrial appendage free of thrombus.", "No left atrial appendage thrombus.", "supported"),
    ("Free TR. Dilated RV.", "Torrential tricuspid regurgitation.", "supported"),
    # a phrase naming a fixed finding takes no function from a grade before it
    ("LV small and hyperdynamic. RV dilated with reduced function. Septal flattening.",
     "Dilated RV with reduced function and septal flattening.", "supported"),
    # "massive PE" in an RV-overload sentence is the embolism, not an effusion
    ("No pericardial effusion. RV dilated with McConnell sign.",
     "RV pressure overload, in keeping with submassive/massive PE.", "not_factual"),
    ("Large circumferential pericardial effusion.", "Large PE.", "supported"),
]


@pytest.mark.parametrize(("findings", "statement", "expected"), READINGS)
def test_words_that_name_another_thing(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement) == expected


IVC = [
    # "collapses more than 50%" is the IVC's collapse: with a small IVC the RA pressure is normal
    ("IVC: 1.6 cm, collapses more than 50%.", "Normal IVC.", "supported"),
    ("IVC: 1.6 cm, collapses more than 50%.", "Plethoric IVC.", "contradicted"),
    ("IVC 2.4 cm, collapses less than 50%.", "Plethoric IVC.", "supported"),
]


@pytest.mark.parametrize(("findings", "statement", "expected"), IVC)
def test_the_ivc_collapse_read_from_prose(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement) == expected


def test_a_value_graded_from_another_field_is_not_cited_as_that_field() -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": "IVC: 1.6 cm, collapses more than 50%."})
    reason = check("Normal IVC.", study).statements[0].reason
    assert "ivc_diameter" in reason and "3 cm" not in reason


@pytest.mark.parametrize(("findings", "statement", "expected"), [
    # "true apex" is the apex (segment 17): a list of walls with it takes the grade after it
    ("The mid and apical anterior wall, apical septum and true apex are akinetic.",
     "Akinesis of the mid-apical anterior wall, apical septum and apex.", "supported"),
    ("The mid and apical anterior wall, apical septum and true apex are akinetic.",
     "Hypokinesis of the mid anterior wall.", "contradicted"),
])
def test_a_list_of_walls_takes_its_grade(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement) == expected


@pytest.mark.parametrize(("findings", "statement", "expected"), [
    # a valve's number is not read across another place ("across the defect", "in the LVOT")
    ("Apical VSD with left-to-right flow; peak velocity across the defect 4.0 m/s.",
     "Severe aortic stenosis.", "unsupported"),
    ("Aortic valve: peak velocity across the valve 4.2 m/s.", "Peak aortic velocity 4.2 m/s.", "supported"),
    # the descending aorta is not the ascending one
    ("Normal descending aortic dimensions. Ascending aorta 4.0 cm, mildly dilated.",
     "Mildly dilated ascending aorta, 4.0 cm.", "supported"),
    ("The descending aorta is mildly dilated. Normal ascending aorta.", "Dilated ascending aorta.",
     "contradicted"),
])
def test_a_number_or_grade_stays_with_its_place(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement) == expected


def test_the_velocity_across_a_defect_is_no_aortic_stenosis_to_name() -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": "Apical VSD with left-to-right flow; "
                                  "peak velocity across the defect 4.0 m/s."})
    assert check("Post-infarction ventricular septal defect.", study).omissions == []


@pytest.mark.parametrize(("findings", "statement", "expected"), [
    # "X is normal and the Y is ..." : the grade ends its clause, Y keeps its own value
    ("The right ventricle is normal and the PA systolic pressure is 42 mmHg.",
     "Mildly elevated pulmonary artery systolic pressure.", "supported"),
    ("The right ventricle is normal and the PA systolic pressure is 42 mmHg.", "Normal RV function.",
     "supported"),
])
def test_a_grade_ends_its_clause(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement) == expected


@pytest.mark.parametrize(("findings", "statement", "expected"), [
    # the timing of a jet ("late systolic", "holosystolic") stands between its grade and its name
    ("Posterior leaflet prolapse. Mild late systolic, anteriorly directed mitral regurgitation.",
     "Mild mitral regurgitation.", "supported"),
    ("Posterior leaflet prolapse. Mild late systolic, anteriorly directed mitral regurgitation.",
     "Severe mitral regurgitation.", "contradicted"),
    ("Moderate holosystolic MR.", "Moderate mitral regurgitation.", "supported"),
])
def test_the_timing_of_a_jet_keeps_its_grade(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement) == expected
