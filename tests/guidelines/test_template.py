"""Template baseline: numbered, ordered by clinical importance, written from structured data only."""

from __future__ import annotations

import re
import subprocess
import sys

from echogpt.guidelines.template import NO_DATA, template_impression
from echogpt.schemas import Study
from echogpt.text import split_statements


def make_study(measurements=None, findings=None, **top) -> Study:
    return Study.model_validate({
        "study_id": "T1", "findings_text": "Severe aortic stenosis. Large pericardial effusion.",
        "rhythm": "sinus", "patient": {"age": 70, "sex": "male", "bsa_m2": 2.0},
        "measurements": measurements, "findings": findings, **top})


def lines(text: str) -> list[str]:
    return text.splitlines()


def test_prose_only_study_gets_one_honest_line():
    study = Study.model_validate({"study_id": "P1", "findings_text": "Severe aortic stenosis."})
    assert template_impression(study) == f"1. {NO_DATA}"


def test_prose_is_never_read():
    text = template_impression(make_study({"lvef": 60}))
    assert "stenosis" not in text and "effusion" not in text


def test_order_critical_then_lv_then_valves_then_comparison_then_limitation():
    study = make_study(
        {"lvef": 35, "av_vmax": 4.3, "av_mean_gradient": 48, "ava": 0.8},
        {"thrombus": [{"location": "lv"}], "mitral": {"regurgitation": "moderate"},
         "tricuspid": {"regurgitation": "trace"}, "image_quality": "limited"},
        prior={"lvef": 55, "study_date": "2025-03-01"})
    out = lines(template_impression(study))
    assert all(re.match(rf"^{i}\. \S", line) for i, line in enumerate(out, 1))
    assert "thrombus" in out[0].lower()
    assert "LVEF 35 %" in out[1] and "moderately reduced" in out[1].lower()
    severe_as = next(i for i, line in enumerate(out) if "Severe aortic stenosis" in line)
    moderate_mr = next(i for i, line in enumerate(out) if "Moderate mitral regurgitation" in line)
    assert 1 < severe_as < moderate_mr
    assert "Vmax 4.3 m/s" in out[severe_as] and "AVA 0.8" in out[severe_as]
    assert "decreased from 55 % to 35 %" in out[-2] and "2025-03-01" in out[-2]
    assert "Technically limited" in out[-1]
    assert "tricuspid" not in template_impression(study)  # trace regurgitation is left out


def test_normal_study():
    normal = {"lvef": "60-65", "lvidd": 5.0, "ivsd": 0.9, "lvpwd": 0.9, "lavi": 28, "tapse": 2.2,
              "e_velocity": 70, "a_velocity": 60, "e_prime_septal": 8, "e_prime_lateral": 11, "tr_vmax": 2.3,
              "ivc_diameter": 1.6, "ivc_collapse": 60}
    out = lines(template_impression(make_study(normal, {"effusion": {"size": "none"},
                                                        "tricuspid": {"regurgitation": "trace"}})))
    assert out[0] == "1. Normal transthoracic echocardiogram."
    assert any("LVEF 60-65 %" in line for line in out)
    assert any("No pericardial effusion" in line for line in out)
    assert any("Normal diastolic function" in line for line in out)
    # PASP = 4 x 2.3² + 3 = 24 mmHg
    assert any("24 mmHg" in line and "normal" in line for line in out)


def test_diastolic_and_pressures_wording():
    # reduced EF, E/A 2.4 -> grade III; IVC 2.3 cm / 30 % -> RAP 15; 4 x 3.5² + 15 = 64 -> severely (> 60)
    study = make_study({"lvef": 30, "e_velocity": 120, "a_velocity": 50, "tr_vmax": 3.5, "ivc_diameter": 2.3,
                        "ivc_collapse": 30})
    text = template_impression(study)
    assert "Grade III diastolic dysfunction with elevated LV filling pressure" in text
    assert "64 mmHg, severely elevated" in text and "high echocardiographic probability" in text


def test_discordant_aortic_stenosis_is_not_upgraded():
    m = {"av_vmax": 3.5, "av_mean_gradient": 30, "ava": 0.8, "sv_index": 30}
    text = template_impression(make_study(m))
    assert "Moderate aortic stenosis" in text and "discordant" in text and "AVA in the severe range" in text
    assert "Severe aortic stenosis" not in text and "low flow" in text


def test_mitral_stenosis_wording_follows_the_profile():
    study = make_study({"mva": 1.2})
    assert "Moderate mitral stenosis" in template_impression(study, "default")  # ASE09: 1.0-1.5 moderate
    assert "Severe mitral stenosis" in template_impression(study, "acc")        # ACC20: <= 1.5 severe


def test_unchanged_lvef_against_prior():
    # 60 vs 55 % is 5 points: within the 5-point inter-reader band; 60 vs 50 % is a decrease
    assert "LVEF is similar" in template_impression(make_study({"lvef": 55}, prior={"lvef": 60}))
    assert "LVEF has decreased from 60 % to 50 %" in template_impression(make_study({"lvef": 50},
                                                                                    prior={"lvef": 60}))


def test_deterministic_and_splits_into_its_own_lines():
    study = make_study({"lvef": 45, "lvidd": 6.5, "lavi": 50, "aortic_root": 4.6},
                       {"mitral": {"regurgitation": "moderate-severe"}, "effusion": {"size": "small"}})
    first, second = template_impression(study), template_impression(study)
    assert first == second
    assert len(split_statements(first)) == len(lines(first))
    assert "Aneurysmal aortic root (4.6 cm)" in first and "Severely dilated left atrium" in first


def test_template_module_is_independent_of_the_synthetic_writer_and_heavy_libraries():
    code = ("import sys, echogpt.guidelines.template; "
            "bad = [m for m in sys.modules if 'synthetic' in m or m in ('torch', 'transformers')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_measurements_only_study_makes_no_claim_about_valves():
    # a measured AV Vmax 1.7 m/s rules out aortic stenosis only, not other valve disease
    text = template_impression(make_study({"lvef": 60, "av_vmax": 1.7}))
    assert "valvular" not in text and "Normal transthoracic" not in text
    assert text.splitlines()[-1].endswith("See findings; only measurements were given as structured data.")


def test_normally_functioning_prosthesis_is_not_a_normal_study():
    normal = {"lvef": 60, "lvidd": 5.0, "ivsd": 0.9, "lvpwd": 0.9, "lavi": 28, "tapse": 2.2}
    text = template_impression(make_study(normal, {"aortic": {"prosthesis": {"kind": "bioprosthetic"}}}))
    assert "Normal transthoracic" not in text and "Normally functioning prosthetic aortic valve" in text
