"""Record shapes of EchoGPT: a study (patient, measurements, findings, prose) and what is made of it.

Every measurement is stored in its canonical unit (``resources/measurements.json``); values with
units are converted on the way in, implausible bare numbers are rejected with a hint.

    study = Study.model_validate({"study_id": "S1", "findings_text": "Normal LV size ..."})
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from echogpt import units


class Strict(BaseModel):
    """Base of every record: unknown keys are errors, whitespace is stripped."""

    # allow_inf_nan=False: a NaN age or size passes every "<"/">" range check, so refuse it outright
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_assignment=True,
                              allow_inf_nan=False)


def _key(text: str) -> str:
    return re.sub(r"[\s_/]+", "-", str(text).strip().lower()).replace("–", "-")


def _enum_from(enum: type[StrEnum], synonyms: dict[str, str], raw: Any, what: str) -> Any:
    if raw is None or isinstance(raw, enum):
        return raw
    k = _key(raw)
    k = synonyms.get(k, k)
    for member in enum:
        if member.value == k:
            return member
    raise PydanticCustomError("unknown_term", "{what} '{value}' is not one of: {allowed}",
                              {"what": what, "value": raw,
                               "allowed": ", ".join(m.value for m in enum)})


# ---------------------------------------------------------------- enumerations


class Sex(StrEnum):
    male = "male"
    female = "female"


class StudyType(StrEnum):
    TTE = "TTE"
    TEE = "TEE"
    stress = "stress"


class Rhythm(StrEnum):
    sinus = "sinus"
    atrial_fibrillation = "atrial-fibrillation"
    atrial_flutter = "atrial-flutter"
    paced = "paced"
    other = "other"


class RegurgitationGrade(StrEnum):
    none = "none"
    trace = "trace"
    mild = "mild"
    mild_moderate = "mild-moderate"
    moderate = "moderate"
    moderate_severe = "moderate-severe"
    severe = "severe"
    massive = "massive"
    torrential = "torrential"


class StenosisGrade(StrEnum):
    none = "none"
    sclerosis = "sclerosis"
    mild = "mild"
    moderate = "moderate"
    severe = "severe"
    very_severe = "very-severe"


class WallMotion(StrEnum):
    normal = "normal"
    hypokinetic = "hypokinetic"
    akinetic = "akinetic"
    dyskinetic = "dyskinetic"
    aneurysmal = "aneurysmal"


class EffusionSize(StrEnum):
    none = "none"
    trivial = "trivial"
    small = "small"
    moderate = "moderate"
    large = "large"


class SizeGrade(StrEnum):
    normal = "normal"
    mildly_dilated = "mildly-dilated"
    moderately_dilated = "moderately-dilated"
    severely_dilated = "severely-dilated"


class FunctionGrade(StrEnum):
    normal = "normal"
    mildly_reduced = "mildly-reduced"
    moderately_reduced = "moderately-reduced"
    severely_reduced = "severely-reduced"


class EFCategory(StrEnum):
    hyperdynamic = "hyperdynamic"
    normal = "normal"
    low_normal = "low-normal"
    mildly_reduced = "mildly-reduced"
    moderately_reduced = "moderately-reduced"
    severely_reduced = "severely-reduced"


class DiastolicGrade(StrEnum):
    normal = "normal"
    grade_1 = "grade-1"
    grade_2 = "grade-2"
    grade_3 = "grade-3"
    indeterminate = "indeterminate"


class ImageQuality(StrEnum):
    good = "good"
    adequate = "adequate"
    limited = "limited"


_SEX = {"m": "male", "man": "male", "f": "female", "woman": "female", "w": "female"}
_RHYTHM = {"sr": "sinus", "sinus-rhythm": "sinus", "nsr": "sinus", "af": "atrial-fibrillation",
           "afib": "atrial-fibrillation", "a-fib": "atrial-fibrillation",
           "afl": "atrial-flutter", "aflutter": "atrial-flutter", "pacing": "paced",
           "ventricular-paced": "paced", "v-paced": "paced"}
_REGURG = {"0": "none", "absent": "none", "no": "none", "trivial": "trace", "physiologic": "trace",
           "1+": "mild", "1": "mild", "2+": "moderate", "2": "moderate", "3+": "moderate-severe",
           "3": "moderate-severe", "4+": "severe", "4": "severe", "mild-to-moderate": "mild-moderate",
           "moderate-to-severe": "moderate-severe", "moderately-severe": "moderate-severe"}
_STENOSIS = {"no": "none", "absent": "none", "critical": "very-severe",
             "very severe": "very-severe", "aortic-sclerosis": "sclerosis"}
_WALL = {"1": "normal", "2": "hypokinetic", "3": "akinetic", "4": "dyskinetic", "5": "aneurysmal",
         "hypokinesis": "hypokinetic", "akinesis": "akinetic", "dyskinesis": "dyskinetic",
         "aneurysm": "aneurysmal", "hyperkinetic": "normal"}
_SIZE = {"mild": "mildly-dilated", "moderate": "moderately-dilated", "severe": "severely-dilated",
         "dilated": "mildly-dilated", "enlarged": "mildly-dilated", "mildly-enlarged": "mildly-dilated",
         "moderately-enlarged": "moderately-dilated", "severely-enlarged": "severely-dilated"}
_FUNCTION = {"mild": "mildly-reduced", "moderate": "moderately-reduced", "severe": "severely-reduced",
             "preserved": "normal", "reduced": "mildly-reduced"}
_EF = {"vigorous": "hyperdynamic", "preserved": "normal", "low-normal": "low-normal",
       "borderline": "low-normal", "mild": "mildly-reduced", "moderate": "moderately-reduced",
       "severe": "severely-reduced", "mildly-decreased": "mildly-reduced",
       "moderately-decreased": "moderately-reduced", "severely-decreased": "severely-reduced",
       "mildly-depressed": "mildly-reduced", "moderately-depressed": "moderately-reduced",
       "severely-depressed": "severely-reduced", "normal-systolic-function": "normal"}
_DIASTOLIC = {"1": "grade-1", "i": "grade-1", "grade-i": "grade-1", "impaired-relaxation": "grade-1",
              "2": "grade-2", "ii": "grade-2", "grade-ii": "grade-2", "pseudonormal": "grade-2",
              "3": "grade-3", "iii": "grade-3", "grade-iii": "grade-3", "restrictive": "grade-3"}
_QUALITY = {"excellent": "good", "fair": "adequate", "poor": "limited",
            "technically-limited": "limited", "suboptimal": "limited"}


# ---------------------------------------------------------------- patient


class Patient(Strict):
    """Demographics. BSA by the Mosteller formula unless given."""

    age: float | None = Field(None, description="Age in years (adults only: 18-120)")
    sex: Sex | None = Field(None, description="male | female (M/F accepted)")
    height_cm: float | None = Field(None, description="Height in cm (120-230); '1.70 m', '67 in' accepted")
    weight_kg: float | None = Field(None, description="Weight in kg (30-300); '154 lb' accepted")
    bsa_m2: float | None = Field(None, validate_default=True,
                                 description="Body surface area m²; Mosteller sqrt(h·w/3600) if absent")

    @field_validator("sex", mode="before")
    @classmethod
    def _sex(cls, v: Any) -> Any:
        return _enum_from(Sex, _SEX, v, "sex")

    @field_validator("age")
    @classmethod
    def _adult(cls, v: float | None) -> float | None:
        if v is None:
            return v
        if v < 18:
            raise PydanticCustomError(
                "not_adult", "age {value} is under 18: the ASE/EACVI thresholds EchoGPT grades by "
                "are for adults (min 18, max 120)", {"value": v, "min": 18, "max": 120})
        if v > 120:
            raise PydanticCustomError("implausible_value", "age {value} is above 120",
                                      {"value": v, "min": 18, "max": 120})
        return v

    @field_validator("height_cm", mode="before")
    @classmethod
    def _height(cls, v: Any) -> Any:
        return _body(v, "height", {"cm": 1.0, "m": 100.0, "in": 2.54, "inch": 2.54, "mm": 0.1},
                     120, 230)

    @field_validator("weight_kg", mode="before")
    @classmethod
    def _weight(cls, v: Any) -> Any:
        return _body(v, "weight", {"kg": 1.0, "lb": 0.45359237, "lbs": 0.45359237, "g": 0.001},
                     30, 300)

    @field_validator("bsa_m2")
    @classmethod
    def _bsa(cls, v: float | None, info: ValidationInfo) -> float | None:
        # derived here (a field validator, run after height and weight) so that an implausible
        # derived BSA is reported at bsa_m2 and gets the same range check as a given one
        how = "given"
        if v is None:
            h, w = info.data.get("height_cm"), info.data.get("weight_kg")
            if not (h and w):
                return None
            # Mosteller RD, NEJM 1987;317:1098: BSA = sqrt(height cm × weight kg / 3600)
            v, how = round(math.sqrt(h * w / 3600), 3), "from height and weight"
        if not 0.9 <= v <= 3.2:
            raise PydanticCustomError("implausible_value", "BSA {value} m² ({how}) is outside 0.9-3.2 m²",
                                      {"value": v, "how": how, "min": 0.9, "max": 3.2})
        return v


def _body(v: Any, what: str, factors: dict[str, float], lo: float, hi: float) -> Any:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    value, unit = units.split_value_unit(v)
    if unit is not None:
        key = unit.strip().lower().rstrip(".")
        if key not in factors:
            raise PydanticCustomError("unknown_unit", "{what}: unit '{unit}' is not one of {allowed}",
                                      {"what": what, "unit": unit, "allowed": ", ".join(factors)})
        value = value * factors[key]
    if not lo <= value <= hi:
        raise PydanticCustomError("implausible_value",
                                  "{what} {value} is outside the plausible adult range {min}-{max}",
                                  {"what": what, "value": value, "min": lo, "max": hi})
    return round(value, 2)


# ---------------------------------------------------------------- measurements

_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*(?:-|–|—|to)\s*(\d+(?:\.\d+)?)\s*%?\s*$")


class LVEF(Strict):
    """LVEF: a number (low == high), a range such as 55-60 %, or a qualitative estimate."""

    low: float | None = Field(None, description="Lower bound, % (equals high for a single value)")
    high: float | None = Field(None, description="Upper bound, %")
    qualitative: EFCategory | None = Field(None, description="Visual/qualitative estimate")
    method: str | None = Field(None, description="biplane | visual | 3D | M-mode ...")

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise PydanticCustomError("not_a_number", "LVEF must be a number, range or category")
        if isinstance(v, int | float):
            return {"low": v, "high": v}
        if isinstance(v, str):
            m = _RANGE.match(v)
            if m:
                return {"low": float(m.group(1)), "high": float(m.group(2))}
            try:
                value, unit = units.split_value_unit(v)
                if unit in (None, "%"):
                    return {"low": value, "high": value}
            except PydanticCustomError:
                pass
            return {"qualitative": v}
        if isinstance(v, dict) and "value" in v:
            rest = {k: x for k, x in v.items() if k not in ("value", "unit")}
            return {"low": v["value"], "high": v["value"], **rest}
        return v

    @field_validator("qualitative", mode="before")
    @classmethod
    def _q(cls, v: Any) -> Any:
        return _enum_from(EFCategory, _EF, v, "LVEF estimate")

    @field_validator("low", "high")
    @classmethod
    def _bounds(cls, v: float | None) -> float | None:
        if v is not None:
            units.check_range("lvef", v, had_unit=True)
        return v

    @model_validator(mode="after")
    def _order(self) -> LVEF:
        if (self.low is None) != (self.high is None):
            object.__setattr__(self, "low", self.low if self.low is not None else self.high)
            object.__setattr__(self, "high", self.high if self.high is not None else self.low)
        if self.low is not None and self.high is not None and self.low > self.high:
            raise PydanticCustomError("bad_range", "LVEF range {low}-{high}: low is above high",
                                      {"low": self.low, "high": self.high})
        if self.low is None and self.qualitative is None:
            raise PydanticCustomError("empty", "LVEF needs a value, a range or a qualitative estimate")
        return self

    @property
    def value(self) -> float | None:
        """Midpoint of the range, or the single value (None if only qualitative)."""
        if self.low is None or self.high is None:
            return None
        return (self.low + self.high) / 2

    def text(self) -> str:
        """Human form: "55-60 %", "35 %" or the qualitative word."""
        if self.low is None:
            return str(self.qualitative.value).replace("-", " ") if self.qualitative else ""
        if self.low == self.high:
            return f"{self.low:g} %"
        return f"{self.low:g}-{self.high:g} %"


def _measurement_fields() -> dict[str, Any]:
    return {name: (float | None, Field(None, description=f"{s.description} [{s.unit or 'ratio'}]"))
            for name, s in units.table().fields.items() if name != "lvef"}


class Measurements(Strict):
    """Measurements in canonical units (see each field's description); all optional."""

    lvef: LVEF | None = Field(None, description="LV ejection fraction [%]: number, range or category")
    lvidd: float | None = Field(None, description="LV internal diameter, end-diastole [cm]")
    lvids: float | None = Field(None, description="LV internal diameter, end-systole [cm]")
    ivsd: float | None = Field(None, description="Septal thickness, end-diastole [cm]")
    lvpwd: float | None = Field(None, description="Posterior wall thickness, end-diastole [cm]")
    lvedv: float | None = Field(None, description="LV end-diastolic volume [mL]")
    lvesv: float | None = Field(None, description="LV end-systolic volume [mL]")
    la_volume: float | None = Field(None, description="LA volume [mL]")
    lavi: float | None = Field(None, description="LA volume index [mL/m²]; from LA volume/BSA if absent")
    la_diameter: float | None = Field(None, description="LA AP diameter [cm]")
    e_velocity: float | None = Field(None, description="Mitral E [cm/s]")
    a_velocity: float | None = Field(None, description="Mitral A [cm/s]")
    e_prime_septal: float | None = Field(None, description="Septal e' [cm/s]")
    e_prime_lateral: float | None = Field(None, description="Lateral e' [cm/s]")
    e_a_ratio: float | None = Field(None, description="Mitral E/A ratio, as stated")
    e_e_prime_avg: float | None = Field(None, description="Average E/e', as stated")
    tr_vmax: float | None = Field(None, description="Peak TR velocity [m/s]")
    ivc_diameter: float | None = Field(None, description="IVC diameter [cm]")
    ivc_collapse: float | None = Field(None, description="IVC inspiratory collapse [%]")
    rap: float | None = Field(None, description="RA pressure [mmHg]")
    rvsp: float | None = Field(None, description="RV systolic pressure [mmHg]")
    tapse: float | None = Field(None, description="TAPSE [cm]")
    rv_basal_diameter: float | None = Field(None, description="RV basal diameter [cm]")
    rv_lv_ratio: float | None = Field(None, description="RV/LV basal diameter ratio")
    septal_flattening: bool | None = Field(None, description="Interventricular septal flattening")
    rvot_acceleration_time: float | None = Field(None, description="RVOT acceleration time [ms]")
    pa_diameter: float | None = Field(None, description="Main PA diameter [cm]")
    ra_area: float | None = Field(None, description="RA end-systolic area [cm²]")
    av_vmax: float | None = Field(None, description="AV peak velocity [m/s]")
    av_mean_gradient: float | None = Field(None, description="AV mean gradient [mmHg]")
    av_peak_gradient: float | None = Field(None, description="AV peak gradient [mmHg]")
    ava: float | None = Field(None, description="Aortic valve area [cm²]")
    sv_index: float | None = Field(None, description="Stroke volume index [mL/m²]")
    lvot_diameter: float | None = Field(None, description="LVOT diameter [cm]")
    lvot_peak_gradient: float | None = Field(None, description="Peak LVOT gradient [mmHg]")
    mva: float | None = Field(None, description="Mitral valve area [cm²]")
    mv_mean_gradient: float | None = Field(None, description="MV mean gradient [mmHg]")
    mv_pht: float | None = Field(None, description="Mitral pressure half-time [ms]")
    aortic_root: float | None = Field(None, description="Aortic root (sinuses) [cm]")
    ascending_aorta: float | None = Field(None, description="Proximal ascending aorta [cm]")
    effusion_width: float | None = Field(None, description="Pericardial effusion width [cm]")
    heart_rate: float | None = Field(None, description="Heart rate [bpm]")

    @field_validator("*", mode="before")
    @classmethod
    def _convert(cls, v: Any, info: Any) -> Any:
        name = info.field_name
        if name in ("lvef", "septal_flattening"):
            if name == "lvef" and (v == "" or v is None):
                return None
            return v
        return units.parse_measurement(name, v)


assert set(_measurement_fields()) <= set(Measurements.model_fields), "measurement table drift"


# ---------------------------------------------------------------- findings


class Prosthesis(Strict):
    """A prosthetic valve or repair."""

    kind: Literal["mechanical", "bioprosthetic", "transcatheter", "repair"]
    function: Literal["normal", "stenosis", "regurgitation", "dehiscence", "thrombosis"] = "normal"
    paravalvular_leak: RegurgitationGrade | None = None

    @field_validator("paravalvular_leak", mode="before")
    @classmethod
    def _pvl(cls, v: Any) -> Any:
        return _enum_from(RegurgitationGrade, _REGURG, v, "paravalvular leak")


class ValveFinding(Strict):
    """One valve: regurgitation and stenosis grade, prosthesis, morphology."""

    regurgitation: RegurgitationGrade | None = None
    stenosis: StenosisGrade | None = None
    prosthesis: Prosthesis | None = None
    mechanism: Literal["primary", "secondary"] | None = Field(None, description="MR/TR mechanism")
    morphology: list[str] = Field(default_factory=list,
                                  description="e.g. bicuspid, calcified, prolapse, flail, MAC, rheumatic")

    @field_validator("regurgitation", mode="before")
    @classmethod
    def _r(cls, v: Any) -> Any:
        return _enum_from(RegurgitationGrade, _REGURG, v, "regurgitation grade")

    @field_validator("stenosis", mode="before")
    @classmethod
    def _s(cls, v: Any) -> Any:
        return _enum_from(StenosisGrade, _STENOSIS, v, "stenosis grade")


SEGMENTS: tuple[str, ...] = (
    "basal anterior", "basal anteroseptal", "basal inferoseptal", "basal inferior",
    "basal inferolateral", "basal anterolateral", "mid anterior", "mid anteroseptal",
    "mid inferoseptal", "mid inferior", "mid inferolateral", "mid anterolateral",
    "apical anterior", "apical septal", "apical inferior", "apical lateral", "apex",
)
"""ASE15 17-segment model; segment n is SEGMENTS[n - 1]."""


def segment_number(key: Any) -> int:
    """Segment number 1-17 from a number or a name ("basal inferior", "mid_anterior")."""
    if isinstance(key, int) or (isinstance(key, str) and key.strip().isdecimal()):
        n = int(key)
        if 1 <= n <= 17:
            return n
    else:
        name = re.sub(r"[\s_-]+", " ", str(key).strip().lower()).replace("posterior", "inferolateral")
        if name in SEGMENTS:
            return SEGMENTS.index(name) + 1
    raise PydanticCustomError("unknown_segment", "wall-motion segment '{value}' is not 1-17 or a "
                              "17-segment name such as 'basal inferior'", {"value": key})


class Effusion(Strict):
    """Pericardial effusion and tamponade signs."""

    size: EffusionSize = EffusionSize.none
    location: Literal["circumferential", "loculated", "posterior", "anterior"] | None = None
    tamponade: bool = Field(False, description="Tamponade physiology stated by the reader")
    ra_collapse: bool = False
    rv_collapse: bool = False
    plethoric_ivc: bool = False
    respiratory_variation: bool = False

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, v: Any) -> Any:
        return _enum_from(EffusionSize, {"no": "none", "absent": "none", "physiologic": "trivial"},
                          v, "effusion size")


class Lesion(Strict):
    """A thrombus, vegetation or mass."""

    location: str = Field(
        description="lv | la | laa | ra | rv | aortic | mitral | tricuspid | pulmonic | lead")
    size_cm: float | None = Field(None, ge=0.1, le=10)
    mobile: bool | None = None
    description: str | None = None


class Shunt(Strict):
    """Interatrial/ventricular shunt assessment."""

    kind: Literal["pfo", "asd", "vsd"] = "pfo"
    present: bool
    method: Literal["color", "agitated-saline"] = "color"


class Findings(Strict):
    """Structured findings; all optional."""

    aortic: ValveFinding | None = None
    mitral: ValveFinding | None = None
    tricuspid: ValveFinding | None = None
    pulmonic: ValveFinding | None = None
    wall_motion: dict[int, WallMotion] = Field(
        default_factory=dict, description="17-segment wall motion; keys 1-17 or segment names")
    lv_size: SizeGrade | None = None
    rv_size: SizeGrade | None = None
    rv_function: FunctionGrade | None = None
    la_size: SizeGrade | None = None
    ra_size: SizeGrade | None = None
    diastolic_function: DiastolicGrade | None = Field(None, description="as read by the lab, if stated")
    effusion: Effusion | None = None
    thrombus: list[Lesion] = Field(default_factory=list)
    vegetation: list[Lesion] = Field(default_factory=list)
    mass: list[Lesion] = Field(default_factory=list)
    shunt: Shunt | None = None
    lvot_obstruction: bool | None = None
    sam: bool | None = None
    aortic_dissection: bool | None = None
    image_quality: ImageQuality | None = None

    @field_validator("wall_motion", mode="before")
    @classmethod
    def _segments(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        return {segment_number(k): _enum_from(WallMotion, _WALL, x, "wall motion") for k, x in v.items()}

    @field_validator("lv_size", "rv_size", "la_size", "ra_size", mode="before")
    @classmethod
    def _size(cls, v: Any) -> Any:
        return _enum_from(SizeGrade, _SIZE, v, "size grade")

    @field_validator("rv_function", mode="before")
    @classmethod
    def _fn(cls, v: Any) -> Any:
        return _enum_from(FunctionGrade, _FUNCTION, v, "function grade")

    @field_validator("diastolic_function", mode="before")
    @classmethod
    def _dd(cls, v: Any) -> Any:
        return _enum_from(DiastolicGrade, _DIASTOLIC, v, "diastolic grade")

    @field_validator("image_quality", mode="before")
    @classmethod
    def _iq(cls, v: Any) -> Any:
        return _enum_from(ImageQuality, _QUALITY, v, "image quality")


class Prior(Strict):
    """The previous study's key facts, for comparison statements."""

    study_date: date | None = None
    lvef: LVEF | None = None
    measurements: Measurements | None = None
    findings: Findings | None = None
    impression: str | None = None


# ---------------------------------------------------------------- study


class Study(Strict):
    """One echocardiogram: the input to drafting, checking and evaluation (CONTRACTS.md)."""

    study_id: str = Field(min_length=1, max_length=128)
    patient_id: str | None = Field(None, min_length=1, max_length=128,
                                   description="Splits are by patient; defaults to study_id")
    study_date: date | None = None
    study_type: StudyType = StudyType.TTE
    indication: str | None = Field(None, description="The reason for the study; a report import adds the "
                                   "history and how the study was done, each labelled ('History: ...')")
    rhythm: Rhythm | None = None
    lbbb: bool = False
    ventilated: bool = Field(False, description="Mechanically ventilated (IVC-based RAP not valid)")
    contrast: bool = Field(False, description="Ultrasound-enhancing agent used")
    agitated_saline: bool = Field(False, description="Agitated-saline (bubble) study done")
    patient: Patient | None = None
    measurements: Measurements | None = None
    findings: Findings | None = None
    prior: Prior | None = None
    findings_text: str = Field(min_length=1, description="The findings section as prose")
    impression: str | None = Field(None, description="Reference impression (training/evaluation)")
    unread: list[str] | None = Field(None, description="Parts of the source report the import could not "
                                     "read (a suspect cut, table columns not told apart, lines under no "
                                     "heading, values in a procedure section); a claim the study is silent "
                                     "on is then not_checked, not unsupported; a note that ends with the "
                                     "unread text in double quotes excuses only the claims whose subject "
                                     "that text names")
    superseded: list[str] | None = Field(None, description="Parts of the report that a later part of it "
                                         "replaces (a sonographer's preliminary read under the final "
                                         "report, a first impression an addendum re-issues, a value a "
                                         "correction or the final report replaces), quoted for the record; "
                                         "never evidence for or against a claim")
    recommendations: list[str] | None = Field(None, description="The report's own plan outside its "
                                              "impression (recommendations, referrals, follow-up), one "
                                              "labelled line per section as written; never findings, so "
                                              "never evidence for or against a claim")
    phenotype: str | None = Field(None, description="Synthetic label(s), for breakdowns only")

    @field_validator("study_id", "patient_id", mode="before")
    @classmethod
    def _ident(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("study_type", mode="before")
    @classmethod
    def _type(cls, v: Any) -> Any:
        if isinstance(v, str):
            for t in StudyType:
                if t.value.lower() == v.strip().lower():
                    return t
        return v

    @field_validator("rhythm", mode="before")
    @classmethod
    def _rhythm(cls, v: Any) -> Any:
        return _enum_from(Rhythm, _RHYTHM, v, "rhythm")

    @field_validator("measurements")
    @classmethod
    def _lavi(cls, m: Measurements | None, info: ValidationInfo) -> Measurements | None:
        # a field validator (not the model one) so a bad derived LAVI is reported at "measurements"
        p = info.data.get("patient")
        if m and m.lavi is None and m.la_volume and p and p.bsa_m2:
            lavi = round(m.la_volume / p.bsa_m2, 1)  # ASE15: LAVI = LA volume / BSA
            object.__setattr__(m, "lavi", units.check_range("lavi", lavi, had_unit=True))
        return m

    @model_validator(mode="after")
    def _derive(self) -> Study:
        if self.patient_id is None:
            object.__setattr__(self, "patient_id", self.study_id)
        return self

    @property
    def sex(self) -> Sex | None:
        return self.patient.sex if self.patient else None


# ---------------------------------------------------------------- facts


@cache
def concept_vocabulary() -> dict[str, dict[str, Any]]:
    """The fact vocabulary (``resources/concepts.json``): concept -> grades, locations, unit."""
    raw = json.loads(resources.files("echogpt.resources").joinpath("concepts.json").read_text("utf-8"))
    for name, entry in raw["concepts"].items():
        unknown = set(entry) - {"grades", "locations", "unit", "description"}
        if unknown:
            raise ValueError(f"concepts.json {name}: unknown keys {sorted(unknown)}; allowed: "
                             "grades, locations, unit, description")
    return raw["concepts"]


class Fact(Strict):
    """One clinical fact, from measurements (guideline engine) or from prose (extractor)."""

    # frozen: facts are cached and shared between studies and checks (model_copy makes a changed one)
    model_config = ConfigDict(frozen=True)

    concept: str = Field(description="A key of resources/concepts.json")
    location: str | None = Field(None, description="Chamber, valve, segment or territory")
    polarity: Literal["present", "absent", "uncertain"] = "present"
    grade: str | None = None
    value: float | None = None
    value_max: float | None = Field(None, description="Upper end of a range (value is the lower)")
    unit: str | None = None
    source: str | None = Field(None, description="Field path ('measurements.lvef') or 'text'")
    start: int | None = Field(None, description="Span start in the source text")
    end: int | None = None
    rule: str | None = Field(None, description="Guideline rule or pattern that produced it")

    @model_validator(mode="after")
    def _vocab(self) -> Fact:
        vocab = concept_vocabulary()
        if self.concept not in vocab:
            raise PydanticCustomError("unknown_concept", "unknown fact concept '{value}'",
                                      {"value": self.concept})
        entry = vocab[self.concept]
        if self.grade is not None and self.grade not in entry["grades"]:
            raise PydanticCustomError("unknown_grade", "{concept}: grade '{value}' not in {allowed}",
                                      {"concept": self.concept, "value": self.grade,
                                       "allowed": entry["grades"]})
        if self.location is not None and entry["locations"] and self.location not in entry["locations"]:
            raise PydanticCustomError("unknown_location", "{concept}: location '{value}' not in "
                                      "{allowed}", {"concept": self.concept, "value": self.location,
                                                    "allowed": entry["locations"]})
        return self


# ---------------------------------------------------------------- outputs


class Prediction(Strict):
    """One generated impression (a line of `echogpt generate`'s output)."""

    study_id: str
    mode: Literal["fine-tuned", "zero-shot", "few-shot", "template"]
    impression: str
    base_model: str | None = Field(None, description="hub id or embedded:smollm2-135m-instruct@<hash>")
    adapter: str | None = None
    prompt_hash: str | None = None
    prompt_tokens: int = 0
    new_tokens: int = 0
    seconds: float = 0.0
    stopped: bool = Field(True, description="Ended on the end-of-turn token, not the token limit")
    guard: GuardRecord | None = Field(None, description="What the checker-guided drafting changed; "
                                                        "None when drafted unguarded")


Verdict = Literal["supported", "contradicted", "unsupported", "not_factual", "not_checked"]


class StatementCheck(Strict):
    """The checker's verdict on one statement of an impression."""

    text: str
    start: int
    end: int
    verdict: Verdict
    reason: str
    facts: list[Fact] = Field(default_factory=list)
    evidence: str | None = Field(None, description="what of the study the verdict rests on, in words: "
                                 "\"study: LVEF 35 % (measurements.lvef)\", \"study: 'severe MR' (findings "
                                 "text)\"; None when no fact of the study is cited")


class GuardIntervention(Strict):
    """One change the guard made to a draft while the model wrote it."""

    kind: Literal["repaired", "replaced", "dropped", "added"] = Field(
        description="repaired: one value or grade set to the study's; replaced: rewritten by the model "
                    "(or, when no rewrite on its subject passed, the template's sentence about it); "
                    "dropped: no rewrite passed; added: an omitted critical finding appended")
    original: str | None = Field(None, description="The statement as the model first wrote it (None: added)")
    text: str | None = Field(None, description="The statement now in the draft (None: dropped)")
    verdict: Verdict | None = Field(None, description="The checker's verdict on the original")
    reason: str = Field(description="Why, in words, with the study's evidence")
    start: int = Field(description="Span start in the guarded text (a dropped statement: where it was)")
    end: int = Field(description="Span end in the guarded text (start for a dropped statement)")
    candidates: int = Field(0, ge=0, description="Rewrites the model wrote for it")

    def line(self) -> str:
        """One line for the audit trail and the page's tooltip."""
        was = f"'{self.original}'" if self.original else ""
        now = f"'{self.text}'" if self.text else ""
        change = {"repaired": f"{was} -> {now}", "replaced": f"{was} -> {now}", "dropped": f"{was} left out",
                  "added": f"{now} added"}[self.kind]
        return f"{self.kind}: {change} ({self.reason})"


class GuardRecord(Strict):
    """What checker-guided drafting changed, kept with the draft; the text the model wrote unguarded
    stays readable."""

    unguarded_text: str = Field(description="The draft as the model first wrote each statement: repairs "
                                            "and rewrites undone, dropped statements back, additions out")
    interventions: list[GuardIntervention] = Field(default_factory=list)


class Omission(Strict):
    """A critical finding present in the study and absent from the impression."""

    finding: str
    severity: Literal["critical", "high", "moderate"] = "critical"
    evidence: str


class CheckResult(Strict):
    """The hallucination check of one impression against its study."""

    study_id: str
    statements: list[StatementCheck]
    omissions: list[Omission] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _drop_summary(cls, v: Any) -> Any:
        # summary is computed and written out; reading a written result back must not fail on it
        if isinstance(v, dict) and "summary" in v:
            return {k: x for k, x in v.items() if k != "summary"}
        return v

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> dict[str, int]:
        counts = {v: 0 for v in ("supported", "contradicted", "unsupported", "not_factual", "not_checked")}
        for s in self.statements:
            counts[s.verdict] += 1
        counts["omissions"] = len(self.omissions)
        return counts

    @property
    def flagged(self) -> bool:
        """True when any statement is contradicted or unsupported, or a critical finding is missing."""
        s = self.summary
        return bool(s["contradicted"] or s["unsupported"] or s["omissions"])


RECORD_MODELS: dict[str, type[BaseModel]] = {
    "study": Study, "fact": Fact, "prediction": Prediction, "check_result": CheckResult,
}
"""Models exported as JSON Schema to data_schemas/ (name -> model)."""
