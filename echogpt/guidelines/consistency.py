"""Internal consistency of a study's numbers: warnings (never errors) when derived values disagree.

Each check recomputes a value from its inputs (LVEF from volumes, RVSP from TR velocity and RAP,
LAVI from LA volume and BSA, AV peak gradient from Vmax, ...) or compares a stated grade with the
measured one; tolerances are rules in ``resources/guidelines.json``.

    for w in consistency_warnings(study): print(w.message)
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

from echogpt.guidelines.tables import rule
from echogpt.schemas import Fact, Measurements, Rhythm, Study


class ConsistencyWarning(BaseModel):
    """One disagreement between related values of a study."""

    model_config = ConfigDict(extra="forbid")
    fields: list[str] = Field(description="Field paths involved")
    message: str = Field(description="One line for the user")
    values: dict[str, float | str | None] = Field(default_factory=dict, description="The values compared")


def _w(fields: list[str], message: str, **values: float | str | None) -> ConsistencyWarning:
    rounded = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in values.items()}
    return ConsistencyWarning(fields=fields, message=message, values=rounded)


def _volumes(m: Measurements) -> list[ConsistencyWarning]:
    out = []
    if m.lvedv is not None and m.lvesv is not None:
        if m.lvesv >= m.lvedv:
            out.append(_w(["measurements.lvedv", "measurements.lvesv"],
                          f"LVESV {m.lvesv:g} mL is not smaller than LVEDV {m.lvedv:g} mL", lvedv=m.lvedv,
                          lvesv=m.lvesv))
        elif m.lvef is not None and m.lvef.low is not None and m.lvef.high is not None:
            calc = (m.lvedv - m.lvesv) / m.lvedv * 100
            gap = max(m.lvef.low - calc, calc - m.lvef.high, 0)
            if gap > rule("cons_lvef_points"):
                out.append(_w(["measurements.lvef", "measurements.lvedv", "measurements.lvesv"],
                              f"LVEF {m.lvef.text()} differs from (EDV-ESV)/EDV = {calc:.0f} % "
                              f"by {gap:.0f} points",
                              lvef=m.lvef.text(), lvef_from_volumes=calc))
    if m.lvidd is not None and m.lvids is not None and m.lvids >= m.lvidd:
        out.append(_w(["measurements.lvidd", "measurements.lvids"],
                      f"LVIDs {m.lvids:g} cm is not smaller than LVIDd {m.lvidd:g} cm",
                      lvidd=m.lvidd, lvids=m.lvids))
    return out


def _pressures(study: Study, m: Measurements) -> list[ConsistencyWarning]:
    from echogpt.guidelines.grading import rap_from_ivc, rap_grade

    out = []
    est = rap_from_ivc(m.ivc_diameter, m.ivc_collapse, study.ventilated)
    if m.rap is not None and est is not None and rap_grade(m.rap) != rap_grade(est[0]):
        out.append(_w(["measurements.rap", "measurements.ivc_diameter", "measurements.ivc_collapse"],
                      f"stated RAP {m.rap:g} mmHg does not match the IVC estimate {est[0]:g} mmHg "
                      f"({est[1][0]:g}-{est[1][1]:g})", rap=m.rap, rap_from_ivc=est[0]))
    rap = m.rap if m.rap is not None else (est[0] if est else None)
    if m.rvsp is not None and m.tr_vmax is not None and rap is not None:
        calc = 4 * m.tr_vmax ** 2 + rap
        if abs(m.rvsp - calc) > rule("cons_rvsp_mmhg"):
            out.append(_w(["measurements.rvsp", "measurements.tr_vmax", "measurements.rap"],
                          f"RVSP {m.rvsp:g} mmHg differs from 4·TRV² + RAP = {calc:.0f} mmHg",
                          rvsp=m.rvsp, rvsp_calculated=calc))
    if m.av_peak_gradient is not None and m.av_vmax is not None:
        calc = 4 * m.av_vmax ** 2
        diff = abs(m.av_peak_gradient - calc)
        if diff > rule("cons_av_peak_mmhg") and diff > calc * rule("cons_av_peak_pct") / 100:
            out.append(_w(["measurements.av_peak_gradient", "measurements.av_vmax"],
                          f"AV peak gradient {m.av_peak_gradient:g} mmHg differs from "
                          f"4·Vmax² = {calc:.0f} mmHg",
                          av_peak_gradient=m.av_peak_gradient, from_vmax=calc))
    if (m.av_mean_gradient is not None and m.av_peak_gradient is not None
            and m.av_mean_gradient > m.av_peak_gradient):
        out.append(_w(["measurements.av_mean_gradient", "measurements.av_peak_gradient"],
                      f"AV mean gradient {m.av_mean_gradient:g} mmHg exceeds the peak gradient "
                      f"{m.av_peak_gradient:g} mmHg", mean=m.av_mean_gradient, peak=m.av_peak_gradient))
    if m.mva is not None and m.mv_pht:
        calc = 220 / m.mv_pht  # MVA by pressure half-time (ASE09-VS)
        if abs(m.mva - calc) > rule("cons_mva_pht_cm2"):
            out.append(_w(["measurements.mva", "measurements.mv_pht"],
                          f"MVA {m.mva:g} cm² differs from 220/PHT = {calc:.2f} cm²",
                          mva=m.mva, mva_pht=calc))
    return out


def _body(study: Study, m: Measurements) -> list[ConsistencyWarning]:
    out = []
    p = study.patient
    if p and p.height_cm and p.weight_kg and p.bsa_m2:
        calc = math.sqrt(p.height_cm * p.weight_kg / 3600)  # Mosteller
        if abs(p.bsa_m2 - calc) / calc * 100 > rule("cons_bsa_pct"):
            out.append(_w(["patient.bsa_m2", "patient.height_cm", "patient.weight_kg"],
                          f"BSA {p.bsa_m2:g} m² differs from Mosteller {calc:.2f} m² (height, weight)",
                          bsa=p.bsa_m2, bsa_mosteller=calc))
    if p and p.bsa_m2 and m.la_volume is not None and m.lavi is not None:
        calc = m.la_volume / p.bsa_m2
        if abs(m.lavi - calc) / calc * 100 > rule("cons_lavi_pct"):
            out.append(_w(["measurements.lavi", "measurements.la_volume", "patient.bsa_m2"],
                          f"LAVI {m.lavi:g} mL/m² differs from LA volume/BSA = {calc:.1f} mL/m²",
                          lavi=m.lavi, lavi_calculated=calc))
    if study.rhythm in (Rhythm.atrial_fibrillation,) and m.a_velocity is not None:
        out.append(_w(["rhythm", "measurements.a_velocity"],
                      f"mitral A velocity {m.a_velocity:g} cm/s recorded in atrial fibrillation (no A wave)",
                      rhythm=study.rhythm.value, a_velocity=m.a_velocity))
    return out


def _stated_vs_measured(study: Study, facts: list[Fact]) -> list[ConsistencyWarning]:
    from echogpt.guidelines.acceptance import acceptable_grades
    from echogpt.guidelines.study import STATED

    out = []
    m = study.measurements
    if m is not None and m.lvef is not None and m.lvef.qualitative is not None and m.lvef.low is not None:
        numeric = Fact(concept="lv_systolic_function", value=m.lvef.low, value_max=m.lvef.high, unit="%",
                       source="measurements.lvef")
        word = m.lvef.qualitative.value.replace("-", "_")
        if word not in acceptable_grades(numeric, study=study):
            out.append(_w(["measurements.lvef"], f"LVEF estimate '{m.lvef.qualitative.value}' does not fit "
                          f"the measured {m.lvef.text()}", qualitative=word, lvef=m.lvef.text()))
    for stated in facts:
        if stated.rule != STATED or stated.grade is None or "findings" not in (stated.source or ""):
            continue
        measured = [f for f in facts if f.concept == stated.concept and f.location == stated.location
                    and f.rule != STATED and f.value is not None]
        if not measured:
            continue
        ok = set().union(*(acceptable_grades(f, study=study) for f in measured))
        if stated.grade not in ok:
            shown = ", ".join(f"{f.source} {f.value:g} {f.unit or ''}".strip() for f in measured)
            graded = " / ".join(sorted(f.grade or "none" for f in measured))
            out.append(_w([stated.source or "", *(f.source or "" for f in measured)],
                          f"{stated.source} says {stated.grade.replace('_', ' ')} but {shown} "
                          f"grades {graded}", stated=stated.grade, measured=graded))
    return out


def consistency_warnings(study: Study) -> list[ConsistencyWarning]:
    """Warnings for values of one study that contradict each other (never raises for odd data).

    Example: LVEF 60 % with LVEDV 120 mL and LVESV 70 mL ((120-70)/120 = 42 %) -> one warning.

    Args:
        study: The study.

    Returns:
        The warnings, in a stable order (volumes, pressures, body size, stated vs measured grades).
    """
    from echogpt.guidelines.study import grade_study

    m = study.measurements or Measurements()
    return (_volumes(m) + _pressures(study, m) + _body(study, m)
            + _stated_vs_measured(study, grade_study(study)))
