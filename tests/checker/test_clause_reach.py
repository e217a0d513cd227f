"""How far a negation, a subject or a number reaches across the joints of a clause: "or"/"nor" before
a grade, a parenthesis, a phrase that names a cause, a ratio of two measurements."""

from __future__ import annotations

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study


def verdicts(impression: str, findings: str) -> list[str]:
    study = Study.model_validate({"study_id": "S1", "findings_text": findings})
    return [s.verdict for s in check(impression, study).statements]


def facts(sentence: str) -> list[tuple]:
    return [(f.concept, f.location, f.grade, f.polarity) for f in extract_facts(sentence)]


def test_no_a_or_graded_b_denies_both() -> None:
    found = facts("No valve stenosis or significant regurgitation.")
    assert ("valve_regurgitation", None, "moderate", "absent") in found
    assert verdicts("No valve stenosis or significant regurgitation.",
                    "Aortic valve thin, opens well. No AR. Trivial MR.") == ["supported"]


def test_a_grade_after_a_comma_still_opens_a_new_finding() -> None:
    assert ("valve_regurgitation", "mitral", "severe", "present") in facts("No AS, severe MR.")


def test_a_denied_cause_does_not_deny_what_it_would_cause() -> None:
    assert ("pasp", None, "elevated", "absent") not in facts(
        "Normal LA size (no left-heart cause of pulmonary hypertension).")
    assert verdicts("Normal LV function; no left-heart cause of pulmonary hypertension.",
                    "Normal LV size and systolic function, LVEF 60 %. TR Vmax 4.2 m/s, RAP 8 mmHg, "
                    "RVSP 79 mmHg. Severe pulmonary hypertension.") == ["supported"]


def test_a_septum_said_to_be_flattened_is_septal_flattening() -> None:
    assert verdicts("Dilated RV with systolic and diastolic septal flattening.",
                    "The right ventricle is dilated, basal diameter 48 mm. The interventricular septum "
                    "is flattened in systole and diastole.") == ["supported"]


def test_a_negation_under_a_condition_in_an_aside_leaves_the_finding() -> None:
    assert ("shunt", None, None, "present") in facts(
        "Large right-to-left shunt provoked by Valsalva (none at rest).")
    assert ("valve_stenosis", "mitral", None, "absent") in facts("Mitral stenosis (not present).")


def test_an_aneurysmal_atrial_septum_is_no_lv_wall_motion() -> None:
    assert ("other_finding", "atrial_septal_aneurysm", None, "present") in facts(
        "Interatrial septum: hypermobile, aneurysmal, excursion 14 mm.")
    assert verdicts("Normal LV wall motion. Atrial septal aneurysm.",
                    "Normal LV size and wall motion, LVEF 62 %. Interatrial septum: hypermobile, "
                    "aneurysmal, excursion 14 mm.") == ["supported", "supported"]


def test_otherwise_normal_leaves_out_the_findings_named_beside_it() -> None:
    findings = ("Normal LV size and systolic function, LVEF 62 %. Agitated saline: 8 microbubbles in "
                "the left atrium within 3 cycles after Valsalva.")
    assert verdicts("Otherwise structurally normal heart with normal LV size and function.",
                    findings) == ["supported"]
    assert verdicts("Structurally normal heart.", findings) == ["contradicted"]


def test_a_subject_in_an_aside_is_not_handed_to_the_next_sentence() -> None:
    assert ("rv_systolic_function", None, None, "absent") not in facts(
        "Paradoxical septal motion (post-pericardiotomy / RV pressure). No RWMA.")
    assert verdicts("Dilated RV with reduced systolic function.",
                    "LV: normal size, LVEF 65 %. Paradoxical septal motion (RV pressure). No RWMA.\n"
                    "RV: dilated, reduced systolic function, TAPSE 11 mm.") == ["supported"]


def test_a_name_after_a_slash_divides_a_ratio_and_takes_no_value() -> None:
    assert not [f for f in extract_facts("Septal hypertrophy (septum/posterior wall 1.4).")
                if f.concept == "measurement"]
    assert not [f for f in extract_facts("TAPSE/sPAP 0.19 mm/mmHg.") if f.concept == "measurement"]
    assert [f.location for f in extract_facts("LVIDd 4.8 cm/LVIDs 3.2 cm.")] == ["lvidd", "lvids"]


def test_increased_trabeculation_is_no_wall_thickness() -> None:
    assert not facts("Increased LV trabeculation (apical) with NC/C ratio 1.6.")
    assert verdicts("Increased LV trabeculation (apical) with NC/C ratio 1.6.",
                    "IVS 9 mm, PW 9 mm, normal wall thickness. Prominent apical trabeculae, NC/C 1.6."
                    ) == ["not_checked"]


def test_a_septal_segment_with_a_thickness_names_the_septal_thickness() -> None:
    assert ("measurement", "ivsd", None, "present") in facts(
        "Asymmetric septal hypertrophy, basal anteroseptum 19 mm, posterior wall 11 mm.")
    assert not facts("GLS -15 %, basal septum -10 %.")
    assert verdicts("Asymmetric septal hypertrophy consistent with hypertrophic cardiomyopathy.",
                    "Asymmetric septal hypertrophy, basal anteroseptum 19 mm, posterior wall 11 mm."
                    ) == ["supported"]


def test_a_value_after_from_is_the_earlier_one() -> None:
    def lvef(sentence: str) -> list[float | None]:
        return [f.value for f in extract_facts(sentence) if f.location == "lvef"]
    assert lvef("Decline from LVEF 58 % before pacemaker implantation.") == []
    assert lvef("EF fell from 58 % in 2023.") == []
    assert lvef("Improved from LVEF 30 % to 45 %.") == [45.0]
    assert lvef("LVEF improved from 30 % to 45 %.") == [45.0]


def test_bubble_study_stock_phrases_are_read() -> None:
    assert ("shunt", None, None, "absent") in facts("IAS: intact; saline contrast negative at rest.")
    assert ("shunt", None, None, "absent") in facts("Agitated saline: no left-sided bubbles at rest.")
    assert verdicts("No interatrial shunt on saline contrast.",
                    "IAS: intact; saline contrast negative at rest and with Valsalva.") == ["supported"]



def test_a_grade_of_tissue_doppler_e_prime_is_no_wall_motion() -> None:
    assert not facts("Reduced septal and lateral e' (6 and 9 cm/s).")
    assert ("wall_motion", "septal", "hypokinetic", "present") in facts("Reduced septal wall motion.")


def test_rises_to_marks_a_stress_stage_sentence() -> None:
    findings = ("REST\nLV dilated, LVIDd 6.3 cm. EF 50 %, mild diffuse hypokinesis.\n\n"
                "EXERCISE (bicycle, 250 W)\nEF rises to 65 %, all segments hyperkinetic.")
    study = Study.model_validate({"study_id": "S1", "study_type": "stress", "findings_text": findings})
    checked = check("Dilated LV with mildly reduced systolic function, EF 50 % at rest.", study)
    assert [s.verdict for s in checked.statements] == ["supported"]


def test_a_flail_leaflet_supports_severe_regurgitation_of_its_own_valve() -> None:
    findings = ("Mitral valve: flail P2 segment with ruptured chordae. Eccentric jet, regurgitant volume "
                "72 mL. Tricuspid regurgitation is seen.")
    assert verdicts("Severe mitral regurgitation due to a flail P2 segment.", findings) == ["supported"]
    assert verdicts("Severe tricuspid regurgitation.", findings) != ["supported"]


def test_rather_than_denies_what_follows() -> None:
    assert ("other_finding", "hcm", None, "absent") in facts(
        "The regression favours physiological hypertrophy rather than HCM.")
    assert ("valve_regurgitation", "mitral", "mild", "present") in facts("Mild MR rather than moderate.")


def test_a_grade_ends_its_table_cell() -> None:
    found = facts("  Mid anterior: Akinetic       Apical anterior: Akinetic")
    assert ("wall_motion", "mid_anterior", "akinetic", "present") in found
    assert ("wall_motion", "apical_anterior", "akinetic", "present") in found


def test_an_echodensity_is_a_mass_unless_its_sentence_names_what_it_is() -> None:
    assert verdicts("Small mobile mass on the aortic side of the non-coronary cusp.",
                    "A 6 x 4 mm mobile, pedunculated echodensity on the non-coronary cusp.") == ["supported"]
    assert not [f for f in extract_facts("A 9 mm mobile echodensity consistent with thrombus.")
                if f.concept == "mass"]
