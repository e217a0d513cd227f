"""Which grades a report may use for a measured value without being wrong (ambiguity bands).

A value near a cut-off, a value graded differently by another published scheme, or discordant
stenosis parameters make more than one grade defensible; the hallucination checker accepts any.

    acceptable_grades(Fact(concept="lv_systolic_function", value=52, unit="%"), sex="male")
    # -> {"low_normal", "normal", "mildly_reduced", "reduced"}
"""

from __future__ import annotations

import re

from echogpt.guidelines.grading import lv_mass_index
from echogpt.guidelines.tables import (
    LabProfile,
    grades_between,
    guideline_table,
    load_profile,
    rule,
    scale,
)
from echogpt.schemas import Fact, Sex, Study, concept_vocabulary

# Field path of a graded measurement -> scale family.
FAMILY_BY_SOURCE = {
    "measurements.lvef": "lvef", "measurements.lvidd": "lvidd", "measurements.lvedv": "lvedvi",
    "measurements.ivsd": "wall_thickness", "measurements.lvpwd": "wall_thickness",
    "measurements.lavi": "lavi", "measurements.la_volume": "lavi", "measurements.la_diameter": "la_diameter",
    "measurements.av_vmax": "av_vmax", "measurements.av_mean_gradient": "av_mean_gradient",
    "measurements.ava": "ava", "measurements.mva": "mva", "measurements.mv_mean_gradient": "mv_mean_gradient",
    "measurements.effusion_width": "effusion_width", "measurements.rvsp": "pasp",
    "measurements.aortic_root": "aortic_root", "measurements.ascending_aorta": "ascending_aorta",
}
# (concept, unit) -> family, for facts without a known source (e.g. read from prose).
FAMILY_BY_UNIT = {
    ("lv_systolic_function", "%"): "lvef", ("lv_size", "cm"): "lvidd", ("lv_size", "mL/m2"): "lvedvi",
    ("lv_wall_thickness", "cm"): "wall_thickness", ("la_size", "mL/m2"): "lavi",
    ("la_size", "cm"): "la_diameter",
    ("pasp", "mmHg"): "pasp", ("pericardial_effusion", "cm"): "effusion_width",
}
_VALVE_FAMILY = {("aortic", "m/s"): "av_vmax", ("aortic", "mmHg"): "av_mean_gradient",
                 ("aortic", "cm2"): "ava", ("mitral", "cm2"): "mva", ("mitral", "mmHg"): "mv_mean_gradient"}
# A stated regurgitation grade and the half-step words that include it.
_REGURG = {
    "trace": {"trace"}, "mild": {"mild", "mild_moderate"},
    "mild_moderate": {"mild", "mild_moderate", "moderate"},
    "moderate": {"mild_moderate", "moderate", "moderate_severe"},
    "moderate_severe": {"moderate", "moderate_severe", "severe"}, "severe": {"moderate_severe", "severe"},
    "massive": {"severe", "massive"}, "torrential": {"severe", "massive", "torrential"},
}
_COARSE = {"_dilated": "dilated", "_reduced": "reduced", "_increased": "increased", "_elevated": "elevated"}
_ALL = {
    "dilated": {"dilated", "mildly_dilated", "moderately_dilated", "severely_dilated"},
    "reduced": {"reduced", "mildly_reduced", "moderately_reduced", "severely_reduced"},
}


def _family(fact: Fact) -> str | None:
    if fact.source in FAMILY_BY_SOURCE:
        return FAMILY_BY_SOURCE[fact.source]
    rule_id = (fact.rule or "").partition(":")[2]
    if rule_id in guideline_table().scales:
        return scale(rule_id).family
    if fact.concept == "valve_stenosis":
        return _VALVE_FAMILY.get((fact.location or "", fact.unit or ""))
    if fact.concept == "aortic_dilation" and fact.unit == "cm":
        return "ascending_aorta" if fact.location == "ascending" else "aortic_root"
    return FAMILY_BY_UNIT.get((fact.concept, fact.unit or ""))


def _schemes(family: str, p: LabProfile) -> list[str]:
    own = p.scale_name(family)
    if not p.accept_other_schemes:
        return [own]
    return [own] + [n for n, s in guideline_table().scales.items() if s.family == family and n != own]


def tolerance(name: str) -> float | None:
    """Measurement ambiguity band for a scale, scale family or measurement field (None if unknown).

    Example: ``tolerance("lvidd")`` -> 0.1 (cm): LVIDd within 0.1 cm of a cut-off is ambiguous.
    """
    scales = guideline_table().scales
    if name in scales:
        return scales[name].tolerance
    family = FAMILY_BY_SOURCE.get(f"measurements.{name}", name)
    for s in scales.values():
        if s.family == family:
            return s.tolerance
    return None


def _banded(family: str, low: float, high: float, p: LabProfile, sex: Sex | str | None) -> set[str]:
    out: set[str] = set()
    for name in _schemes(family, p):
        tol = scale(name).tolerance
        out |= grades_between(name, low - tol, high + tol, sex)
    if family == "lvef" and low <= rule("lvef_low_normal_max") and high >= rule("lvef_low_normal_min"):
        out.add("low_normal")
    if family in ("av_mean_gradient", "ava") and "mild" in out:
        out.add("none")  # MG < 20 mmHg or AVA > 1.5 cm² cannot exclude a normal valve
    if family == "effusion_width" and low <= rule("effusion_trivial_max"):
        out.add("trivial")
    return out


def _aortic_stenosis(study: Study, p: LabProfile) -> set[str]:
    m = study.measurements
    if m is None:
        return set()
    out: set[str] = set()
    vmax = m.av_vmax if m.av_vmax is not None else (
        (m.av_peak_gradient / 4) ** 0.5 if m.av_peak_gradient else None)
    values = {"av_vmax": vmax, "av_mean_gradient": m.av_mean_gradient, "ava": m.ava}
    for family, value in values.items():
        if value is not None:
            out |= _banded(family, value, value, p, None)
    return out


def _lv_mass(study: Study, p: LabProfile) -> set[str]:
    """The LVH grade by the linear LV mass index, where the BSA is known: ASE15 grades LVH by mass,
    so "severe LVH" with a severe mass index is right whatever the walls' own grade."""
    m, bsa = study.measurements, study.patient.bsa_m2 if study.patient else None
    lvmi = lv_mass_index(m.ivsd, m.lvidd, m.lvpwd, bsa) if m else None
    return set() if lvmi is None else _banded("lvmi", lvmi, lvmi, p, study.sex)


def _ph(study: Study, fact: Fact) -> set[str]:
    from echogpt.guidelines.grading import ph_probability, rvsp
    from echogpt.guidelines.study import ph_signs

    m = study.measurements
    if m is None or m.tr_vmax is None:
        return set()
    tol = rule("tr_vmax_tolerance")
    pasp = m.rvsp if m.rvsp is not None else (rvsp(m.tr_vmax, m.rap) if m.rap is not None else None)
    signs = list(ph_signs(study, pasp))
    return {ph_probability(v, signs) for v in (m.tr_vmax - tol, m.tr_vmax, m.tr_vmax + tol)}


def _threshold(fact: Fact, cut: float, tol: float, below_is: str, above_is: str,
               strict_above: bool) -> set[str]:
    """Grades for a single-cut-off measurement within ± tol (above_is expands to every severity)."""
    assert fact.value is not None
    lo, hi = fact.value - tol, (fact.value_max or fact.value) + tol
    out: set[str] = set()
    if (lo <= cut) if strict_above else (lo < cut):
        out.add(below_is)
    if (hi > cut) if strict_above else (hi >= cut):
        out |= _ALL.get(above_is, {above_is})
    return out


def _single_cut(fact: Fact) -> set[str]:
    if fact.value is None:
        return set()
    if fact.concept == "rv_size" and fact.source == "measurements.rv_basal_diameter":
        return _threshold(fact, rule("rv_basal_diameter_max"), rule("rv_basal_tolerance"), "normal",
                          "dilated", True)
    if fact.concept == "rv_systolic_function" and fact.source == "measurements.tapse":
        # TAPSE below the cut is reduced: mirror the value so "above" means abnormal.
        mirrored = fact.model_copy(update={"value": -fact.value, "value_max": None})
        return _threshold(mirrored, -rule("tapse_min"), rule("tapse_tolerance"), "normal", "reduced", False)
    if fact.concept == "ra_size" and fact.source == "measurements.ra_area":
        return _threshold(fact, rule("ra_area_max"), rule("ra_area_tolerance"), "normal", "dilated", True)
    return set()


def _widen(grades: set[str]) -> set[str]:
    out = set(grades)
    for g in grades:
        for suffix, coarse in _COARSE.items():
            if g.endswith(suffix):
                out.add(coarse)
        if g in ("grade_1", "grade_2", "grade_3"):
            out.add("abnormal")
        if g == "very_severe":
            out.add("severe")
        if g == "dilated":  # aortic flags have one "dilated" band below aneurysmal
            out |= {"mildly_dilated", "moderately_dilated"}
        if g == "aneurysmal":
            out |= {"severely_dilated", "dilated"}
    return out


_BETWEEN = re.compile(r"^(mild|moderate)_(\w+ly)_(\w+)$")  # "moderate_severely_reduced"


def _between_grades(concept: str, grades: set[str], measured: bool) -> set[str]:
    """Intermediate vocabulary grades ("mild_moderately_dilated") that the accepted grades allow.

    A measured value must sit where both neighbours are acceptable (it claims a boundary value);
    a stated category allows any intermediate word that includes it, as for regurgitation.
    """
    out = set()
    for g in concept_vocabulary().get(concept, {}).get("grades", []):
        m = _BETWEEN.match(g)
        if m is None:
            continue
        ends = {f"{m.group(1)}ly_{m.group(3)}", f"{m.group(2)}_{m.group(3)}"}
        if (ends <= grades) if measured else (ends & grades):
            out.add(g)
    return out


def needs_study(fact: Fact) -> bool:
    """Whether ``acceptable_grades`` reads more of the study than the patient's sex for this fact
    (the multi-parameter grades: aortic stenosis, PH probability, LVH by the walls or the mass)."""
    if fact.concept in ("ph_probability", "lv_wall_thickness"):
        return True
    return fact.concept == "valve_stenosis" and fact.location == "aortic"


def acceptable_grades(fact: Fact, profile: LabProfile | str = "default", *,
                      sex: Sex | str | None = None, study: Study | None = None) -> set[str]:
    """Grades a report may use for this fact without being wrong.

    Covers: the fact's own grade; grades within the measurement tolerance of a cut-off (LVIDd
    within 0.1 cm); grades of the other published schemes for the same quantity (LVEF 50-54 % ->
    low_normal, normal or mildly_reduced; MVA 1.0-1.5 cm² -> moderate or severe); discordant aortic
    stenosis parameters (each parameter's grade); the coarse words ("dilated", "reduced",
    "elevated", "abnormal"); half-step regurgitation words that include the stated grade.

    Args:
        fact: A fact from grade_study (or any fact with value, unit and source/rule).
        profile: Lab profile or name; a profile with accept_other_schemes=False judges by its own
            scheme plus the measurement tolerance only.
        sex: Patient sex for sex-specific scales (None: either sex's table; taken from study if given).
        study: The study, for multi-parameter grades (aortic stenosis, PH probability).

    Returns:
        A set of grade names; "none" in it means the report may call the finding absent.
        Empty when the fact has no grade to judge.
    """
    p = load_profile(profile)
    if study is not None and sex is None:
        sex = study.sex
    out: set[str] = {fact.grade} if fact.grade else set()
    if fact.polarity == "absent" and fact.concept in ("valve_stenosis", "pericardial_effusion"):
        out.add("none")
    if fact.concept == "valve_stenosis" and fact.location == "aortic" and study is not None:
        out |= _aortic_stenosis(study, p)
    elif fact.concept == "ph_probability" and study is not None:
        out |= _ph(study, fact)
    elif fact.concept == "valve_regurgitation" and fact.grade in _REGURG:
        out |= _REGURG[fact.grade]
    elif fact.concept == "lv_systolic_function" and fact.grade == "low_normal" and fact.value is None:
        out |= {"normal", "mildly_reduced"}  # a borderline EF may be called either (ASE05 vs ASE15)
    else:
        family = _family(fact)
        if family is not None and fact.value is not None:
            high = fact.value_max if fact.value_max is not None else fact.value
            out |= _banded(family, fact.value, high, p, sex)
        else:
            out |= _single_cut(fact)
    if fact.concept == "lv_wall_thickness" and study is not None:
        out |= _lv_mass(study, p)
    if fact.concept == "valve_stenosis" and "none" in out:
        out.add("sclerosis")  # aortic sclerosis is thickening without stenosis
    if fact.concept in ("rv_size", "ra_size", "rv_systolic_function") and fact.grade in _ALL:
        out |= _ALL[fact.grade]  # ASE15 gives no severity partitions for these
    out = _widen(out)
    return out | _between_grades(fact.concept, out, measured=fact.value is not None)
