"""Whole-study grading: every Fact derivable from a study's structured parts (never its prose).

Measurements are graded by ``echogpt.guidelines.grading``; structured findings become facts as stated
(rule "STUDY:findings"). Each fact names its field path (``source``) and rule ("<SOURCE>:<rule id>").

    facts = grade_study(study, "default")
"""

from __future__ import annotations

from echogpt.guidelines import grading as g
from echogpt.guidelines.diastology import diastolic_function
from echogpt.guidelines.tables import LabProfile, load_profile, round_half_up, rule, rule_source, scale
from echogpt.schemas import SEGMENTS, Fact, Findings, Lesion, Measurements, Study, ValveFinding

STATED = "STUDY:findings"
VALVES = ("aortic", "mitral", "tricuspid", "pulmonic")
# ASE15 typical coronary territories of the 17 segments.
TERRITORIES = {"lad": {1, 2, 7, 8, 13, 14, 17}, "rca": {3, 4, 9, 10, 15}, "lcx": {5, 6, 11, 12, 16}}
_CRITICAL = {"thrombus", "vegetation", "mass", "abscess", "tamponade", "aortic_dissection"}
_ALWAYS_ABNORMAL = _CRITICAL | {"lvot_obstruction", "sam", "shunt", "paravalvular_leak"}
_NORMAL_GRADES = {None, "normal", "trace", "trivial", "low", "good", "adequate", "limited", "none"}


def _u(value: str) -> str:
    """Schema enum spelling ("mildly-reduced") -> concept vocabulary spelling ("mildly_reduced")."""
    return value.replace("-", "_")


def _scaled(concept: str, scale_name: str, grade: str, value: float, source: str, **kw: object) -> Fact:
    s = scale(scale_name)
    return Fact(concept=concept, grade=grade, value=round_half_up(value, max(s.precision, 1)), unit=s.unit,
                source=source, rule=f"{s.source}:{scale_name}", **kw)  # type: ignore[arg-type]


def is_abnormal(fact: Fact) -> bool:
    """True for a present fact that is not normal (trace regurgitation and trivial effusion are normal)."""
    if fact.polarity != "present" or fact.concept in ("image_quality", "normal_study"):
        return False
    if fact.concept in _ALWAYS_ABNORMAL:
        return True
    if fact.concept == "prosthetic_valve":
        return True  # even a normally functioning prosthesis makes the study not a normal one
    return fact.grade not in _NORMAL_GRADES


def is_critical(fact: Fact) -> bool:
    """Critical findings (echo_reference §6) among the facts grade_study makes."""
    if fact.polarity != "present":
        return False
    if fact.concept in _CRITICAL:
        return True
    if fact.concept == "prosthetic_valve":
        return fact.grade not in (None, "normal")
    if fact.concept == "pericardial_effusion":
        return fact.grade == "large"
    if fact.concept == "lv_systolic_function":
        return fact.grade == "severely_reduced"
    if fact.concept in ("valve_stenosis", "valve_regurgitation"):
        return fact.grade in ("severe", "very_severe", "massive", "torrential")
    return fact.concept == "aortic_dilation" and fact.grade == "aneurysmal"


def ph_signs(study: Study, pasp: float | None = None) -> dict[str, list[str]]:
    """Other echo signs of PH by ESC 2022 category (A ventricles, B pulmonary artery, C IVC/RA)."""
    m = study.measurements or Measurements()
    out: dict[str, list[str]] = {"A": [], "B": [], "C": []}
    if m.rv_lv_ratio is not None and m.rv_lv_ratio > rule("ph_rv_lv_ratio"):
        out["A"].append(f"RV/LV ratio {m.rv_lv_ratio:g}")
    if m.septal_flattening:
        out["A"].append("septal flattening")
    if m.tapse is not None and pasp:
        ratio = m.tapse * 10 / pasp  # TAPSE in mm per mmHg
        if ratio < rule("ph_tapse_spap"):
            out["A"].append(f"TAPSE/sPAP {ratio:.2f} mm/mmHg")
    if m.rvot_acceleration_time is not None and m.rvot_acceleration_time < rule("ph_rvot_at"):
        out["B"].append(f"RVOT acceleration time {m.rvot_acceleration_time:g} ms")
    if m.pa_diameter is not None and m.pa_diameter > rule("ph_pa_diameter"):
        out["B"].append(f"PA diameter {m.pa_diameter:g} cm")
    if (m.ivc_diameter is not None and m.ivc_collapse is not None and not study.ventilated
            and m.ivc_diameter > rule("ph_ivc_diameter") and m.ivc_collapse < rule("ph_ivc_collapse")):
        out["C"].append(f"IVC {m.ivc_diameter:g} cm, {m.ivc_collapse:g} % collapse")
    if m.ra_area is not None and m.ra_area > rule("ph_ra_area"):
        out["C"].append(f"RA area {m.ra_area:g} cm²")
    return {k: v for k, v in out.items() if v}


def _lv(study: Study, m: Measurements, p: LabProfile) -> list[Fact]:
    sex, bsa, out = study.sex, study.patient.bsa_m2 if study.patient else None, []
    if m.lvef is not None:
        if m.lvef.value is not None:
            name = p.scale_name("lvef")
            hi = m.lvef.high if m.lvef.high != m.lvef.low else None
            out.append(Fact(concept="lv_systolic_function", grade=g.lvef_category(m.lvef.value, sex, p),
                            value=m.lvef.low, value_max=hi, unit="%", source="measurements.lvef",
                            rule=f"{scale(name).source}:{name}"))
        elif m.lvef.qualitative is not None:
            out.append(Fact(concept="lv_systolic_function", grade=_u(m.lvef.qualitative.value),
                            source="measurements.lvef", rule=STATED))
    if m.lvidd is not None:
        out.append(_scaled("lv_size", "lvidd_ase2015", g.lv_size_grade(m.lvidd, sex), m.lvidd,
                           "measurements.lvidd"))
    if m.lvedv is not None and bsa:
        lvedvi = m.lvedv / bsa
        out.append(_scaled("lv_size", "lvedvi_ase2015", g.lvedvi_grade(lvedvi, sex), lvedvi,
                           "measurements.lvedv"))
    walls = {k: v for k, v in (("ivsd", m.ivsd), ("lvpwd", m.lvpwd)) if v is not None}
    if walls:
        field = max(walls, key=lambda k: walls[k])
        out.append(_scaled("lv_wall_thickness", "wall_thickness_ase2015",
                           g.wall_thickness_grade(walls[field], sex), walls[field], f"measurements.{field}"))
    lvmi = g.lv_mass_index(m.ivsd, m.lvidd, m.lvpwd, bsa)
    if lvmi is not None:
        rwt = g.relative_wall_thickness(m.ivsd, m.lvidd, m.lvpwd, p)
        out.append(Fact(concept="lv_geometry", grade=g.lv_geometry(rwt, lvmi, sex),
                        source="measurements.ivsd+lvidd+lvpwd", rule="ASE15:lv-geometry"))
    return out


def _right_heart_and_atria(study: Study, m: Measurements, p: LabProfile) -> list[Fact]:
    sex, out = study.sex, []
    if m.lavi is not None:
        out.append(_scaled("la_size", "lavi_ase2015", g.la_size_grade(m.lavi), m.lavi, "measurements.lavi"))
    if m.la_diameter is not None:
        out.append(_scaled("la_size", "la_diameter_ase2005", g.la_diameter_grade(m.la_diameter, sex),
                           m.la_diameter, "measurements.la_diameter"))
    if m.ra_area is not None:
        out.append(Fact(concept="ra_size", grade=g.ra_size_grade(m.ra_area), value=m.ra_area, unit="cm2",
                        source="measurements.ra_area", rule="ASE10-RH:ra_area_max"))
    if m.rv_basal_diameter is not None:
        out.append(Fact(concept="rv_size", grade=g.rv_size_grade(m.rv_basal_diameter), unit="cm",
                        value=m.rv_basal_diameter, source="measurements.rv_basal_diameter",
                        rule="ASE15:rv_basal_diameter_max"))
    if m.tapse is not None:
        out.append(Fact(concept="rv_systolic_function", grade=g.rv_function_grade(m.tapse), value=m.tapse,
                        unit="cm", source="measurements.tapse", rule="ASE15:tapse_min"))
    rap = m.rap
    if rap is not None:
        out.append(Fact(concept="rap", grade=g.rap_grade(rap), value=rap, unit="mmHg",
                        source="measurements.rap", rule=STATED))
    else:
        est = g.rap_from_ivc(m.ivc_diameter, m.ivc_collapse, study.ventilated)
        if est is not None:
            rap = est[0]
            out.append(Fact(concept="rap", grade=g.rap_grade(rap), value=rap, unit="mmHg",
                            source="measurements.ivc_diameter", rule="ASE10-RH:rap-from-ivc"))
    pasp, pasp_source = m.rvsp, "measurements.rvsp"
    if pasp is None and m.tr_vmax is not None and rap is not None:
        pasp, pasp_source = g.rvsp(m.tr_vmax, rap), "measurements.tr_vmax"
    if pasp is not None:
        name = p.scale_name("pasp")
        out.append(_scaled("pasp", name, g.pasp_grade(pasp, p), pasp, pasp_source))
    if m.tr_vmax is not None:
        signs = ph_signs(study, pasp)
        out.append(Fact(concept="ph_probability", grade=g.ph_probability(m.tr_vmax, list(signs)),
                        value=m.tr_vmax, unit="m/s", source="measurements.tr_vmax",
                        rule="ESC22-PH:ph-probability"))
    return out


def _stated_findings(f: Findings) -> list[Fact]:
    out: list[Fact] = []
    for concept, attr in (("lv_size", "lv_size"), ("rv_size", "rv_size"), ("la_size", "la_size"),
                          ("ra_size", "ra_size"), ("rv_systolic_function", "rv_function"),
                          ("diastolic_function", "diastolic_function"), ("image_quality", "image_quality")):
        value = getattr(f, attr)
        if value is not None:
            out.append(Fact(concept=concept, grade=_u(value.value), source=f"findings.{attr}", rule=STATED))
    for flag, concept in (("lvot_obstruction", "lvot_obstruction"), ("sam", "sam"),
                          ("aortic_dissection", "aortic_dissection")):
        value = getattr(f, flag)
        if value is not None:
            out.append(Fact(concept=concept, polarity="present" if value else "absent",
                            source=f"findings.{flag}", rule=STATED))
    if f.effusion is not None:
        e = f.effusion
        none = e.size.value == "none"
        out.append(Fact(concept="pericardial_effusion", polarity="absent" if none else "present",
                        grade=None if none else e.size.value, source="findings.effusion.size", rule=STATED))
        if e.tamponade:
            out.append(Fact(concept="tamponade", source="findings.effusion.tamponade", rule=STATED))
    for kind, places in (("thrombus", {"lv", "la", "laa", "ra", "rv"}),
                         ("vegetation", {"aortic", "mitral", "tricuspid", "pulmonic", "lead"}),
                         ("mass", {"lv", "la", "ra", "rv"})):
        lesions: list[Lesion] = getattr(f, kind)
        for i, lesion in enumerate(lesions):
            loc = lesion.location.strip().lower()
            out.append(Fact(concept=kind, location=loc if loc in places else "heart", value=lesion.size_cm,
                            unit="cm" if lesion.size_cm is not None else None,
                            source=f"findings.{kind}[{i}]", rule=STATED))
    if f.shunt is not None:
        out.append(Fact(concept="shunt", location=f.shunt.kind, source="findings.shunt", rule=STATED,
                        polarity="present" if f.shunt.present else "absent"))
    out += _wall_motion(f)
    for valve in VALVES:
        vf: ValveFinding | None = getattr(f, valve)
        if vf is not None:
            out += _valve(valve, vf)
    return out


def _valve(valve: str, vf: ValveFinding) -> list[Fact]:
    out: list[Fact] = []
    src = f"findings.{valve}"
    if vf.regurgitation is not None:
        none = vf.regurgitation.value == "none"
        out.append(Fact(concept="valve_regurgitation", location=valve,
                        polarity="absent" if none else "present",
                        grade=None if none else _u(vf.regurgitation.value), source=f"{src}.regurgitation",
                        rule=STATED))
    if vf.stenosis is not None:
        none = vf.stenosis.value == "none"
        out.append(Fact(concept="valve_stenosis", location=valve, polarity="absent" if none else "present",
                        grade=None if none else _u(vf.stenosis.value), source=f"{src}.stenosis", rule=STATED))
    if vf.prosthesis is not None:
        out.append(Fact(concept="prosthetic_valve", location=valve, grade=vf.prosthesis.function,
                        source=f"{src}.prosthesis", rule=STATED))
        pvl = vf.prosthesis.paravalvular_leak
        if pvl is not None:
            mapped = {"mild_moderate": "moderate", "moderate_severe": "severe", "massive": "severe",
                      "torrential": "severe"}.get(_u(pvl.value), _u(pvl.value))
            none = mapped == "none"
            out.append(Fact(concept="paravalvular_leak", location=valve,
                            polarity="absent" if none else "present", grade=None if none else mapped,
                            source=f"{src}.prosthesis.paravalvular_leak", rule=STATED))
    return out


def _wall_motion(f: Findings) -> list[Fact]:
    if not f.wall_motion:
        return []
    abnormal = {n: w.value for n, w in f.wall_motion.items() if w.value != "normal"}
    src = "findings.wall_motion"
    if not abnormal:
        return [Fact(concept="wall_motion", location="global", grade="normal", source=src, rule=STATED)]
    out = [Fact(concept="wall_motion", location=SEGMENTS[n - 1].replace(" ", "_"), grade=w,
                source=f"{src}.{n}", rule=STATED) for n, w in sorted(abnormal.items())]
    if len(abnormal) >= 16:
        grades = list(abnormal.values())
        common = max(sorted(set(grades)), key=grades.count)
        out.insert(0, Fact(concept="wall_motion", location="global", grade=common, source=src,
                           rule="ASE15:wall-motion-global"))
    else:
        for territory, segments in TERRITORIES.items():
            if set(abnormal) <= segments and len(abnormal) >= 2:
                mild_first = sorted(set(abnormal.values()), key=["hypokinetic", "akinetic", "dyskinetic",
                                                                 "aneurysmal"].index)
                out.insert(0, Fact(concept="wall_motion", location=territory, grade=mild_first[0],
                                   source=src, rule="ASE15:wall-motion-territory"))
    return out


def _valves_measured(study: Study, m: Measurements, p: LabProfile) -> list[Fact]:
    f, out = study.findings, []
    prosthetic = {v for v in VALVES
                  if f and getattr(f, v) is not None and getattr(f, v).prosthesis is not None}
    vmax, vmax_src = m.av_vmax, "measurements.av_vmax"
    if vmax is None and m.av_peak_gradient:
        vmax, vmax_src = (m.av_peak_gradient / 4) ** 0.5, "measurements.av_peak_gradient"  # PG = 4 Vmax²
    if "aortic" not in prosthetic:
        res = g.aortic_stenosis_grade(vmax, m.av_mean_gradient, m.ava, p, m.sv_index)
        if res is not None and not (res.grade == "none" and vmax is None):
            field, value, unit = next((s, v, u) for s, v, u in (
                (vmax_src, vmax, "m/s"), ("measurements.av_mean_gradient", m.av_mean_gradient, "mmHg"),
                ("measurements.ava", m.ava, "cm2")) if v is not None)
            out.append(Fact(concept="valve_stenosis", location="aortic",
                            polarity="absent" if res.grade == "none" else "present",
                            grade=None if res.grade == "none" else res.grade, value=round(value, 2),
                            unit=unit, source=field, rule=res.rule))
    if "mitral" not in prosthetic:
        res = g.mitral_stenosis_grade(m.mva, m.mv_mean_gradient, p)
        if res is not None:
            value, unit, field = ((m.mva, "cm2", "measurements.mva") if m.mva is not None
                                  else (m.mv_mean_gradient, "mmHg", "measurements.mv_mean_gradient"))
            out.append(Fact(concept="valve_stenosis", location="mitral",
                            polarity="absent" if res.grade == "none" else "present",
                            grade=None if res.grade == "none" else res.grade, value=value, unit=unit,
                            source=field, rule=res.rule))
    if m.effusion_width is not None:
        eg = g.effusion_grade(m.effusion_width)
        if eg == "none":
            out.append(Fact(concept="pericardial_effusion", polarity="absent", value=0.0, unit="cm",
                            source="measurements.effusion_width", rule="ESC15-Peri:effusion_width_esc2015"))
        else:
            out.append(_scaled("pericardial_effusion", "effusion_width_esc2015", eg, m.effusion_width,
                               "measurements.effusion_width"))
    for location, grade in g.aortic_dilation(m.aortic_root, m.ascending_aorta, study.sex).items():
        field = "aortic_root" if location == "root" else "ascending_aorta"
        name = f"{field}_ase2015"
        out.append(_scaled("aortic_dilation", name, grade, getattr(m, field), f"measurements.{field}",
                           location=location))
    if f and f.lvot_obstruction and m.lvot_peak_gradient is not None:
        out.append(Fact(concept="lvot_obstruction", value=m.lvot_peak_gradient, unit="mmHg",
                        source="measurements.lvot_peak_gradient", rule=STATED))
    return out


def grade_study(study: Study, profile: LabProfile | str = "default") -> list[Fact]:
    """Every Fact derivable from the study's structured parts (patient, measurements, findings, flags).

    Prose (``findings_text``) is never read. A measurement and a stated finding about the same thing
    both give a fact (each with its own source), so a statement may be supported by either.

    Args:
        study: The study.
        profile: Lab profile or its name (which scheme grades LVEF, AS, MS, PASP).

    Returns:
        Facts in the vocabulary of resources/concepts.json, in a stable order (LV first).
    """
    p = load_profile(profile)
    m = study.measurements or Measurements()
    facts = _lv(study, m, p) + _right_heart_and_atria(study, m, p)
    dd = diastolic_function(study)
    if dd.applicable and dd.grade:
        facts.append(Fact(concept="diastolic_function", grade=dd.grade, source="measurements", rule=dd.rule))
        if dd.filling_pressure:
            facts.append(Fact(concept="filling_pressure", grade=dd.filling_pressure, source="measurements",
                              rule=dd.rule))
    facts += _valves_measured(study, m, p)
    if study.findings is not None:
        facts += _stated_findings(study.findings)
    lv_normal = any(f.concept == "lv_systolic_function" and f.grade == "normal" for f in facts)
    # Only structured findings can vouch for valves, pericardium and masses being normal.
    valves_seen = any(f.concept.startswith("valve_") and (f.source or "").startswith("findings")
                      for f in facts)
    if lv_normal and valves_seen and len(facts) >= 5 and not any(is_abnormal(f) for f in facts):
        facts.append(Fact(concept="normal_study", source="measurements", rule="LAB:normal-study"))
    return facts


__all__ = ["grade_study", "is_abnormal", "is_critical", "ph_signs", "rule_source"]
