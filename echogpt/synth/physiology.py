"""Physiology of the synthetic corpus: a phenotype becomes one coherent set of measurements and findings.

Values are drawn inside guideline grade bands (``resources/synthetic.json``) and derived values are
computed from the values they depend on (EF from volumes, LAVI = LA volume / BSA, RVSP = 4v² + RAP,
AV peak gradient = 4·Vmax², LV mass from dimensions, MVA = 220 / PHT).

    case = sample_case(rng, phenotypes()["as_severe"], new_patient(rng, "P1", "as_severe"))
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from echogpt.synth.spec import BandSet, Phenotype, Sex, ValveTraits, phenotypes, spec


@dataclass
class Patient:
    """Who is scanned: fixed across a patient's studies except weight."""

    patient_id: str
    sex: Sex
    age: float
    height_cm: float
    weight_kg: float
    phenotype: str

    @property
    def bsa(self) -> float:
        # Mosteller RD, NEJM 1987: BSA m² = sqrt(height cm × weight kg / 3600), as schemas.Patient
        return round(math.sqrt(self.height_cm * self.weight_kg / 3600), 3)


@dataclass
class Case:
    """One study's latent state: measurements, findings and the grade each one was drawn for."""

    patient: Patient
    m: dict[str, float] = field(default_factory=dict)
    grades: dict[str, str] = field(default_factory=dict)
    derived: dict[str, float] = field(default_factory=dict)
    valves: dict[str, dict[str, Any]] = field(default_factory=dict)
    wall_motion: dict[int, str] = field(default_factory=dict)
    wm_pattern: str = "normal"
    territory: str | None = None
    rhythm: str = "sinus"
    lvef_method: str = "biplane"
    lvef_range: tuple[int, int] | None = None
    effusion: dict[str, Any] | None = None
    thrombus: dict[str, Any] | None = None
    vegetation: dict[str, Any] | None = None
    hcm: bool = False
    septal_flattening: bool = False
    image_quality: str = "good"
    protected: set[str] = field(default_factory=set)


def _u(rng: random.Random, band: tuple[float, float], digits: int) -> float:
    return round(rng.uniform(*band), digits)


def new_patient(rng: random.Random, patient_id: str, phenotype_key: str) -> Patient:
    """A patient of the phenotype: sex, age, height and a weight from a BMI band."""
    pop = spec().population
    ph = phenotypes()[phenotype_key]
    sex: Sex = "male" if rng.random() < 0.55 else "female"
    age = float(rng.randint(*[int(a) for a in (ph.age or pop.age)]))
    height = float(rng.randint(*pop.height_cm[sex]))
    weight = round(rng.uniform(*pop.bmi) * (height / 100) ** 2, 1)
    return Patient(patient_id, sex, age, height, min(max(weight, 35.0), 180.0), phenotype_key)


def sample_case(rng: random.Random, ph: Phenotype, patient: Patient) -> Case:
    """Draw one study of ``patient`` with phenotype ``ph``.

    Args:
        rng: The study's random source (seeded by the caller).
        ph: The resolved phenotype.
        patient: Demographics (BSA from Mosteller).

    Returns:
        The case, measurements in canonical units and the grade each was drawn for.
    """
    c = Case(patient=patient, hcm=ph.hcm)
    b, sex, bsa = spec().bands, patient.sex, patient.bsa
    c.rhythm = "atrial-fibrillation" if rng.random() < ph.af else "sinus"
    c.m["heart_rate"] = float(round(rng.uniform(*b["heart_rate"].get(c.rhythm))))
    _left_ventricle(rng, c, ph, b, sex, bsa)
    _atria_and_filling(rng, c, ph, b, sex, bsa)
    _right_heart(rng, c, ph, b)
    _valves(rng, c, ph, b)
    _pericardium_aorta_lesions(rng, c, ph, b, sex)
    mv = c.valves["mitral"]
    if mv["stenosis"] or mv["prosthesis"] or mv["regurgitation"] in ("moderate", "severe"):
        # ASE16-DD: the algorithms do not apply with MS, a mitral prosthesis or >= moderate MR
        c.grades["diastolic"] = "not_assessed"
    pop = spec().population
    if rng.random() < pop.limited_quality_probability:
        c.image_quality = "limited"
    elif rng.random() < 0.4:
        c.image_quality = "adequate"
    return c


def _left_ventricle(rng: random.Random, c: Case, ph: Phenotype, b: dict[str, BandSet], sex: str,
                    bsa: float) -> None:
    pop = spec().population
    ef_grade = rng.choice(ph.lvef)
    if ef_grade == "normal" and ph.label == "normal" and rng.random() < pop.borderline_probability:
        ef_grade = "low_normal"
    size = rng.choice(ph.lv_size)
    u = rng.random()  # one position inside the size band, shared by LVIDd and LVEDVi
    lo, hi = b["lvidd"].get(size, sex)
    lvidd = round(lo + u * (hi - lo), 1)
    lo, hi = b["lvedvi"].get(size, sex)
    edv = round((lo + u * (hi - lo)) * bsa)
    ef_target = rng.uniform(*b["lvef"].get(ef_grade))
    esv = round(edv * (1 - ef_target / 100))
    ef = round((edv - esv) / edv * 100)  # LVEF % = (EDV - ESV) / EDV, biplane Simpson (ASE15)
    lo, hi = b["lvef"].get(ef_grade)
    ef = int(min(max(ef, lo), hi))
    esv = round(edv * (1 - ef / 100))
    c.m.update(lvidd=lvidd, lvedv=float(edv), lvesv=float(esv))
    c.m["lvef"] = float(round((edv - esv) / edv * 100))
    # fractional shortening ~ 0.55 × EF gives LVIDs from LVIDd (Teichholz-like, for realism only)
    c.m["lvids"] = round(lvidd * (1 - 0.55 * c.m["lvef"] / 100), 1)
    c.grades.update(lvef=ef_grade, lv_size=size)
    wall = rng.choice(ph.wall)
    if ph.hcm:
        ivs = _u(rng, b["hcm_septum"].get("severely_increased"), 1)
        pw = _u(rng, b["wall"].get("normal", sex), 1)
        wall = "severely_increased"
        c.m["lvot_peak_gradient"] = float(round(rng.uniform(*b["lvot_peak_gradient"].get("obstruction"))))
        c.protected.add("lvot_peak_gradient")
    else:
        lo, hi = b["wall"].get(wall, sex)
        ivs = _u(rng, (lo, hi), 1)
        pw = max(lo, round(ivs - rng.choice((0.0, 0.0, 0.1)), 1))
    c.m.update(ivsd=ivs, lvpwd=pw)
    c.grades["wall"] = wall
    # LV mass (linear, Devereux/ASE15) g = 0.8 × 1.04 × ((IVSd + LVIDd + LVPWd)³ − LVIDd³) + 0.6, cm
    mass = 0.8 * 1.04 * ((ivs + lvidd + pw) ** 3 - lvidd**3) + 0.6
    c.derived.update(lv_mass=round(mass), lvmi=round(mass / bsa), rwt=round(2 * pw / lvidd, 2))
    geo = spec().geometry
    rwt_hi, mass_hi = c.derived["rwt"] > geo.rwt_cutoff, c.derived["lvmi"] > geo.lvmi_cutoff[sex]  # type: ignore[index]
    clear = (abs(c.derived["rwt"] - geo.rwt_cutoff) > geo.margin * geo.rwt_cutoff
             and abs(c.derived["lvmi"] - geo.lvmi_cutoff[sex]) > geo.margin * geo.lvmi_cutoff[sex])  # type: ignore[index]
    if clear:
        c.grades["geometry"] = {(False, False): "normal", (True, False): "concentric_remodeling",
                                (True, True): "concentric_hypertrophy",
                                (False, True): "eccentric_hypertrophy"}[(rwt_hi, mass_hi)]
    c.wm_pattern = ph.wall_motion
    if ph.wall_motion == "global":
        c.wall_motion = {n: "hypokinetic" for n in range(1, 18)}
    elif ph.wall_motion == "regional":
        c.territory = rng.choice(ph.territory)
        grade = rng.choice(ph.wm_grade)
        segments = rng.choice(getattr(spec().territories, c.territory))
        if ph.lv_thrombus:
            segments = sorted(set(segments) | {17})
        c.wall_motion = {n: grade for n in segments}
        c.grades["wm_grade"] = grade
    if c.wall_motion or rng.random() < 0.5:
        c.wall_motion = {n: c.wall_motion.get(n, "normal") for n in range(1, 18)}


def _atria_and_filling(rng: random.Random, c: Case, ph: Phenotype, b: dict[str, BandSet], sex: str,
                       bsa: float) -> None:
    dd = rng.choice(ph.diastolic)
    la = rng.choice(ph.la_size)
    if dd in ("grade_2", "grade_3") and la == "normal":
        la = "mildly_dilated"  # elevated filling pressure comes with LA enlargement (ASE16-DD)
    pop = spec().population
    band = b["lavi"].get(la)
    if la == "normal" and ph.label == "normal" and rng.random() < pop.borderline_probability:
        band = (33.0, 33.9)  # upper limit of normal (ASE15: <= 34), a borderline value
    la_vol = round(rng.uniform(*band) * bsa)
    c.m["la_volume"] = float(la_vol)
    c.m["lavi"] = round(la_vol / bsa, 1)  # ASE15: LAVI = LA volume / BSA, as schemas.Study derives
    u = rng.random()
    lo, hi = b["la_diameter"].get(la, sex)
    c.m["la_diameter"] = round(lo + u * (hi - lo), 1)
    c.grades["la_size"] = la
    e_key = dd
    if c.rhythm != "sinus":
        dd, e_key = "not_assessed", "af"
    c.m["e_velocity"] = float(round(rng.uniform(*b["e_velocity"].get(e_key))))
    g = "grade_2" if e_key == "af" else e_key
    c.m["e_prime_septal"] = _u(rng, b["e_prime_septal"].get(g), 1)
    c.m["e_prime_lateral"] = _u(rng, b["e_prime_lateral"].get(g), 1)
    if c.rhythm == "sinus":
        c.m["a_velocity"] = float(max(15, round(c.m["e_velocity"] / rng.uniform(*b["e_over_a"].get(dd)))))
        c.derived["e_over_a"] = round(c.m["e_velocity"] / c.m["a_velocity"], 1)
    avg = (c.m["e_prime_septal"] + c.m["e_prime_lateral"]) / 2
    c.derived["e_over_e_prime"] = round(c.m["e_velocity"] / avg, 1)
    c.grades["diastolic"] = dd
    if dd in ("grade_1", "grade_2", "grade_3"):
        c.protected |= {"e_velocity", "a_velocity", "e_prime_septal", "e_prime_lateral"}
    if la != "normal":
        c.protected |= {"la_volume", "lavi"}


def _right_heart(rng: random.Random, c: Case, ph: Phenotype, b: dict[str, BandSet]) -> None:
    po = ph.rv == "pressure_overload"
    c.grades["rv_size"] = "dilated" if po else "normal"
    c.grades["rv_function"] = "reduced" if po else "normal"
    c.m["rv_basal_diameter"] = _u(rng, b["rv_basal_diameter"].get(c.grades["rv_size"]), 1)
    c.m["tapse"] = _u(rng, b["tapse"].get(c.grades["rv_function"]), 1)
    c.grades["ra_size"] = "dilated" if po or c.rhythm != "sinus" else "normal"
    c.m["ra_area"] = float(round(rng.uniform(*b["ra_area"].get(c.grades["ra_size"]))))
    rap_key = rng.choice(ph.rap)
    rap = b["rap"].get(rap_key)[0]
    tag = f"rap{int(rap)}"
    c.m["ivc_diameter"] = _u(rng, b["ivc"].get(f"{tag}_diameter"), 1)
    c.m["ivc_collapse"] = float(round(rng.uniform(*b["ivc"].get(f"{tag}_collapse"))))
    c.m["rap"] = float(rap)
    tr = rng.choice(ph.tr)
    c.m["tr_vmax"] = _u(rng, b["tr_vmax"].get(tr), 1)
    c.m["rvsp"] = float(round(4 * c.m["tr_vmax"] ** 2 + rap))  # ASE10-RH: RVSP = 4 v² + RAP
    c.grades["tr"] = tr
    if tr != "normal" or c.grades["rv_function"] != "normal":
        c.protected |= {"tr_vmax", "rvsp", "ivc_diameter", "ivc_collapse", "rap", "tapse"}
    if po:
        c.m["pa_diameter"] = _u(rng, (2.8, 3.6), 1)  # > 2.5 cm, ESC22-PH category B
        c.m["rvot_acceleration_time"] = float(round(rng.uniform(60, 95)))  # < 105 ms, category B
        c.septal_flattening = True
        c.m["rv_lv_ratio"] = round(c.m["rv_basal_diameter"] / c.m["lvidd"], 2)


def _valves(rng: random.Random, c: Case, ph: Phenotype, b: dict[str, BandSet]) -> None:
    pop = spec().population
    for name in ("aortic", "mitral", "tricuspid", "pulmonic"):
        traits: ValveTraits | None = getattr(ph, name, None)
        v: dict[str, Any] = {"regurgitation": None, "stenosis": None, "mechanism": None,
                             "morphology": [], "prosthesis": None}
        if traits is not None:
            if traits.regurgitation:
                v["regurgitation"] = rng.choice(traits.regurgitation)
            if traits.stenosis:
                v["stenosis"] = rng.choice(traits.stenosis)
            if traits.morphology:
                v["morphology"] = list(rng.choice(traits.morphology))
            if v["regurgitation"] not in (None, "none", "trace"):
                v["mechanism"] = traits.mechanism
        physiologic = name != "aortic" and rng.random() < pop.trace_probability
        if v["regurgitation"] in (None, "none") and physiologic:
            v["regurgitation"] = "trace"  # physiologic; listed in findings, left out of impressions
        c.valves[name] = v
    age = c.patient.age
    av = c.valves["aortic"]
    if av["stenosis"] is None and not ph.prosthesis and age >= 65 and rng.random() < 0.3:
        av["stenosis"], av["morphology"] = "sclerosis", ["thickened"]
    mv = c.valves["mitral"]
    if (mv["regurgitation"] in (None, "none", "trace") and c.grades["lv_size"] != "normal"
            and rng.random() < pop.mild_incidental_probability * 3):
        mv["regurgitation"], mv["mechanism"] = "mild", "secondary"
    tv = c.valves["tricuspid"]
    if c.grades["tr"] != "normal" and tv["regurgitation"] in (None, "none", "trace"):
        tv["regurgitation"] = "mild"
    if av["stenosis"]:
        grade = av["stenosis"]
        vmax = _u(rng, b["av_vmax"].get(grade), 1)
        c.m["av_vmax"] = vmax
        c.m["av_peak_gradient"] = float(round(4 * vmax**2))  # simplified Bernoulli, ASE17-AS
        c.m["av_mean_gradient"] = float(round(rng.uniform(*b["av_mean_factor"].get(grade)) * vmax**2))
        if grade != "sclerosis":
            c.m["ava"] = _u(rng, b["ava"].get(grade), 2)
            c.m["lvot_diameter"] = _u(rng, (1.9, 2.4), 1)
            c.protected |= {"av_vmax", "av_peak_gradient", "av_mean_gradient", "ava"}
    if mv["stenosis"]:
        grade = mv["stenosis"]
        pht = round(220 / rng.uniform(*b["mva"].get(grade)))
        c.m["mv_pht"] = float(pht)
        c.m["mva"] = round(220 / pht, 2)  # Hatle: MVA cm² = 220 / PHT ms (ASE09-VS)
        c.m["mv_mean_gradient"] = float(round(rng.uniform(*b["mv_mean_gradient"].get(grade))))
        c.protected |= {"mva", "mv_mean_gradient", "mv_pht"}
    if ph.prosthesis:
        valve, kind = rng.choice(ph.prosthesis).split("-")
        pv = c.valves[valve]
        pv.update(prosthesis={"kind": kind, "function": "normal"}, stenosis=None, morphology=[],
                  regurgitation=None, mechanism=None)
        c.derived["prosthesis_gradient"] = float(round(rng.uniform(*b["mv_mean_gradient"].get("prosthesis"))))
        if valve == "aortic":
            vmax = _u(rng, b["av_vmax"].get("prosthesis"), 1)
            c.m["av_vmax"] = vmax
            c.m["av_peak_gradient"] = float(round(4 * vmax**2))
            k = rng.uniform(*b["av_mean_factor"].get("prosthesis"))
            c.m["av_mean_gradient"] = float(round(k * vmax**2))
            c.derived["prosthesis_gradient"] = c.m["av_mean_gradient"]
            c.protected |= {"av_vmax", "av_peak_gradient", "av_mean_gradient"}
        if kind == "bioprosthetic" and rng.random() < 0.3:
            pv["prosthesis"]["paravalvular_leak"] = "trace"


def _pericardium_aorta_lesions(rng: random.Random, c: Case, ph: Phenotype, b: dict[str, BandSet],
                               sex: str) -> None:
    if ph.effusion:
        size = rng.choice(ph.effusion)
        c.m["effusion_width"] = _u(rng, b["effusion_width"].get(size), 1)
        c.effusion = {"size": size, "location": "circumferential" if size != "small" or rng.random() < 0.5
                      else "posterior"}
        if ph.tamponade:
            c.effusion.update(tamponade=True, ra_collapse=True, rv_collapse=True, plethoric_ivc=True,
                              respiratory_variation=True)
        c.protected.add("effusion_width")
    which = rng.choice(ph.aorta) if ph.aorta else None
    for part in ("aortic_root", "ascending_aorta"):
        dilated = which in ("both", "root" if part == "aortic_root" else "ascending")
        grade = "dilated" if dilated else "normal"
        c.m[part] = _u(rng, b[part].get(grade, sex), 1)
        c.grades[part] = grade
        if dilated:
            c.protected |= {"aortic_root", "ascending_aorta"}
    if ph.lv_thrombus:
        c.thrombus = {"location": "lv", "size_cm": _u(rng, b["lesion_size"].get("thrombus"), 1),
                      "mobile": rng.random() < 0.25, "description": "apical"}
    if ph.vegetation:
        valve = rng.choice(ph.vegetation)
        c.vegetation = {"location": valve, "size_cm": _u(rng, b["lesion_size"].get("vegetation"), 1),
                        "mobile": True}
        v = c.valves[valve]
        v["regurgitation"] = rng.choice(["mild", "moderate", "severe"])
        v["mechanism"] = "primary" if valve == "mitral" else None
