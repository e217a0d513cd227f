"""Whole-study grading and consistency warnings: facts come from structured data only."""

from __future__ import annotations

from echogpt.guidelines.consistency import consistency_warnings
from echogpt.guidelines.study import grade_study, is_critical
from echogpt.schemas import Study


def make_study(measurements=None, findings=None, sex="male", **top) -> Study:
    return Study.model_validate(
        {
            "study_id": "G1",
            "findings_text": "Severe aortic stenosis. LV thrombus.",
            "rhythm": "sinus",
            "patient": {"age": 70, "sex": sex, "bsa_m2": 2.0},
            "measurements": measurements,
            "findings": findings,
            **top,
        }
    )


def by_concept(facts, concept):
    return [f for f in facts if f.concept == concept]


def test_prose_only_study_gives_no_facts():
    study = Study.model_validate({"study_id": "P1", "findings_text": "Severe aortic stenosis. LV thrombus."})
    assert grade_study(study) == []


def test_negative_facts_from_structured_data():
    facts = grade_study(
        make_study(
            findings={
                "effusion": {"size": "none"},
                "wall_motion": {str(i): "normal" for i in range(1, 18)},
                "aortic": {"stenosis": "none", "regurgitation": "none"},
            }
        )
    )
    (eff,) = by_concept(facts, "pericardial_effusion")
    assert eff.polarity == "absent"
    (wm,) = by_concept(facts, "wall_motion")
    assert (wm.location, wm.grade) == ("global", "normal")
    assert {
        f.polarity for f in by_concept(facts, "valve_stenosis") + by_concept(facts, "valve_regurgitation")
    } == {"absent"}


def test_lvef_range_keeps_both_ends_and_is_graded_at_the_midpoint():
    (ef,) = by_concept(grade_study(make_study({"lvef": "35-40"})), "lv_systolic_function")
    assert (ef.value, ef.value_max, ef.unit, ef.grade) == (35, 40, "%", "moderately_reduced")
    assert ef.source == "measurements.lvef" and ef.rule == "ASE15:lvef_ase2015"


def test_pasp_from_tr_velocity_and_ivc():
    # RAP: IVC 2.3 cm collapsing 30 % -> 15 mmHg; RVSP = 4 x 3.0² + 15 = 51 -> 46-60 moderately elevated
    facts = grade_study(make_study({"tr_vmax": 3.0, "ivc_diameter": 2.3, "ivc_collapse": 30}))
    (rap,) = by_concept(facts, "rap")
    (pasp,) = by_concept(facts, "pasp")
    assert rap.value == 15 and rap.grade == "elevated"
    assert pasp.value == 51 and pasp.grade == "moderately_elevated" and pasp.source == "measurements.tr_vmax"


def test_no_ivc_rap_when_ventilated():
    facts = grade_study(
        make_study({"tr_vmax": 3.0, "ivc_diameter": 2.3, "ivc_collapse": 30}, ventilated=True)
    )
    assert by_concept(facts, "rap") == [] and by_concept(facts, "pasp") == []


def test_wall_motion_segments_and_territory():
    facts = grade_study(
        make_study(
            findings={
                "wall_motion": {"mid anterior": "akinetic", "apical anterior": "akinetic", "apex": "akinetic"}
            }
        )
    )
    locations = {(f.location, f.grade) for f in by_concept(facts, "wall_motion")}
    assert {("mid_anterior", "akinetic"), ("apex", "akinetic"), ("lad", "akinetic")} <= locations


def test_critical_findings_are_facts():
    facts = grade_study(
        make_study(
            findings={
                "thrombus": [{"location": "lv", "size_cm": 1.2}],
                "vegetation": [{"location": "mitral"}],
                "aortic_dissection": True,
                "effusion": {"size": "large", "tamponade": True},
            }
        )
    )
    (thrombus,) = by_concept(facts, "thrombus")
    assert thrombus.location == "lv" and thrombus.value == 1.2 and is_critical(thrombus)
    assert by_concept(facts, "vegetation")[0].location == "mitral"
    assert by_concept(facts, "aortic_dissection")[0].polarity == "present"
    assert by_concept(facts, "tamponade") and is_critical(by_concept(facts, "pericardial_effusion")[0])


def test_prosthetic_aortic_valve_gradients_are_not_graded_as_native_stenosis():
    facts = grade_study(
        make_study(
            {"av_vmax": 3.2, "av_mean_gradient": 22}, {"aortic": {"prosthesis": {"kind": "bioprosthetic"}}}
        )
    )
    assert by_concept(facts, "valve_stenosis") == []
    assert by_concept(facts, "prosthetic_valve")[0].grade == "normal"


def test_normal_study_fact_only_when_everything_is_normal():
    normal = {
        "lvef": 60,
        "lvidd": 5.0,
        "ivsd": 0.9,
        "lvpwd": 0.9,
        "lavi": 28,
        "tapse": 2.2,
        "e_velocity": 70,
        "a_velocity": 60,
        "e_prime_septal": 8,
        "e_prime_lateral": 11,
        "tr_vmax": 2.3,
    }
    assert by_concept(
        grade_study(make_study(normal, {"tricuspid": {"regurgitation": "trace"}})), "normal_study"
    )
    assert not by_concept(grade_study(make_study({**normal, "lavi": 45})), "normal_study")
    # measurements alone cannot vouch for the valves, pericardium and masses
    assert not by_concept(grade_study(make_study(normal)), "normal_study")


def test_consistency_lvef_vs_volumes():
    # (120 - 70) / 120 = 42 %: 18 points from 60 %
    (w,) = consistency_warnings(make_study({"lvef": 60, "lvedv": 120, "lvesv": 70}))
    assert "measurements.lvef" in w.fields and "42" in w.message
    # (100 - 45) / 100 = 55 %: 5 points, within 7
    assert consistency_warnings(make_study({"lvef": 60, "lvedv": 100, "lvesv": 45})) == []


def test_consistency_rvsp_lavi_gradient():
    # 4 x 2.8² + 3 = 34.4: stated 40 is 5.6 away (> 5), 38 is 3.6 away
    assert len(consistency_warnings(make_study({"rvsp": 40, "tr_vmax": 2.8, "rap": 3}))) == 1
    assert consistency_warnings(make_study({"rvsp": 38, "tr_vmax": 2.8, "rap": 3})) == []
    # LA volume 60 / BSA 2.0 = 30 mL/m²; stated 40 is 33 % off
    (w,) = consistency_warnings(make_study({"la_volume": 60, "lavi": 40}))
    assert "measurements.lavi" in w.fields
    # 4 x 4.0² = 64 mmHg; stated 40 is far off, 62 is close
    assert len(consistency_warnings(make_study({"av_vmax": 4.0, "av_peak_gradient": 40}))) == 1
    assert consistency_warnings(make_study({"av_vmax": 4.0, "av_peak_gradient": 62})) == []


def test_consistency_stated_grade_vs_measurement():
    (w,) = consistency_warnings(make_study({"lavi": 50}, {"la_size": "normal"}))
    assert "findings.la_size" in w.fields and "severely_dilated" in w.message
    assert consistency_warnings(make_study({"lavi": 35}, {"la_size": "normal"})) == []  # within 1 mL/m²


def test_consistency_af_with_a_wave():
    (w,) = consistency_warnings(make_study({"a_velocity": 60}, rhythm="AF"))
    assert "rhythm" in w.fields


def test_consistency_qualitative_vs_numeric_lvef():
    (w,) = consistency_warnings(make_study({"lvef": {"value": 35, "qualitative": "normal"}}))
    assert "normal" in w.message and "35 %" in w.message
    assert consistency_warnings(make_study({"lvef": {"value": 52, "qualitative": "low normal"}})) == []


def test_graded_facts_fit_the_vocabulary_and_types():
    # each fact validates to itself (a value of the wrong type would be written differently)
    import json
    from pathlib import Path

    from echogpt.schemas import Fact
    from echogpt.synth.corpus import generate_corpus

    studies = list(generate_corpus(300, seed=11))
    pairs = Path(__file__).parents[1] / "fixtures" / "checker_eval" / "pairs.jsonl"
    for line in pairs.read_text().splitlines():
        row = json.loads(line)
        studies.append(Study.model_validate({"study_id": row["pair_id"], **row["study"]}))
    checked = 0
    for study in studies:
        for f in grade_study(study):
            assert Fact.model_validate(f.model_dump()).model_dump_json() == f.model_dump_json(), f
            checked += 1
    assert checked > 3000


def test_study_grading_imports_no_checker_code():
    """Guidelines sit below the checker: grading a study loads no ``echogpt.checker`` module."""
    import subprocess
    import sys

    code = ("import sys, echogpt.guidelines.study; "
            "print(sorted(m for m in sys.modules if m.startswith('echogpt.checker')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          check=True)
    assert done.stdout.strip() == "[]"
