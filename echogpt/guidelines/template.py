"""The template baseline: a deterministic, guideline-driven impression written from grade_study facts.

Numbered lines, most important first (critical findings, LV function, valve disease, right heart
and pressures, diastology, chambers and LVH, pericardium/aorta/shunt, comparison, limitations).
It loads no model and reads no prose; a study without structured data gets one honest line.

    print(template_impression(study))   # "1. Severe aortic stenosis: Vmax 4.3 m/s, ...\n2. ..."
"""

from __future__ import annotations

from echogpt.guidelines.grading import aortic_stenosis_grade
from echogpt.guidelines.study import STATED, grade_study
from echogpt.guidelines.tables import LabProfile, load_profile, rule
from echogpt.schemas import Fact, Measurements, Study

NO_DATA = "See findings; no structured data to summarise."
_SEVERITY = ["trace", "mild", "mild_moderate", "moderate", "moderate_severe", "severe", "massive",
             "torrential", "very_severe"]
_ROMAN = {"grade_1": "Grade I", "grade_2": "Grade II", "grade_3": "Grade III"}
_LESION_WORDS = {"lv": "left ventricular", "la": "left atrial", "laa": "left atrial appendage",
                 "ra": "right atrial", "rv": "right ventricular", "heart": "intracardiac",
                 "lead": "device lead"}


def _w(grade: str | None) -> str:
    return (grade or "").replace("_", " ").replace("mild moderate", "mild-to-moderate").replace(
        "moderate severe", "moderate-to-severe")


def _n(value: float | None, unit: str = "") -> str:
    """A number as reports print it: lengths in cm keep one decimal ("2.0 cm")."""
    if value is None:
        return ""
    text = f"{value:.1f}" if unit == "cm" and round(value, 1) == value else f"{value:g}"
    return f"{text} {unit}".strip()


def _first(facts: list[Fact], concept: str, *, location: str | None = None, measured: bool | None = None,
           present: bool = True) -> Fact | None:
    for f in facts:
        if f.concept != concept or (location is not None and f.location != location):
            continue
        if measured is not None and (f.rule != STATED) != measured:
            continue
        if present and f.polarity != "present":
            continue
        return f
    return None


def _critical(facts: list[Fact]) -> list[str]:
    lines = []
    for f in facts:
        if f.polarity != "present":
            continue
        size = f" ({_n(f.value, 'cm')})" if f.value is not None else ""
        where = _LESION_WORDS.get(f.location or "", f"{f.location} valve")
        if f.concept == "thrombus":
            lines.append(f"{where.capitalize()} thrombus{size}.")
        elif f.concept == "vegetation":
            lines.append(f"Vegetation on the {where}{size}; findings concerning for endocarditis.")
        elif f.concept == "mass":
            lines.append(f"{where.capitalize()} mass{size}.")
        elif f.concept == "abscess":
            lines.append(f"Perivalvular abscess ({f.location}).")
        elif f.concept == "aortic_dissection":
            lines.append("Aortic dissection flap.")
        elif f.concept == "tamponade":
            lines.append("Echocardiographic features of cardiac tamponade.")
        elif f.concept == "prosthetic_valve" and f.grade not in (None, "normal"):
            lines.append(f"Prosthetic {f.location} valve {_w(f.grade)}.")
    effusion = _first(facts, "pericardial_effusion")
    if effusion and effusion.grade == "large":
        width = f" ({_n(effusion.value, 'cm')})" if effusion.value else ""
        lines.append(f"Large pericardial effusion{width}.")
    return lines


def _lv(study: Study, facts: list[Fact]) -> list[str]:
    m = study.measurements or Measurements()
    ef = _first(facts, "lv_systolic_function")
    # ASE15 prefers volumes to linear dimensions: LVEDVi first, then LVIDd, then the reader's word.
    size = next((f for f in facts if f.concept == "lv_size" and f.source == "measurements.lvedv"), None) \
        or _first(facts, "lv_size", measured=True) or _first(facts, "lv_size")
    lines = []
    if ef is not None:
        numeric = f"; LVEF {m.lvef.text()}" if m.lvef is not None and m.lvef.low is not None else ""
        function = _w(ef.grade)
        if size is None:
            text = f"{function} left ventricular systolic function{numeric}"
        elif size.grade == "normal" and ef.grade == "normal":
            text = f"normal left ventricular size and systolic function{numeric}"
        elif size.grade == "normal":
            text = f"normal left ventricular size with {function} systolic function{numeric}"
        else:
            text = f"{_w(size.grade)} left ventricle with {function} systolic function{numeric}"
        lines.append(text[0].upper() + text[1:] + ".")
    elif size is not None and size.grade != "normal":
        lines.append(f"{_w(size.grade).capitalize()} left ventricle.")
    wall = [f for f in facts if f.concept == "wall_motion" and f.polarity == "present"]
    regional = [f for f in wall if f.location not in ("global", "lad", "rca", "lcx")]
    territory = next((f for f in wall if f.location in ("lad", "rca", "lcx")), None)
    glob = next((f for f in wall if f.location == "global"), None)
    if glob is not None and glob.grade != "normal":
        lines.append(f"Global {_w(glob.grade).replace('kinetic', 'kinesis')}.")
    elif regional:
        by_grade: dict[str, list[str]] = {}
        for f in regional:
            by_grade.setdefault(f.grade or "", []).append(_w(f.location))
        parts = [f"{g} {', '.join(locs)}" for g, locs in by_grade.items()]
        where = f" ({territory.location.upper()} territory)" if territory and territory.location else ""
        lines.append(f"Regional wall motion abnormalities: {'; '.join(parts)}{where}.")
    elif glob is not None:
        lines.append("No regional wall motion abnormalities.")
    lvot = _first(facts, "lvot_obstruction")
    if lvot is not None:
        sam = " with systolic anterior motion of the mitral valve" if _first(facts, "sam") else ""
        grad = f", peak LVOT gradient {_n(lvot.value, 'mmHg')}" if lvot.value is not None else ""
        lines.append(f"Dynamic LVOT obstruction{sam}{grad}.")
    return lines


def _aortic_stenosis_line(study: Study, f: Fact, p: LabProfile) -> str:
    m = study.measurements or Measurements()
    numbers = [s for s in (f"Vmax {_n(m.av_vmax, 'm/s')}" if m.av_vmax is not None else "",
                           f"mean gradient {_n(m.av_mean_gradient, 'mmHg')}" if m.av_mean_gradient is not None
                           else "", f"AVA {_n(m.ava, 'cm²')}" if m.ava is not None else "") if s]
    line = f"{_w(f.grade).capitalize()} aortic stenosis" + (f": {', '.join(numbers)}" if numbers else "")
    if f.rule and f.rule.endswith("as-discordant"):
        res = aortic_stenosis_grade(m.av_vmax, m.av_mean_gradient, m.ava, p, m.sv_index)
        names = {"av_vmax": "Vmax", "av_mean_gradient": "mean gradient", "ava": "AVA"}
        others = ", ".join(f"{names[k]} in the {_w(v)} range"
                           for k, v in (res.by_parameter.items() if res else []) if v != f.grade)
        line += f"; discordant grading ({others})"
        if res is not None and res.low_flow:
            line += f"; low flow (SVi {_n(m.sv_index, 'mL/m²')})"
    return line + "."


def _valves(study: Study, facts: list[Fact], p: LabProfile) -> tuple[list[str], bool]:
    """Valve lines, most severe first, and whether any valve was described at all."""
    ranked: list[tuple[int, str]] = []
    described = False
    for valve in ("aortic", "mitral", "tricuspid", "pulmonic"):
        measured = _first(facts, "valve_stenosis", location=valve, measured=True, present=False)
        sten = measured if measured is not None else _first(facts, "valve_stenosis", location=valve)
        sten = sten if sten is not None and sten.polarity == "present" else None
        regurg = _first(facts, "valve_regurgitation", location=valve)
        prosthesis = _first(facts, "prosthetic_valve", location=valve)
        # Only the reader's structured findings describe a valve; a measured Vmax alone does not.
        described = described or any(f.location == valve and f.rule == STATED
                                     for f in facts if f.concept.startswith("valve_"))
        if sten is not None and sten.grade != "sclerosis":
            mva = f" (MVA {_n(sten.value, 'cm²')})" if valve == "mitral" and sten.unit == "cm2" else ""
            text = (_aortic_stenosis_line(study, sten, p) if valve == "aortic" and sten.rule != STATED
                    else f"{_w(sten.grade).capitalize()} {valve} stenosis{mva}.")
            ranked.append((_SEVERITY.index(sten.grade or "mild"), text))
        if regurg is not None and regurg.grade not in (None, "trace"):
            text = f"{_w(regurg.grade).capitalize()} {valve} regurgitation."
            ranked.append((_SEVERITY.index(regurg.grade), text))
        if prosthesis is not None and prosthesis.grade == "normal":
            described = True
            pvl = _first(facts, "paravalvular_leak", location=valve)
            leak = f" with {_w(pvl.grade)} paravalvular leak" if pvl else ""
            ranked.append((0, f"Normally functioning prosthetic {valve} valve{leak}."))
    ranked.sort(key=lambda x: -x[0])
    return [t for _, t in ranked], described


def _right_heart(facts: list[Fact]) -> list[str]:
    lines = []
    size = _first(facts, "rv_size", measured=True) or _first(facts, "rv_size")
    fn = _first(facts, "rv_systolic_function", measured=True) or _first(facts, "rv_systolic_function")
    if size or fn:
        tapse = f" (TAPSE {_n(fn.value, 'cm')})" if fn and fn.value is not None else ""
        if (not size or size.grade == "normal") and (not fn or fn.grade == "normal"):
            what = "size and systolic function" if size and fn else "size" if size else "systolic function"
            lines.append(f"Normal right ventricular {what}{tapse}.")
        else:
            parts = [f"{_w(size.grade)} right ventricle" if size else "",
                     f"{_w(fn.grade)} right ventricular systolic function{tapse}" if fn else ""]
            text = " with ".join(p for p in parts if p)
            lines.append(text[0].upper() + text[1:] + ".")
    pasp = _first(facts, "pasp")
    ph = _first(facts, "ph_probability")
    if pasp is not None:
        words = "normal" if pasp.grade == "normal" else _w(pasp.grade)
        text = f"Estimated PA systolic pressure {pasp.value:.0f} mmHg, {words}"
        if ph is not None and ph.grade in ("intermediate", "high"):
            text += f"; {ph.grade} echocardiographic probability of pulmonary hypertension"
        lines.append(text + ".")
    elif ph is not None and ph.grade in ("intermediate", "high"):
        lines.append(f"{ph.grade.capitalize()} echocardiographic probability of pulmonary hypertension.")
    rap = _first(facts, "rap")
    if rap is not None and rap.grade == "elevated":  # a normal RA pressure is not impression material
        lines.append(f"Elevated estimated RA pressure ({_n(rap.value, 'mmHg')}).")
    return lines


def _diastolic(facts: list[Fact]) -> list[str]:
    dd = _first(facts, "diastolic_function", measured=True) or _first(facts, "diastolic_function")
    if dd is None:
        return []
    fp = _first(facts, "filling_pressure")
    if dd.grade in _ROMAN:
        known = fp is not None and fp.grade in ("normal", "elevated")
        pressure = f" with {fp.grade} LV filling pressure" if known and fp else ""
        return [f"{_ROMAN[dd.grade]} diastolic dysfunction{pressure}."]
    return [{"normal": "Normal diastolic function.", "indeterminate": "Indeterminate diastolic function.",
             "abnormal": "Diastolic dysfunction (grade not determined)."}.get(dd.grade or "", "")]


def _chambers(facts: list[Fact]) -> list[str]:
    lines = []
    geometry = _first(facts, "lv_geometry")
    wall = _first(facts, "lv_wall_thickness")
    if geometry is not None and geometry.grade != "normal":
        name = _w(geometry.grade).capitalize().replace("hypertrophy", "left ventricular hypertrophy")
        thick = f" ({_w(wall.grade)} wall thickness)" if wall and wall.grade != "normal" else ""
        lines.append(f"{name}{thick}.")
    elif wall is not None and wall.grade != "normal":
        value = f" ({_n(wall.value, 'cm')})" if wall.value is not None else ""
        lines.append(f"{_w(wall.grade).capitalize()} left ventricular wall thickness{value}.")
    for concept, name, unit in (("la_size", "left atrium", "LAVI"), ("ra_size", "right atrium", "")):
        f = _first(facts, concept, measured=True) or _first(facts, concept)
        if f is not None and f.grade != "normal":
            detail = f" ({unit} {_n(f.value, 'mL/m²')})" if unit and f.unit == "mL/m2" else ""
            lines.append(f"{_w(f.grade).capitalize()} {name}{detail}.")
    return lines


def _other(facts: list[Fact], study: Study) -> list[str]:
    lines = []
    effusion = _first(facts, "pericardial_effusion")
    if effusion is not None and effusion.grade in ("small", "moderate"):
        width = f" ({_n(effusion.value, 'cm')})" if effusion.value is not None else ""
        lines.append(f"{effusion.grade.capitalize()} pericardial effusion{width}.")
    for f in facts:
        if f.concept == "aortic_dilation" and f.grade not in (None, "normal") and f.rule != STATED:
            part = "aortic root" if f.location == "root" else "ascending aorta"
            lines.append(f"{_w(f.grade).capitalize()} {part} ({_n(f.value, 'cm')}).")
    shunt = next((f for f in facts if f.concept == "shunt"), None)
    if shunt is not None:
        how = " by agitated saline" if study.findings and study.findings.shunt and \
            study.findings.shunt.method == "agitated-saline" else " by color Doppler"
        kind = (shunt.location or "").upper()
        lines.append(f"{kind} with interatrial shunting{how}." if shunt.polarity == "present"
                     else f"No {kind} or interatrial shunt{how}.")
    sclerosis = _first(facts, "valve_stenosis", location="aortic", measured=False)
    if sclerosis is not None and sclerosis.grade == "sclerosis":
        lines.append("Aortic valve sclerosis without stenosis.")
    return lines


def _comparison(study: Study) -> list[str]:
    m, prior = study.measurements, study.prior
    if not (prior and prior.lvef and m and m.lvef):
        return []
    if prior.lvef.value is None or m.lvef.value is None:
        return []
    when = f" of {prior.study_date.isoformat()}" if prior.study_date else ""
    delta = m.lvef.value - prior.lvef.value
    if abs(delta) <= rule("prior_lvef_change_points"):  # within inter-reader variability of LVEF
        return [f"Compared with the prior study{when}, LVEF is similar ({prior.lvef.text()} then, "
                f"{m.lvef.text()} now)."]
    verb = "increased" if delta > 0 else "decreased"
    return [f"Compared with the prior study{when}, LVEF has {verb} from {prior.lvef.text()} "
            f"to {m.lvef.text()}."]


def template_impression(study: Study, profile: LabProfile | str = "default") -> str:
    """A numbered impression written from the study's structured data by guideline rules.

    Args:
        study: The study; its prose is not read.
        profile: Lab profile or its name (grading schemes and PASP wording).

    Returns:
        Numbered lines ("1. ...\\n2. ..."), most important first; one line saying there is nothing
        structured to summarise when the study has only prose.
    """
    p = load_profile(profile)
    facts = grade_study(study, p)
    if not facts:
        return f"1. {NO_DATA}"
    valve_lines, described = _valves(study, facts, p)
    if not valve_lines and described:
        valve_lines = ["No significant valvular disease."]
    lines = _critical(facts) + _lv(study, facts) + valve_lines + _right_heart(facts) + _diastolic(facts)
    lines += _chambers(facts) + _other(facts, study)
    if any(f.concept == "normal_study" for f in facts):
        kind = {"TEE": "transesophageal", "stress": "stress"}.get(study.study_type.value, "transthoracic")
        lines.insert(0, f"Normal {kind} echocardiogram.")
        if _first(facts, "pericardial_effusion", present=False):
            lines.append("No pericardial effusion.")
    if study.findings is None and (study.findings_text or "").strip():
        lines.append("See findings; only measurements were given as structured data.")
    lines += _comparison(study)
    quality = _first(facts, "image_quality")
    if quality is not None and quality.grade == "limited":
        lines.append("Technically limited study; subtle abnormalities may be missed.")
    lines = [line for line in lines if line]
    if not lines:
        return f"1. {NO_DATA}"
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


__all__ = ["NO_DATA", "template_impression"]
