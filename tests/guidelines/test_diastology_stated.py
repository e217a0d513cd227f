"""ASE16-DD with the ratios a report states (E/A, average E/e') where their components are missing;
expected grades worked out by hand from the ASE16 figures (echo_reference.md, diastolic function)."""

from __future__ import annotations

import pytest

from echogpt.guidelines.diastology import diastolic_function
from echogpt.schemas import Study


def _study(**m: float) -> Study:
    return Study.model_validate({"study_id": "T1", "findings_text": "See measurements.", "rhythm": "sinus",
                                 "patient": {"age": 60, "sex": "female", "bsa_m2": 2.0}, "measurements": m})


@pytest.mark.parametrize(
    ("m", "grade", "pressure"),
    [
        ({"e_a_ratio": 2.2}, "grade_3", "elevated"),  # E/A >= 2: restrictive, no E needed
        # 0.8 < E/A < 2 -> criteria: stated E/e' 17 pos, LAVI 45 pos, TRV 2.7 neg -> II
        ({"e_a_ratio": 1.9, "e_e_prime_avg": 17, "lavi": 45, "tr_vmax": 2.7}, "grade_2", "elevated"),
        ({"e_a_ratio": 1.2, "e_e_prime_avg": 10, "lavi": 30, "tr_vmax": 2.5}, "grade_1", "normal"),
        # E/A <= 0.8 with E 45 -> grade I without the criteria
        ({"e_a_ratio": 0.7, "e_velocity": 45}, "grade_1", "normal"),
        # E/A <= 0.8, no E: 2 of 2 criteria positive would be II only if E > 50 -> indeterminate
        ({"e_a_ratio": 0.7, "e_e_prime_avg": 16, "tr_vmax": 3.0}, "indeterminate", "indeterminate"),
        # ... and 2 negative is grade I whatever E is
        ({"e_a_ratio": 0.7, "e_e_prime_avg": 9, "tr_vmax": 2.4}, "grade_1", "normal"),
    ],
)
def test_reduced_ef_grades_by_the_stated_ratios(m: dict, grade: str, pressure: str) -> None:
    result = diastolic_function(_study(lvef=30, **m))
    assert result.applicable and result.algorithm == "B"
    assert (result.grade, result.filling_pressure) == (grade, pressure)
    assert any("(as stated)" in r for r in result.reasons)


def test_reduced_ef_with_no_inflow_at_all_is_not_graded() -> None:
    result = diastolic_function(_study(lvef=30, e_e_prime_avg=16))
    assert not result.applicable and "E/A" in (result.why_not or "")


def test_stated_average_e_over_e_prime_counts_in_the_normal_ef_algorithm() -> None:
    # Normal EF: stated E/e' 16 pos, septal e' 6 pos, TRV 3.0 pos, LAVI 40 pos -> 4 of 4; E/A 1.5 -> II
    result = diastolic_function(_study(lvef=60, e_velocity=90, e_a_ratio=1.5, e_e_prime_avg=16,
                                       e_prime_septal=6, tr_vmax=3.0, lavi=40))
    assert (result.algorithm, result.grade, result.filling_pressure) == ("B", "grade_2", "elevated")
    assert "average E/e' (as stated) 16.0 (> 14 abnormal)" in result.reasons


def test_components_win_over_a_stated_ratio_that_disagrees() -> None:
    # E 120 / A 50 = 2.4 (grade III) although "E/A 1.2" is stated; E/e' 120/12 = 10 although "16" is stated
    result = diastolic_function(_study(lvef=30, e_velocity=120, a_velocity=50, e_a_ratio=1.2,
                                       e_prime_septal=10, e_prime_lateral=14, e_e_prime_avg=16))
    assert result.grade == "grade_3" and "E/A 2.4, E 120 cm/s" in result.reasons
    mid = diastolic_function(_study(lvef=30, e_velocity=120, a_velocity=100, e_a_ratio=0.7,
                                    e_prime_septal=10, e_prime_lateral=14, e_e_prime_avg=16, tr_vmax=2.5))
    assert "average E/e' 10.0 (> 14 abnormal)" in mid.reasons
    assert (mid.grade, mid.filling_pressure) == ("grade_1", "normal")


def test_a_stated_average_wins_over_one_site() -> None:
    # septal only: E/e' 90/6 = 15 (not > 15 at the septal cut-off); the stated average 16 is > 14
    result = diastolic_function(_study(lvef=30, e_velocity=90, a_velocity=60, e_prime_septal=6,
                                       e_e_prime_avg=16, lavi=40))
    assert "average E/e' (as stated) 16.0 (> 14 abnormal)" in result.reasons
    assert result.grade == "grade_2"


def test_thick_walls_with_normal_e_prime_take_the_normal_ef_algorithm() -> None:
    # Athlete's heart: IVSd 1.3 cm, e' 13/17 cm/s, E/A 2.0, E/e' 6, TRV 2.2, LAVI 38 -> 1 of 4 -> normal
    athlete = dict(lvef=58, ivsd=1.3, e_a_ratio=2.0, e_prime_septal=13, e_prime_lateral=17, e_e_prime_avg=6,
                   tr_vmax=2.2, lavi=38)
    result = diastolic_function(_study(**athlete))
    assert (result.algorithm, result.grade) == ("A", "normal")
    # the same walls with a low septal e' are myocardial disease: algorithm B, E/A 2.0 -> grade III
    assert diastolic_function(_study(**{**athlete, "e_prime_septal": 6})).grade == "grade_3"


def test_lvh_is_judged_by_mass_index_where_the_bsa_is_known() -> None:
    # Concentric remodelling: IVSd = LVPWd 1.1 cm (thick for a woman), LVIDd 4.4 cm, BSA 1.8 m2 ->
    # linear LV mass 169 g, LVMI 94 g/m2 (normal, <= 95): no LVH, so algorithm A: 1 of 4 -> normal
    m = dict(lvef=62, ivsd=1.1, lvpwd=1.1, lvidd=4.4, e_velocity=70, a_velocity=60, e_prime_septal=7,
             e_prime_lateral=9, tr_vmax=2.4, lavi=30)
    study = Study.model_validate({"study_id": "T1", "findings_text": "See measurements.", "rhythm": "sinus",
                                  "patient": {"sex": "female", "bsa_m2": 1.8}, "measurements": m})
    assert (diastolic_function(study).algorithm, diastolic_function(study).grade) == ("A", "normal")
    # with no BSA the walls decide: mildly thick -> myocardial disease -> algorithm B -> grade I
    no_bsa = study.model_copy(update={"patient": study.patient.model_copy(update={"bsa_m2": None})})
    assert (diastolic_function(no_bsa).algorithm, diastolic_function(no_bsa).grade) == ("B", "grade_1")
