"""LV diastolic function by the ASE/EACVI 2016 algorithms (ASE16-DD), from a study's structured data.

Algorithm A (normal LVEF, no myocardial disease) counts four abnormal variables; algorithm B
(reduced LVEF or myocardial disease, or A found dysfunction) grades by mitral inflow and three
criteria. Not applied in AF/flutter, pacing, LBBB, significant mitral disease or tachycardia.

A ratio the report states (``e_a_ratio``, ``e_e_prime_avg``) stands in for its components when they
are missing, and each reason says the ratio was the stated one. Where both exist the components win
(they are the primary measurements; a stated ratio is a rounded or separately measured copy), except
that a stated average E/e' wins over an E/e' from one e' site, as ASE16 prefers the average.

    result = diastolic_function(study)   # DiastolicResult(grade="grade_2", filling_pressure="elevated", ...)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from echogpt.guidelines.grading import lv_mass_index, lvmi_grade, wall_thickness_grade
from echogpt.guidelines.tables import load_profile, round_half_up, rule
from echogpt.schemas import Measurements, RegurgitationGrade, Rhythm, StenosisGrade, Study

_SIGNIFICANT_MR = {RegurgitationGrade.moderate, RegurgitationGrade.moderate_severe, RegurgitationGrade.severe,
                   RegurgitationGrade.massive, RegurgitationGrade.torrential}
_MS = {StenosisGrade.mild, StenosisGrade.moderate, StenosisGrade.severe, StenosisGrade.very_severe}


class DiastolicResult(BaseModel):
    """The outcome of the ASE16 algorithms for one study."""

    model_config = ConfigDict(extra="forbid")
    applicable: bool = Field(description="False when the algorithm does not apply or data are too few")
    why_not: str | None = Field(None, description="Why not applicable (one line)")
    grade: str | None = Field(
        None, description="normal | grade_1 | grade_2 | grade_3 | indeterminate | abnormal")
    filling_pressure: str | None = Field(None, description="normal | elevated | indeterminate")
    algorithm: str | None = Field(None, description="A (normal EF) or B (reduced EF / myocardial disease)")
    reasons: list[str] = Field(default_factory=list, description="Each criterion and its value")
    rule: str | None = Field(None, description="ASE16-DD:<rule id>")


def not_applicable_reason(study: Study) -> str | None:
    """Why the ASE16 algorithms do not apply to this study (None when they do)."""
    rhythm = study.rhythm
    if rhythm in (Rhythm.atrial_fibrillation, Rhythm.atrial_flutter):
        return f"rhythm is {rhythm.value}: the algorithm is for sinus rhythm (ASE16-DD)"
    if rhythm == Rhythm.paced:
        return "ventricular pacing: the algorithm does not apply (ASE16-DD)"
    if study.lbbb:
        return "LBBB: the algorithm does not apply (ASE16-DD)"
    m = study.measurements or Measurements()
    if m.heart_rate is not None and m.heart_rate > rule("dd_heart_rate_max"):
        return f"heart rate {m.heart_rate:g} bpm (sinus tachycardia): the algorithm does not apply (ASE16-DD)"
    mitral = study.findings.mitral if study.findings else None
    if mitral is not None:
        if mitral.prosthesis is not None:
            return f"mitral {mitral.prosthesis.kind}: the algorithm does not apply (ASE16-DD)"
        if mitral.stenosis in _MS:
            return "mitral stenosis: the algorithm does not apply (ASE16-DD)"
        if mitral.regurgitation in _SIGNIFICANT_MR:
            return (f"{mitral.regurgitation.value} mitral regurgitation: the algorithm does not apply "
                    "(ASE16-DD)")
        morph = " ".join(mitral.morphology).lower()
        if ("mac" in morph or "annular calc" in morph) and any(w in morph for w in ("moderate", "severe")):
            return "moderate or severe mitral annular calcification: the algorithm does not apply (ASE16-DD)"
    if m.mva is not None and m.mva <= 2.5:
        return f"MVA {m.mva:g} cm² (mitral stenosis): the algorithm does not apply (ASE16-DD)"
    return None


def _e_over_e_prime(m: Measurements) -> tuple[float, float, str] | None:
    """(E/e', cut-off, label): the average from E and both e'; else the stated average E/e'; else
    the single-site ratio with its own cut-off."""
    sep, lat = m.e_prime_septal, m.e_prime_lateral
    if m.e_velocity is not None and sep is not None and lat is not None:
        return m.e_velocity / ((sep + lat) / 2), rule("dd_e_over_e_prime_avg"), "average E/e'"
    if m.e_e_prime_avg is not None:
        return m.e_e_prime_avg, rule("dd_e_over_e_prime_avg"), "average E/e' (as stated)"
    if m.e_velocity is None:
        return None
    if sep is not None:
        return m.e_velocity / sep, rule("dd_e_over_e_prime_septal"), "septal E/e'"
    if lat is not None:
        return m.e_velocity / lat, rule("dd_e_over_e_prime_lateral"), "lateral E/e'"
    return None


def _e_over_a(m: Measurements) -> tuple[float, str] | None:
    """(E/A, label): from mitral E and A when both are known, else the stated E/A."""
    if m.e_velocity is not None and m.a_velocity is not None:
        return round_half_up(m.e_velocity / m.a_velocity, 2), "E/A"
    if m.e_a_ratio is not None:
        return m.e_a_ratio, "E/A (as stated)"
    return None


def _criteria(m: Measurements, with_e_prime: bool) -> list[tuple[str, bool]]:
    """The available ASE16 variables as (description, abnormal)."""
    out: list[tuple[str, bool]] = []
    ee = _e_over_e_prime(m)
    if ee is not None:
        value, cut, label = ee
        out.append((f"{label} {value:.1f} (> {cut:g} abnormal)", round_half_up(value, 1) > cut))
    if with_e_prime and (m.e_prime_septal is not None or m.e_prime_lateral is not None):
        low_sep = m.e_prime_septal is not None and m.e_prime_septal < rule("dd_e_prime_septal")
        low_lat = m.e_prime_lateral is not None and m.e_prime_lateral < rule("dd_e_prime_lateral")
        parts = [f"septal e' {m.e_prime_septal:g}" if m.e_prime_septal is not None else "",
                 f"lateral e' {m.e_prime_lateral:g}" if m.e_prime_lateral is not None else ""]
        out.append((f"{', '.join(p for p in parts if p)} cm/s (septal < 7 or lateral < 10 abnormal)",
                    low_sep or low_lat))
    if m.tr_vmax is not None:
        out.append((f"TR velocity {m.tr_vmax:g} m/s (> 2.8 abnormal)",
                    round_half_up(m.tr_vmax, 1) > rule("dd_tr_vmax")))
    if m.lavi is not None:
        out.append((f"LAVI {m.lavi:g} mL/m² (> 34 abnormal)", round_half_up(m.lavi, 0) > rule("dd_lavi")))
    return out


def _myocardial_disease(study: Study) -> str | None:
    """Structured evidence of myocardial disease (LVH, regional wall motion abnormality).

    LVH is judged by the LV mass index where the BSA is known (ASE15 bases LVH on mass: thick walls
    with a normal mass are concentric remodelling), else by wall thickness. Thick walls with a normal
    septal and lateral e' are no such evidence: relaxation is normal, as in the athlete's heart, where
    E/A >= 2 is a normal finding and algorithm B would call it grade III."""
    m, f = study.measurements, study.findings
    relaxes = (m is not None and m.e_prime_septal is not None and m.e_prime_lateral is not None
               and m.e_prime_septal >= rule("dd_e_prime_septal")
               and m.e_prime_lateral >= rule("dd_e_prime_lateral"))
    bsa = study.patient.bsa_m2 if study.patient else None
    lvmi = lv_mass_index(m.ivsd, m.lvidd, m.lvpwd, bsa) if m else None
    if lvmi is not None and not relaxes:
        if lvmi_grade(lvmi, study.sex) != "normal":
            return f"LV mass index {lvmi:.0f} g/m² (LVH)"
    elif m and (m.ivsd or m.lvpwd) and not relaxes:
        thickest = max(v for v in (m.ivsd, m.lvpwd) if v is not None)
        if wall_thickness_grade(thickest, study.sex) != "normal":
            return f"LV wall thickness {thickest:g} cm (LVH)"
    if f and any(v.value != "normal" for v in f.wall_motion.values()):
        return "regional wall motion abnormality"
    return None


def _reduced_ef(study: Study) -> bool | None:
    m = study.measurements
    if m is None or m.lvef is None:
        return None
    if m.lvef.value is not None:
        return m.lvef.value < rule("dd_reduced_ef_below")
    q = m.lvef.qualitative
    return None if q is None else q.value.endswith("reduced")


def _algorithm_b(m: Measurements, reasons: list[str]) -> DiastolicResult:
    """Grade by mitral inflow (ASE16-DD figure 8B). E/A <= 0.8 needs E itself (E <= 50 cm/s is
    grade I); without E such a study is grade I only where the three criteria say so too."""
    e, inflow = m.e_velocity, _e_over_a(m)
    if inflow is None:
        return DiastolicResult(applicable=True, grade="abnormal", filling_pressure="indeterminate",
                               algorithm="B", reasons=[*reasons, "no mitral E/A to grade"],
                               rule="ASE16-DD:dd-ungraded")
    ea, label = inflow
    reasons = [*reasons, f"{label} {ea:g}" + (f", E {e:g} cm/s" if e is not None else ", no mitral E")]
    if ea <= rule("dd_ea_low") and e is not None and e <= rule("dd_e_low"):
        return DiastolicResult(applicable=True, grade="grade_1", filling_pressure="normal", algorithm="B",
                               reasons=reasons, rule="ASE16-DD:dd-b-inflow-grade1")
    if ea >= rule("dd_ea_high"):
        return DiastolicResult(applicable=True, grade="grade_3", filling_pressure="elevated", algorithm="B",
                               reasons=reasons, rule="ASE16-DD:dd-b-inflow-grade3")
    crit = _criteria(m, with_e_prime=False)
    reasons += [c for c, _ in crit]
    positive = sum(abnormal for _, abnormal in crit)
    negative = len(crit) - positive
    if len(crit) >= 2 and positive >= 2:
        grade, lap = "grade_2", "elevated"
    elif len(crit) >= 2 and negative >= 2:
        grade, lap = "grade_1", "normal"
    else:
        grade, lap = "indeterminate", "indeterminate"
    if ea <= rule("dd_ea_low") and e is None and grade == "grade_2":
        grade, lap = "indeterminate", "indeterminate"  # grade II only if E > 50 cm/s, and E is unknown
        reasons.append("E/A <= 0.8 with no mitral E: grade I or II cannot be told apart")
    return DiastolicResult(applicable=True, grade=grade, filling_pressure=lap, algorithm="B",
                           reasons=reasons, rule=f"ASE16-DD:dd-b-{positive}of{len(crit)}")


def diastolic_function(study: Study, profile: str = "default") -> DiastolicResult:
    """LV diastolic function and filling pressure by ASE16-DD from the study's structured data.

    Example: normal EF with average E/e' 16, septal e' 5 cm/s, TRV 3.0 m/s, LAVI 40 mL/m² (4/4
    abnormal) and E/A 1.2 -> grade_2, elevated filling pressure.

    Args:
        study: The study (rhythm, LBBB, mitral findings and measurements are used).
        profile: Lab profile (kept for symmetry; ASE16-DD has no alternative schemes here).

    Returns:
        A DiastolicResult; ``applicable`` is False with ``why_not`` when the algorithm does not apply
        or too few variables were measured.
    """
    load_profile(profile)
    why = not_applicable_reason(study)
    if why:
        return DiastolicResult(applicable=False, why_not=why)
    m = study.measurements or Measurements()
    disease = _myocardial_disease(study)
    reduced = _reduced_ef(study)
    if reduced or disease:
        lead = "reduced LVEF" if reduced else f"myocardial disease: {disease}"
        if _e_over_a(m) is None:
            return DiastolicResult(applicable=False, why_not=f"{lead}, but no mitral E/A to grade by")
        return _algorithm_b(m, [lead])
    crit = _criteria(m, with_e_prime=True)
    if len(crit) < 3:
        return DiastolicResult(applicable=False,
                               why_not=f"only {len(crit)} of the 4 ASE16 variables measured")
    abnormal = sum(a for _, a in crit)
    reasons = [c for c, _ in crit]
    tag = f"{abnormal}of{len(crit)}"
    if abnormal * 2 < len(crit):
        return DiastolicResult(applicable=True, grade="normal", filling_pressure="normal", algorithm="A",
                               reasons=reasons, rule=f"ASE16-DD:dd-a-normal-{tag}")
    if abnormal * 2 == len(crit):
        return DiastolicResult(applicable=True, grade="indeterminate", filling_pressure="indeterminate",
                               algorithm="A", reasons=reasons, rule=f"ASE16-DD:dd-a-indeterminate-{tag}")
    lead = f"{abnormal} of {len(crit)} variables abnormal (diastolic dysfunction)"
    return _algorithm_b(m, [lead, *reasons])
