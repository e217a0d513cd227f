"""The guideline engine: ASE/EACVI, ACC/AHA and ESC grading of echo measurements as pure functions.

Thresholds are data (``resources/guidelines.json`` via ``echogpt.guidelines.tables``); a lab profile picks
the scheme where guidelines differ. Whole-study grading, diastology, acceptance bands and
consistency checks live in sibling modules and are re-exported here.

    facts = grade_study(study)                     # every Fact derivable from the structured data
    lvef_category(53, Sex.female)                  # -> "mildly_reduced" (ASE15)
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from echogpt.guidelines.tables import (
    LabProfile,
    grade,
    load_profile,
    profile_names,
    round_half_up,
    rule,
    scale,
)
from echogpt.schemas import Sex

__all__ = [
    "LabProfile", "StenosisResult", "aortic_dilation", "aortic_stenosis_grade", "effusion_grade",
    "la_diameter_grade", "la_size_grade", "load_profile", "lv_geometry", "lv_mass_index", "lv_mass_linear",
    "lv_size_grade",
    "lvedvi_grade", "lvef_category", "lvmi_grade", "mitral_stenosis_grade", "pasp_grade", "ph_probability",
    "profile_names", "ra_size_grade", "rap_from_ivc", "rap_grade", "relative_wall_thickness",
    "rv_function_grade", "rv_size_grade", "rvsp", "wall_thickness_grade",
]

ProfileArg = LabProfile | str


# ---------------------------------------------------------------- left ventricle


def lvef_category(ef: float, sex: Sex | str | None = None, profile: ProfileArg = "default") -> str:
    """LVEF category in the concept vocabulary (ASE15 by sex, or the sex-neutral simple scheme).

    Example: "LVEF 53 %" in a woman is mildly reduced by ASE15 (normal 54-74 %), normal by the
    simple scheme (50-70 %).

    Args:
        ef: LVEF in %.
        sex: Patient sex; unknown sex takes the male (wider) normal range.
        profile: Lab profile or its name.

    Returns:
        hyperdynamic | normal | mildly_reduced | moderately_reduced | severely_reduced.
    """
    return grade(load_profile(profile).scale_name("lvef"), ef, sex)


def lv_size_grade(lvidd_cm: float, sex: Sex | str | None = None) -> str:
    """LV size from LVIDd (ASE15): men normal 4.2-5.8 cm, women 3.8-5.2 cm.

    Returns:
        normal | mildly_dilated | moderately_dilated | severely_dilated.
    """
    return grade("lvidd_ase2015", lvidd_cm, sex)


def lvedvi_grade(lvedvi_ml_m2: float, sex: Sex | str | None = None) -> str:
    """LV size from LVEDV index in mL/m² (ASE15): men normal 34-74, women 29-61."""
    return grade("lvedvi_ase2015", lvedvi_ml_m2, sex)


def wall_thickness_grade(thickness_cm: float, sex: Sex | str | None = None) -> str:
    """LV wall thickness (pass max(IVSd, LVPWd)) by the ASE05 partitions kept in ASE15.

    Returns:
        normal | mildly_increased | moderately_increased | severely_increased.
    """
    return grade("wall_thickness_ase2015", thickness_cm, sex)


def lv_mass_linear(ivsd_cm: float, lvidd_cm: float, lvpwd_cm: float) -> float:
    """LV mass in g by the ASE-corrected cube formula (Devereux), dimensions in cm (ASE15).

    LV mass = 0.8 × 1.04 × [(IVSd + LVIDd + LVPWd)³ − LVIDd³] + 0.6 g.
    """
    return 0.8 * 1.04 * ((ivsd_cm + lvidd_cm + lvpwd_cm) ** 3 - lvidd_cm ** 3) + 0.6


def lv_mass_index(ivsd_cm: float | None, lvidd_cm: float | None, lvpwd_cm: float | None,
                  bsa_m2: float | None) -> float | None:
    """LV mass index in g/m²: the linear LV mass over the BSA (ASE15); None when a dimension or the
    BSA is not known."""
    if ivsd_cm is None or lvidd_cm is None or lvpwd_cm is None or not bsa_m2:
        return None
    return lv_mass_linear(ivsd_cm, lvidd_cm, lvpwd_cm) / bsa_m2


def relative_wall_thickness(ivsd_cm: float | None, lvidd_cm: float, lvpwd_cm: float,
                            profile: ProfileArg = "default") -> float:
    """RWT = 2 × LVPWd / LVIDd (ASE15), or (IVSd + LVPWd) / LVIDd where the profile says so."""
    if load_profile(profile).rwt_formula == "sum" and ivsd_cm is not None:
        return (ivsd_cm + lvpwd_cm) / lvidd_cm
    return 2 * lvpwd_cm / lvidd_cm


def lvmi_grade(lvmi_g_m2: float, sex: Sex | str | None = None) -> str:
    """LV mass index (linear method) grade: men normal ≤ 115, women ≤ 95 g/m² (ASE15)."""
    return grade("lvmi_linear_ase2015", lvmi_g_m2, sex)


def lv_geometry(rwt: float, lvmi_g_m2: float, sex: Sex | str | None = None) -> str:
    """ASE15 LV geometry from RWT (> 0.42 increased) and LV mass index (sex-specific).

    Returns:
        normal | concentric_remodeling | concentric_hypertrophy | eccentric_hypertrophy.
    """
    increased_mass = lvmi_grade(lvmi_g_m2, sex) != "normal"
    increased_rwt = round_half_up(rwt, 2) > rule("rwt_max")
    if increased_mass:
        return "concentric_hypertrophy" if increased_rwt else "eccentric_hypertrophy"
    return "concentric_remodeling" if increased_rwt else "normal"


# ---------------------------------------------------------------- atria, right heart


def la_size_grade(lavi_ml_m2: float) -> str:
    """LA size from LAVI (ASE15, both sexes): ≤ 34 normal, 35-41 mild, 42-48 moderate, > 48 severe."""
    return grade("lavi_ase2015", lavi_ml_m2)


def la_diameter_grade(diameter_cm: float, sex: Sex | str | None = None) -> str:
    """LA size from the AP diameter (ASE05 partitions; ASE15 prefers LAVI)."""
    return grade("la_diameter_ase2005", diameter_cm, sex)


def ra_size_grade(ra_area_cm2: float) -> str:
    """RA size from the end-systolic area: > 18 cm² is dilated (ASE10-RH)."""
    return "dilated" if ra_area_cm2 > rule("ra_area_max") else "normal"


def rv_size_grade(basal_diameter_cm: float) -> str:
    """RV size: basal diameter > 4.1 cm is dilated (ASE15); no severity partitions exist."""
    return "dilated" if round_half_up(basal_diameter_cm, 1) > rule("rv_basal_diameter_max") else "normal"


def rv_function_grade(tapse_cm: float) -> str:
    """RV systolic function from TAPSE: < 1.7 cm is reduced (ASE15)."""
    return "reduced" if round_half_up(tapse_cm, 1) < rule("tapse_min") else "normal"


def rap_from_ivc(diameter_cm: float | None, collapse_pct: float | None,
                 ventilated: bool = False) -> tuple[float, tuple[float, float]] | None:
    """RA pressure from IVC size and sniff collapse (ASE10-RH, kept in ASE15).

    Example: IVC 1.8 cm collapsing > 50 % -> 3 mmHg (0-5); IVC 2.4 cm collapsing < 50 % -> 15 mmHg.

    Args:
        diameter_cm: IVC diameter.
        collapse_pct: Inspiratory (sniff) collapse in %.
        ventilated: Mechanically ventilated patients: the IVC does not estimate RAP.

    Returns:
        (RAP mmHg, (low, high)) or None when not estimable.
    """
    if ventilated or diameter_cm is None or collapse_pct is None:
        return None
    small = diameter_cm <= rule("ivc_diameter_max")
    if small and collapse_pct > rule("ivc_collapse_min"):
        key = "rap_normal"
    elif not small and collapse_pct < rule("ivc_collapse_min"):
        key = "rap_high"
    else:
        key = "rap_intermediate"
    r = _rules()[key]
    assert r.range is not None
    return r.value, r.range


def rap_grade(rap_mmhg: float) -> str:
    """normal (≤ 5), intermediate (6-10) or elevated (> 10 mmHg), the ASE10-RH ranges."""
    if rap_mmhg <= _rules()["rap_normal"].range[1]:  # type: ignore[index]
        return "normal"
    return "intermediate" if rap_mmhg <= _rules()["rap_intermediate"].range[1] else "elevated"  # type: ignore[index]


def rvsp(tr_vmax_ms: float, rap_mmhg: float) -> float:
    """RV systolic pressure (≈ PASP without RVOT obstruction) = 4 × TRV² + RAP, in mmHg."""
    return 4 * tr_vmax_ms ** 2 + rap_mmhg


def pasp_grade(pasp_mmhg: float, profile: ProfileArg = "default") -> str:
    """Descriptive PASP grade by the profile's wording (normal / mildly_elevated / ... / elevated)."""
    return grade(load_profile(profile).scale_name("pasp"), pasp_mmhg)


def ph_probability(tr_vmax_ms: float | None, sign_categories: Iterable[str] | int = ()) -> str:
    """ESC 2022 echocardiographic probability of pulmonary hypertension.

    Example: TRV 3.1 m/s with septal flattening (A) and RVOT AT 90 ms (B) -> high.

    Args:
        tr_vmax_ms: Peak TR velocity (None = not measurable).
        sign_categories: The categories (A ventricles, B pulmonary artery, C IVC/RA) with at least
            one other PH sign, or their count. Signs count when >= 2 categories show one.

    Returns:
        low | intermediate | high.
    """
    count = sign_categories if isinstance(sign_categories, int) else len(set(sign_categories))
    signs = count >= rule("ph_sign_categories")
    band = "low" if tr_vmax_ms is None else grade("tr_vmax_esc2022", tr_vmax_ms)
    if band == "high":
        return "high"
    if band == "intermediate":
        return "high" if signs else "intermediate"
    return "intermediate" if signs else "low"


# ---------------------------------------------------------------- valves


class StenosisResult(BaseModel):
    """A stenosis grade from several parameters, with the parameter grades and any discordance."""

    model_config = ConfigDict(extra="forbid")
    grade: str = Field(description="none | mild | moderate | severe | very_severe")
    discordant: bool = Field(False, description="The parameters do not all support the grade")
    by_parameter: dict[str, str] = Field(default_factory=dict, description="field -> grade by it alone")
    low_flow: bool | None = Field(None, description="AS only: SVi < 35 mL/m² (None if SVi unknown)")
    rule: str = Field(description="<SOURCE>:<rule id>")


# Parameters whose lowest band cannot separate mild stenosis from none (MG < 20 mmHg, AVA > 1.5 cm²).
_LOW_END_AMBIGUOUS = {"av_mean_gradient", "ava"}
_ORDER = ["none", "mild", "moderate", "severe", "very_severe"]


def _compatible(field: str, parameter_grade: str) -> set[str]:
    """Overall grades a parameter's own grade is consistent with."""
    if parameter_grade == "mild" and field in _LOW_END_AMBIGUOUS:
        return {"none", "mild"}
    if parameter_grade in ("severe", "very_severe"):
        return {"severe", "very_severe"}  # differ only by the ACC/AHA extra band
    return {parameter_grade}


def _combine(grades: dict[str, str], primary: str) -> tuple[str, bool]:
    """The grade most parameters support; ties go to the primary parameter, else the milder grade."""
    support = {g: sum(g in _compatible(f, pg) for f, pg in grades.items()) for g in _ORDER}
    best = max(support.values())
    candidates = [g for g in _ORDER if support[g] == best]
    chosen = grades[primary] if grades.get(primary) in candidates else candidates[0]
    discordant = any(chosen not in _compatible(f, pg) for f, pg in grades.items())
    return chosen, discordant


def aortic_stenosis_grade(vmax: float | None, mean_gradient: float | None, ava: float | None,
                          profile: ProfileArg = "default", svi: float | None = None) -> StenosisResult | None:
    """Aortic stenosis grade from Vmax (m/s), mean gradient (mmHg) and AVA (cm²) (ASE17-AS/ACC20-VHD).

    Discordant parameters give the grade most of them support (ties: the Vmax grade, the primary
    criterion; without Vmax the milder grade, never an upgrade) and ``discordant=True``.
    Example: Vmax 4.3, MG 48, AVA 0.8 -> severe, concordant.

    Returns:
        The result, or None when no parameter is given.
    """
    p = load_profile(profile)
    values = {"av_vmax": vmax, "av_mean_gradient": mean_gradient, "ava": ava}
    grades = {f: grade(p.scale_name(f), v) for f, v in values.items() if v is not None}
    if not grades:
        return None
    chosen, discordant = _combine(grades, "av_vmax")
    low_flow = None if svi is None else svi < rule("as_low_flow_svi")
    source = scale(p.scale_name(next(iter(grades)))).source
    rule_id = "as-discordant" if discordant else "as-grade"
    return StenosisResult(grade=chosen, discordant=discordant, by_parameter=grades, low_flow=low_flow,
                          rule=f"{source}:{rule_id}")


def mitral_stenosis_grade(mva: float | None, mean_gradient: float | None,
                          profile: ProfileArg = "default") -> StenosisResult | None:
    """Mitral stenosis grade by MVA (cm²); the mean gradient (mmHg) is used only without an MVA.

    EAE/ASE 2009: > 1.5 mild, 1.0-1.5 moderate, < 1.0 severe. ACC/AHA 2020: ≤ 1.5 severe,
    ≤ 1.0 very severe. A mean gradient below 5 mmHg alone grades nothing (normal valves too).

    Returns:
        The result, or None when neither value grades a stenosis.
    """
    p = load_profile(profile)
    if mva is not None:
        name = p.scale_name("mva")
        by = {"mva": grade(name, mva)}
        if mean_gradient is not None:
            by["mv_mean_gradient"] = grade("mv_mean_gradient_ase2009", mean_gradient)
        return StenosisResult(grade=by["mva"], by_parameter=by, rule=f"{scale(name).source}:ms-mva")
    if mean_gradient is None:
        return None
    g = grade("mv_mean_gradient_ase2009", mean_gradient)
    if g == "mild":
        return None
    return StenosisResult(grade=g, by_parameter={"mv_mean_gradient": g}, rule="ASE09-VS:ms-gradient")


# ---------------------------------------------------------------- pericardium, aorta


def effusion_grade(width_cm: float) -> str:
    """Pericardial effusion size by end-diastolic width (ESC15-Peri): 0 -> none, < 1 cm small,
    1-2 cm moderate, > 2 cm large."""
    if width_cm <= 0:
        return "none"
    return grade("effusion_width_esc2015", width_cm)


def aortic_dilation(root_cm: float | None, ascending_cm: float | None,
                    sex: Sex | str | None = None) -> dict[str, str]:
    """Aortic root / ascending aorta flags: above ASE15 mean + 2 SD dilated, ≥ 4.5 cm aneurysmal.

    Returns:
        {"root": grade, "ascending": grade} for the sizes given (normal | dilated | aneurysmal).
    """
    out: dict[str, str] = {}
    if root_cm is not None:
        out["root"] = grade("aortic_root_ase2015", root_cm, sex)
    if ascending_cm is not None:
        out["ascending"] = grade("ascending_aorta_ase2015", ascending_cm, sex)
    return out


def _rules():  # noqa: ANN202 - internal accessor
    from echogpt.guidelines.tables import guideline_table

    return guideline_table().rules

