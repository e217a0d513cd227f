"""Guideline engine: boundaries of every table, written by hand from the guideline tables
(echo_reference.md sections 1-4), not from running the code."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echogpt.guidelines import grading as g
from echogpt.guidelines.acceptance import acceptable_grades, tolerance
from echogpt.guidelines.consistency import consistency_warnings
from echogpt.guidelines.diastology import diastolic_function
from echogpt.guidelines.study import grade_study, ph_signs
from echogpt.guidelines.tables import guideline_table, load_profile, profile_names
from echogpt.schemas import Fact, Study


def make_study(
    measurements: dict | None = None, findings: dict | None = None, sex: str | None = "female", **top
) -> Study:
    patient = {"age": 60, "sex": sex, "bsa_m2": 2.0} if sex else {"age": 60, "bsa_m2": 2.0}
    return Study.model_validate(
        {
            "study_id": "T1",
            "findings_text": "See measurements.",
            "rhythm": "sinus",
            "patient": patient,
            "measurements": measurements or {},
            "findings": findings,
            **top,
        }
    )


# ---------------------------------------------------------------- chambers


@pytest.mark.parametrize(
    ("ef", "sex", "expected"),
    [
        # ASE15 men: normal 52-72, mild 41-51, moderate 30-40, severe < 30
        (51, "male", "mildly_reduced"),
        (52, "male", "normal"),
        (53, "male", "normal"),
        (72, "male", "normal"),
        (73, "male", "hyperdynamic"),
        # ASE15 women: normal 54-74, mild 41-53
        (51, "female", "mildly_reduced"),
        (52, "female", "mildly_reduced"),
        (53, "female", "mildly_reduced"),
        (54, "female", "normal"),
        (74, "female", "normal"),
        (75, "female", "hyperdynamic"),
        (41, "female", "mildly_reduced"),
        (40, "female", "moderately_reduced"),
        (30, "male", "moderately_reduced"),
        (29, "male", "severely_reduced"),
    ],
)
def test_lvef_ase2015(ef, sex, expected):
    assert g.lvef_category(ef, sex, "default") == expected


@pytest.mark.parametrize(
    ("ef", "expected"),
    [
        # simple scheme: hyperdynamic > 70, normal 50-70, mild 40-49, moderate 30-39, severe < 30
        (71, "hyperdynamic"),
        (70, "normal"),
        (50, "normal"),
        (49, "mildly_reduced"),
        (40, "mildly_reduced"),
        (39, "moderately_reduced"),
        (30, "moderately_reduced"),
        (29, "severely_reduced"),
    ],
)
@pytest.mark.parametrize("sex", ["male", "female"])
def test_lvef_simple_is_sex_neutral(ef, expected, sex):
    assert g.lvef_category(ef, sex, "acc") == expected


@pytest.mark.parametrize(
    ("lvidd", "sex", "expected"),
    [
        (5.8, "male", "normal"),
        (5.9, "male", "mildly_dilated"),
        (6.3, "male", "mildly_dilated"),
        (6.4, "male", "moderately_dilated"),
        (6.8, "male", "moderately_dilated"),
        (6.9, "male", "severely_dilated"),
        (5.2, "female", "normal"),
        (5.3, "female", "mildly_dilated"),
        (5.6, "female", "mildly_dilated"),
        (5.7, "female", "moderately_dilated"),
        (6.1, "female", "moderately_dilated"),
        (6.2, "female", "severely_dilated"),
        (5.85, "male", "mildly_dilated"),  # prints as 5.9
    ],
)
def test_lv_size_lvidd(lvidd, sex, expected):
    assert g.lv_size_grade(lvidd, sex) == expected


@pytest.mark.parametrize(
    ("lvedvi", "sex", "expected"),
    [
        (74, "male", "normal"),
        (75, "male", "mildly_dilated"),
        (89, "male", "mildly_dilated"),
        (90, "male", "moderately_dilated"),
        (100, "male", "moderately_dilated"),
        (101, "male", "severely_dilated"),
        (61, "female", "normal"),
        (62, "female", "mildly_dilated"),
        (70, "female", "mildly_dilated"),
        (71, "female", "moderately_dilated"),
        (80, "female", "moderately_dilated"),
        (81, "female", "severely_dilated"),
    ],
)
def test_lvedvi(lvedvi, sex, expected):
    assert g.lvedvi_grade(lvedvi, sex) == expected


@pytest.mark.parametrize(
    ("wall", "sex", "expected"),
    [
        (1.0, "male", "normal"),
        (1.1, "male", "mildly_increased"),
        (1.3, "male", "mildly_increased"),
        (1.4, "male", "moderately_increased"),
        (1.6, "male", "moderately_increased"),
        (1.7, "male", "severely_increased"),
        (0.9, "female", "normal"),
        (1.0, "female", "mildly_increased"),
        (1.2, "female", "mildly_increased"),
        (1.3, "female", "moderately_increased"),
        (1.5, "female", "moderately_increased"),
        (1.6, "female", "severely_increased"),
    ],
)
def test_wall_thickness(wall, sex, expected):
    assert g.wall_thickness_grade(wall, sex) == expected


def test_lv_mass_and_rwt_formulas():
    # 0.8 * 1.04 * ((1.0 + 5.0 + 1.0)^3 - 5.0^3) + 0.6 = 0.832 * 218 + 0.6 = 181.976 g
    assert g.lv_mass_linear(1.0, 5.0, 1.0) == pytest.approx(181.976)
    assert g.relative_wall_thickness(1.2, 5.0, 1.0) == pytest.approx(0.40)  # 2 x 1.0 / 5.0
    assert g.relative_wall_thickness(
        1.2, 5.0, 1.0, load_profile("default").model_copy(update={"rwt_formula": "sum"})
    ) == pytest.approx(0.44)  # (1.2 + 1.0) / 5.0


@pytest.mark.parametrize(
    ("rwt", "lvmi", "sex", "expected"),
    [
        (0.42, 95, "female", "normal"),
        (0.43, 95, "female", "concentric_remodeling"),
        (0.43, 96, "female", "concentric_hypertrophy"),
        (0.42, 96, "female", "eccentric_hypertrophy"),
        (0.40, 115, "male", "normal"),
        (0.40, 116, "male", "eccentric_hypertrophy"),
        (0.50, 116, "male", "concentric_hypertrophy"),
    ],
)
def test_lv_geometry(rwt, lvmi, sex, expected):
    assert g.lv_geometry(rwt, lvmi, sex) == expected


@pytest.mark.parametrize(
    ("lavi", "expected"),
    [
        (34, "normal"),
        (35, "mildly_dilated"),
        (41, "mildly_dilated"),
        (42, "moderately_dilated"),
        (48, "moderately_dilated"),
        (49, "severely_dilated"),
    ],
)
def test_la_size(lavi, expected):
    assert g.la_size_grade(lavi) == expected


def test_right_heart_single_cutoffs():
    assert g.rv_size_grade(4.1) == "normal" and g.rv_size_grade(4.2) == "dilated"  # > 41 mm
    assert g.rv_function_grade(1.7) == "normal" and g.rv_function_grade(1.6) == "reduced"  # TAPSE < 17 mm
    assert g.ra_size_grade(18) == "normal" and g.ra_size_grade(19) == "dilated"  # RA area > 18 cm²


# ---------------------------------------------------------------- RAP, RVSP, PH


@pytest.mark.parametrize(
    ("ivc", "collapse", "expected"),
    [
        (2.1, 51, (3, (0, 5))),
        (2.1, 49, (8, (5, 10))),
        (2.2, 51, (8, (5, 10))),
        (2.2, 49, (15, (10, 20))),
        (2.1, 50, (8, (5, 10))),  # > 50 % is needed for the low estimate
    ],
)
def test_rap_from_ivc(ivc, collapse, expected):
    assert g.rap_from_ivc(ivc, collapse) == expected


def test_rap_not_estimated_when_ventilated_or_missing():
    assert g.rap_from_ivc(1.5, 60, ventilated=True) is None
    assert g.rap_from_ivc(None, 60) is None


def test_rvsp():
    assert g.rvsp(2.8, 3) == pytest.approx(34.36)  # 4 x 2.8² + 3
    assert g.rvsp(3.5, 15) == pytest.approx(64.0)


@pytest.mark.parametrize(
    ("trv", "signs", "expected"),
    [
        (2.8, [], "low"),
        (2.8, ["A", "B"], "intermediate"),
        (None, [], "low"),
        (None, ["B", "C"], "intermediate"),
        (2.9, [], "intermediate"),
        (2.9, ["A", "C"], "high"),
        (3.4, [], "intermediate"),
        (3.4, ["A", "B"], "high"),
        (3.4, ["A"], "intermediate"),  # one category is not enough
        (3.5, [], "high"),
    ],
)
def test_ph_probability_esc_table(trv, signs, expected):
    assert g.ph_probability(trv, signs) == expected


def test_ph_signs_count_categories_not_signs():
    two_a = make_study({"tr_vmax": 3.0, "rv_lv_ratio": 1.2, "septal_flattening": True})
    assert set(ph_signs(two_a)) == {"A"}
    a_and_b = make_study({"tr_vmax": 3.0, "rv_lv_ratio": 1.2, "rvot_acceleration_time": 90})
    assert set(ph_signs(a_and_b)) == {"A", "B"}
    facts = {f.concept: f for f in grade_study(a_and_b)}
    assert facts["ph_probability"].grade == "high"


@pytest.mark.parametrize(
    ("pasp", "profile", "expected"),
    [
        (35, "default", "normal"),
        (36, "default", "mildly_elevated"),
        (45, "default", "mildly_elevated"),
        (46, "default", "moderately_elevated"),
        (60, "default", "moderately_elevated"),
        (61, "default", "severely_elevated"),
        (34, "acc", "normal"),
        (35, "acc", "mildly_elevated"),
        (49, "acc", "mildly_elevated"),
        (50, "acc", "moderately_elevated"),
        (70, "acc", "moderately_elevated"),
        (71, "acc", "severely_elevated"),
        (35, "esc", "normal"),
        (36, "esc", "elevated"),
    ],
)
def test_pasp_wording(pasp, profile, expected):
    assert g.pasp_grade(pasp, profile) == expected


# ---------------------------------------------------------------- valves


@pytest.mark.parametrize(
    ("vmax", "profile", "expected"),
    [
        (2.5, "default", "none"),
        (2.6, "default", "mild"),
        (2.9, "default", "mild"),
        (3.0, "default", "moderate"),
        (3.9, "default", "moderate"),
        (4.0, "default", "severe"),
        (5.0, "default", "severe"),
        (1.9, "acc", "none"),
        (2.0, "acc", "mild"),
        (2.9, "acc", "mild"),
        (3.0, "acc", "moderate"),
        (4.0, "acc", "severe"),
        (4.9, "acc", "severe"),
        (5.0, "acc", "very_severe"),
    ],
)
def test_as_by_vmax(vmax, profile, expected):
    assert g.aortic_stenosis_grade(vmax, None, None, profile).grade == expected


@pytest.mark.parametrize(
    ("vmax", "mg", "ava", "expected", "discordant"),
    [
        (4.3, 48, 0.8, "severe", False),
        (3.5, 30, 1.2, "moderate", False),
        (2.7, 12, 1.8, "mild", False),  # MG < 20 and AVA > 1.5 are compatible with mild
        (1.2, 4, None, "none", False),
        (3.5, 42, 0.8, "severe", True),  # two of three say severe
        (4.2, 35, 1.2, "moderate", True),  # two of three say moderate
        (3.5, None, 0.8, "moderate", True),  # tie: Vmax is the primary criterion
        (None, 45, 1.2, "moderate", True),  # tie without Vmax: the milder grade, never an upgrade
        (None, 45, 0.9, "severe", False),
    ],
)
def test_as_discordance(vmax, mg, ava, expected, discordant):
    result = g.aortic_stenosis_grade(vmax, mg, ava)
    assert (result.grade, result.discordant) == (expected, discordant)


def test_as_ava_boundary_differs_by_scheme_and_low_flow():
    assert g.aortic_stenosis_grade(None, None, 1.0, "default").grade == "moderate"  # ASE17: severe < 1.0
    assert g.aortic_stenosis_grade(None, None, 1.0, "acc").grade == "severe"  # ACC20: severe <= 1.0
    assert g.aortic_stenosis_grade(None, None, 0.99, "default").grade == "severe"
    assert g.aortic_stenosis_grade(3.6, 30, 0.8, svi=30).low_flow is True  # SVi < 35 mL/m²
    assert g.aortic_stenosis_grade(None, None, None) is None


@pytest.mark.parametrize(
    ("mva", "profile", "expected"),
    [
        (1.6, "default", "mild"),
        (1.5, "default", "moderate"),
        (1.0, "default", "moderate"),
        (0.99, "default", "severe"),
        (1.6, "acc", "mild"),
        (1.5, "acc", "severe"),
        (1.1, "acc", "severe"),
        (1.0, "acc", "very_severe"),
    ],
)
def test_ms_by_mva(mva, profile, expected):
    assert g.mitral_stenosis_grade(mva, None, profile).grade == expected


@pytest.mark.parametrize(("mg", "expected"), [(4, None), (5, "moderate"), (10, "moderate"), (11, "severe")])
def test_ms_by_gradient_only_without_mva(mg, expected):
    result = g.mitral_stenosis_grade(None, mg)
    assert (result.grade if result else None) == expected


# ---------------------------------------------------------------- pericardium, aorta


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (0, "none"),
        (0.5, "small"),
        (0.99, "small"),
        (1.0, "moderate"),
        (2.0, "moderate"),
        (2.1, "large"),
    ],
)
def test_effusion(width, expected):
    assert g.effusion_grade(width) == expected


@pytest.mark.parametrize(
    ("root", "asc", "sex", "expected"),
    [
        (4.0, None, "male", {"root": "normal"}),
        (4.1, None, "male", {"root": "dilated"}),
        (3.6, None, "female", {"root": "normal"}),
        (3.7, None, "female", {"root": "dilated"}),
        (4.5, 3.8, "male", {"root": "aneurysmal", "ascending": "normal"}),
        (None, 3.9, "male", {"ascending": "dilated"}),
        (None, 3.6, "female", {"ascending": "dilated"}),
    ],
)
def test_aortic_dilation(root, asc, sex, expected):
    assert g.aortic_dilation(root, asc, sex) == expected


# ---------------------------------------------------------------- diastolic function

NORMAL_DD = {
    "lvef": 60,
    "e_velocity": 70,
    "a_velocity": 60,
    "e_prime_septal": 8,
    "e_prime_lateral": 11,
    "tr_vmax": 2.5,
    "lavi": 30,
}


@pytest.mark.parametrize(
    ("changes", "grade", "pressure"),
    [
        ({}, "normal", "normal"),  # 0 of 4 abnormal
        ({"lavi": 40}, "normal", "normal"),  # 1 of 4
        ({"lavi": 40, "tr_vmax": 3.0}, "indeterminate", "indeterminate"),  # 2 of 4
        # 3 of 4 (E/e' 120/7.5 = 16, e' low, LAVI 40) -> dysfunction; E/A 1.2 with 2 of 3 positive -> II
        (
            {"e_velocity": 120, "a_velocity": 100, "e_prime_septal": 6, "e_prime_lateral": 9, "lavi": 40},
            "grade_2",
            "elevated",
        ),
        (
            {
                "e_velocity": 120,
                "a_velocity": 48,
                "e_prime_septal": 6,
                "e_prime_lateral": 9,
                "lavi": 40,
                "tr_vmax": 3.2,
            },
            "grade_3",
            "elevated",
        ),  # 4 of 4, E/A 2.5
    ],
)
def test_diastolic_normal_ef_branch(changes, grade, pressure):
    result = diastolic_function(make_study({**NORMAL_DD, **changes}))
    assert result.applicable
    assert result.algorithm == ("A" if grade in ("normal", "indeterminate") else "B")
    assert (result.grade, result.filling_pressure) == (grade, pressure)


@pytest.mark.parametrize(
    ("m", "grade"),
    [
        ({"e_velocity": 45, "a_velocity": 80}, "grade_1"),  # E/A 0.56, E <= 50
        ({"e_velocity": 50, "a_velocity": 62.5}, "grade_1"),  # E/A 0.8, E 50: boundary
        ({"e_velocity": 120, "a_velocity": 50}, "grade_3"),  # E/A 2.4
        ({"e_velocity": 100, "a_velocity": 50}, "grade_3"),  # E/A 2.0: boundary
        # E/A 0.86: E/e' 70/6 = 11.7 neg, TRV 2.5 neg, LAVI 40 pos -> 2 negative -> I
        (
            {
                "e_velocity": 70,
                "a_velocity": 81,
                "e_prime_septal": 5,
                "e_prime_lateral": 7,
                "tr_vmax": 2.5,
                "lavi": 40,
            },
            "grade_1",
        ),
        # E/A 0.8 with E 60 > 50 goes to the criteria: TRV 3.0 pos, LAVI 40 pos -> II
        ({"e_velocity": 60, "a_velocity": 75, "tr_vmax": 3.0, "lavi": 40}, "grade_2"),
        (
            {"e_velocity": 60, "a_velocity": 70, "tr_vmax": 3.0, "lavi": 30},
            "indeterminate",
        ),  # 2 available, split
        ({"e_velocity": 60, "a_velocity": 70, "tr_vmax": 3.0}, "indeterminate"),  # 1 available
    ],
)
def test_diastolic_reduced_ef_branch(m, grade):
    result = diastolic_function(make_study({"lvef": 35, **m}))
    assert result.applicable and result.algorithm == "B"
    assert result.grade == grade


def test_diastolic_myocardial_disease_uses_inflow_branch():
    # Normal EF but IVSd 1.4 cm in a woman (LVH) -> algorithm B: E/A 0.6, E 45 -> grade I
    result = diastolic_function(make_study({"lvef": 60, "ivsd": 1.4, "e_velocity": 45, "a_velocity": 75}))
    assert (result.algorithm, result.grade) == ("B", "grade_1")


@pytest.mark.parametrize(
    ("top", "findings", "extra", "why"),
    [
        ({"rhythm": "AF"}, None, {}, "atrial-fibrillation"),
        ({"rhythm": "atrial flutter"}, None, {}, "atrial-flutter"),
        ({"rhythm": "paced"}, None, {}, "pacing"),
        ({"lbbb": True}, None, {}, "LBBB"),
        ({}, {"mitral": {"stenosis": "moderate"}}, {}, "mitral stenosis"),
        ({}, {"mitral": {"regurgitation": "moderate"}}, {}, "mitral regurgitation"),
        ({}, {"mitral": {"prosthesis": {"kind": "mechanical"}}}, {}, "mechanical"),
        ({}, None, {"heart_rate": 110}, "tachycardia"),
    ],
)
def test_diastolic_not_applicable(top, findings, extra, why):
    result = diastolic_function(make_study({**NORMAL_DD, **extra}, findings, **top))
    assert not result.applicable and result.grade is None
    assert why in result.why_not


def test_diastolic_too_few_variables():
    result = diastolic_function(make_study({"lvef": 60, "tr_vmax": 3.0, "lavi": 40}))
    assert not result.applicable and "2 of the 4" in result.why_not


def test_mild_mr_does_not_stop_the_algorithm():
    result = diastolic_function(make_study(NORMAL_DD, {"mitral": {"regurgitation": "mild"}}))
    assert result.applicable and result.grade == "normal"


# ---------------------------------------------------------------- acceptance bands


def fact(concept, value, unit, source, value_max=None, location=None):
    return Fact(
        concept=concept, value=value, value_max=value_max, unit=unit, source=source, location=location
    )


@pytest.mark.parametrize(
    ("ef", "sex", "must", "must_not"),
    [
        (52, "male", {"low_normal", "normal", "mildly_reduced"}, {"moderately_reduced"}),
        (50, "female", {"low_normal", "normal", "mildly_reduced"}, {"moderately_reduced"}),
        (54, "female", {"low_normal", "normal", "mildly_reduced"}, set()),
        (60, "female", {"normal"}, {"low_normal", "mildly_reduced"}),
        (35, "male", {"moderately_reduced", "reduced"}, {"mildly_reduced", "severely_reduced", "normal"}),
        (40, "male", {"moderately_reduced", "mildly_reduced"}, {"severely_reduced", "normal"}),
        (20, "male", {"severely_reduced"}, {"moderately_reduced"}),
    ],
)
def test_acceptable_lvef(ef, sex, must, must_not):
    ok = acceptable_grades(fact("lv_systolic_function", ef, "%", "measurements.lvef"), sex=sex)
    assert must <= ok and not (must_not & ok)


def test_acceptable_lvef_range_spans_both_ends():
    ok = acceptable_grades(
        fact("lv_systolic_function", 35, "%", "measurements.lvef", value_max=45), sex="male"
    )
    assert {"moderately_reduced", "mildly_reduced"} <= ok and "normal" not in ok


def test_strict_profile_uses_own_scheme_only():
    ok = acceptable_grades(fact("lv_systolic_function", 48, "%", "measurements.lvef"), "strict", sex="male")
    assert ok == {"mildly_reduced", "reduced"}


@pytest.mark.parametrize(
    ("lvidd", "sex", "must", "must_not"),
    [
        (5.8, "male", {"normal", "mildly_dilated"}, {"moderately_dilated"}),
        (5.5, "male", {"normal"}, {"mildly_dilated"}),
        (6.1, "male", {"mildly_dilated"}, {"normal", "moderately_dilated"}),
        (5.5, None, {"normal", "mildly_dilated"}, set()),  # unknown sex: either table
        (5.8, "female", {"moderately_dilated", "mildly_dilated"}, {"normal"}),
    ],
)
def test_acceptable_lvidd(lvidd, sex, must, must_not):
    ok = acceptable_grades(fact("lv_size", lvidd, "cm", "measurements.lvidd"), sex=sex)
    assert must <= ok and not (must_not & ok) and ("dilated" in ok) == any("dilated" in x for x in must)


@pytest.mark.parametrize(
    ("mva", "must", "must_not"),
    [
        (1.2, {"moderate", "severe"}, {"mild", "very_severe"}),
        (1.0, {"moderate", "severe", "very_severe"}, {"mild"}),
        (0.8, {"severe", "very_severe"}, {"moderate"}),
        (1.8, {"mild"}, {"moderate", "severe"}),
    ],
)
def test_acceptable_mva_either_scheme(mva, must, must_not):
    ok = acceptable_grades(fact("valve_stenosis", mva, "cm2", "measurements.mva", location="mitral"))
    assert must <= ok and not (must_not & ok)


def test_acceptable_as_discordance_uses_every_parameter():
    s = make_study({"av_vmax": 3.5, "av_mean_gradient": 30, "ava": 0.8})
    (as_fact,) = [f for f in grade_study(s) if f.concept == "valve_stenosis"]
    assert as_fact.grade == "moderate" and as_fact.rule == "ASE17-AS:as-discordant"
    ok = acceptable_grades(as_fact, study=s)
    assert {"moderate", "severe"} <= ok and "mild" not in ok


def test_acceptable_as_vmax_boundary_without_study():
    ok = acceptable_grades(fact("valve_stenosis", 3.0, "m/s", "measurements.av_vmax", location="aortic"))
    assert {"mild", "moderate"} <= ok and "severe" not in ok


def test_acceptable_regurgitation_half_steps():
    ok = acceptable_grades(Fact(concept="valve_regurgitation", location="mitral", grade="moderate"))
    assert ok == {"mild_moderate", "moderate", "moderate_severe"}


def test_acceptable_single_cutoffs_and_coarse_words():
    rv = Fact(
        concept="rv_size", grade="normal", value=4.1, unit="cm", source="measurements.rv_basal_diameter"
    )
    assert {"normal", "dilated", "mildly_dilated"} <= acceptable_grades(rv)
    tapse = Fact(
        concept="rv_systolic_function", grade="reduced", value=1.3, unit="cm", source="measurements.tapse"
    )
    assert "normal" not in acceptable_grades(tapse) and "severely_reduced" in acceptable_grades(tapse)
    dd = Fact(concept="diastolic_function", grade="grade_2")
    assert acceptable_grades(dd) == {"grade_2", "abnormal"}


def test_tolerance():
    assert tolerance("lvidd") == 0.1 and tolerance("lvef") == 1 and tolerance("unknown") is None


# ---------------------------------------------------------------- data files


def test_every_threshold_names_a_known_source_and_profiles_load():
    table = guideline_table()
    assert all(s.source in table.sources for s in table.scales.values())
    assert all(r.source in table.sources for r in table.rules.values())
    assert {"default", "acc", "esc", "strict"} <= set(profile_names())
    with pytest.raises(ValueError, match="known: "):
        load_profile("nope")


def test_unknown_key_in_a_scale_is_rejected():
    from echogpt.guidelines.tables import Scale

    with pytest.raises(ValueError, match="Extra inputs"):
        Scale.model_validate(
            {
                "family": "x",
                "concept": "la_size",
                "source": "ASE15",
                "unit": "cm",
                "precision": 1,
                "tolerance": 0.1,
                "bands": [["normal", None]],
                "typo": 1,
            }
        )
    with pytest.raises(ValueError, match="not grades of"):
        Scale.model_validate(
            {
                "family": "x",
                "concept": "la_size",
                "source": "ASE15",
                "unit": "cm",
                "precision": 1,
                "tolerance": 0.1,
                "bands": [["huge", None]],
            }
        )


def test_rule_and_source_format_of_every_fact():
    s = make_study(
        {
            **NORMAL_DD,
            "lvidd": 5.0,
            "ivsd": 0.9,
            "lvpwd": 0.9,
            "tapse": 2.2,
            "ivc_diameter": 1.8,
            "ivc_collapse": 60,
            "av_vmax": 1.3,
            "aortic_root": 3.2,
            "effusion_width": 0,
        },
        {"mitral": {"regurgitation": "trace"}, "wall_motion": {str(i): 1 for i in range(1, 18)}},
    )
    facts = grade_study(s)
    assert facts
    for f in facts:
        key, _, rule_id = f.rule.partition(":")
        assert key in guideline_table().sources and re.fullmatch(r"[\w.+-]+", rule_id), f.rule
        assert f.source.split(".")[0] in ("measurements", "findings", "patient")


def test_intermediate_grades_need_both_neighbours_for_a_measured_value(monkeypatch):
    import echogpt.guidelines.acceptance as acceptance

    vocab = {
        "lv_systolic_function": {
            "grades": ["moderately_reduced", "severely_reduced", "moderate_severely_reduced"]
        },
        "la_size": {"grades": ["mildly_dilated", "moderately_dilated", "mild_moderately_dilated"]},
    }
    monkeypatch.setattr(acceptance, "concept_vocabulary", lambda: vocab)
    # EF 30: moderately (30-40) and, within 1 point, severely (< 30) reduced -> "moderate to severe" is fine
    at_boundary = acceptable_grades(fact("lv_systolic_function", 30, "%", "measurements.lvef"), sex="male")
    assert "moderate_severely_reduced" in at_boundary
    # EF 35 is moderately reduced by every scheme: "moderately to severely" overstates it
    mid_band = acceptable_grades(fact("lv_systolic_function", 35, "%", "measurements.lvef"), sex="male")
    assert "moderate_severely_reduced" not in mid_band
    # a stated category allows an intermediate word that includes it
    stated = Fact(concept="la_size", grade="moderately_dilated", source="findings.la_size")
    assert "mild_moderately_dilated" in acceptable_grades(stated)


def test_stated_low_normal_ef_allows_either_neighbour():
    stated = Fact(concept="lv_systolic_function", grade="low_normal", source="measurements.lvef")
    assert {"low_normal", "normal", "mildly_reduced"} <= acceptable_grades(stated)


# ---------------------------------------------------------------- properties

_ORDER = ["severely_reduced", "moderately_reduced", "mildly_reduced", "normal", "hyperdynamic"]


@settings(max_examples=60, deadline=None)
@given(
    st.floats(5, 89),
    st.floats(0.1, 5),
    st.sampled_from(["male", "female", None]),
    st.sampled_from(["default", "acc"]),
)
def test_lvef_category_never_decreases_with_ef(ef, step, sex, profile):
    assert _ORDER.index(g.lvef_category(ef, sex, profile)) <= _ORDER.index(
        g.lvef_category(min(ef + step, 90), sex, profile)
    )


@settings(max_examples=40, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "lvef": st.integers(10, 85),
            "lvidd": st.floats(3.0, 8.0),
            "ivsd": st.floats(0.5, 2.5),
            "lvpwd": st.floats(0.5, 2.0),
            "lavi": st.floats(15, 90),
            "tr_vmax": st.floats(1.5, 5.0),
            "e_velocity": st.floats(30, 150),
            "a_velocity": st.floats(20, 120),
            "e_prime_septal": st.floats(3, 15),
            "e_prime_lateral": st.floats(4, 20),
            "ivc_diameter": st.floats(0.8, 3.0),
            "ivc_collapse": st.floats(0, 90),
            "av_vmax": st.floats(0.8, 6.0),
            "av_mean_gradient": st.floats(2, 90),
            "ava": st.floats(0.4, 4.0),
            "mva": st.floats(0.5, 5.0),
            "effusion_width": st.floats(0, 4),
            "aortic_root": st.floats(2.2, 6.0),
        },
    ),
    st.sampled_from(["male", "female", None]),
    st.sampled_from(["default", "acc", "esc", "strict"]),
)
def test_every_fact_accepts_its_own_grade(measurements, sex, profile):
    study = make_study(measurements, sex=sex)
    for f in grade_study(study, profile):
        if f.grade is not None:
            assert f.grade in acceptable_grades(f, profile, study=study), f
    consistency_warnings(study)


def test_bands_need_only_the_sex_unless_the_grade_is_multi_parameter() -> None:
    """Graded facts share their accepted grades across studies of one sex: that holds for every fact
    ``needs_study`` leaves out (a study's other values change nothing)."""
    from echogpt.guidelines.acceptance import acceptable_grades, needs_study
    from echogpt.guidelines.study import grade_study
    from echogpt.guidelines.tables import _profiles
    from echogpt.synth.corpus import generate_corpus

    checked = multi = 0
    for profile in _profiles():
        for s in generate_corpus(150, seed=21):
            for f in grade_study(s, profile):
                if needs_study(f):
                    multi += 1
                    continue
                checked += 1
                assert acceptable_grades(f, profile, study=s) == acceptable_grades(f, profile, sex=s.sex), f
    assert checked > 1000 and multi > 0


def test_lvh_may_be_graded_by_the_mass_index_where_the_bsa_is_known() -> None:
    # IVSd 1.4 cm (moderately thick for a man), LVIDd 5.0, LVPWd 1.3 cm, BSA 1.82 m2 -> linear LV mass
    # 276 g, LVMI 152 g/m2: severe LVH by mass (ASE15, men >= 149)
    m = {"ivsd": 1.4, "lvidd": 5.0, "lvpwd": 1.3}
    walls = Fact(concept="lv_wall_thickness", grade="moderately_increased", value=1.4, unit="cm",
                 source="measurements.ivsd")
    with_bsa = Study.model_validate({"study_id": "T", "findings_text": "x", "measurements": m,
                                     "patient": {"sex": "male", "bsa_m2": 1.82}})
    assert "severely_increased" in acceptable_grades(walls, study=with_bsa)
    no_bsa = Study.model_validate({"study_id": "T", "findings_text": "x", "measurements": m,
                                   "patient": {"sex": "male"}})
    assert "severely_increased" not in acceptable_grades(walls, study=no_bsa)
