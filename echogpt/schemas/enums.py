"""The enumerations of the records and the synonym tables that read a lab's words into them
("1+" -> mild, "afib" -> atrial-fibrillation); ``_enum_from`` does the reading.

    _enum_from(RegurgitationGrade, _REGURG, "2+", "regurgitation grade")  # moderate
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic_core import PydanticCustomError


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
