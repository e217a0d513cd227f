"""The findings block of a study: valves and prostheses, 17-segment wall motion, chamber
sizes, effusion, thrombus, vegetation, mass and shunt.

    Findings.model_validate({"mitral": {"regurgitation": "3+"}, "wall_motion": {"apex": 3}})
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from echogpt.schemas.base import Strict
from echogpt.schemas.enums import (
    _DIASTOLIC,
    _FUNCTION,
    _QUALITY,
    _REGURG,
    _SIZE,
    _STENOSIS,
    _WALL,
    DiastolicGrade,
    EffusionSize,
    FunctionGrade,
    ImageQuality,
    RegurgitationGrade,
    SizeGrade,
    StenosisGrade,
    WallMotion,
    _enum_from,
)


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
