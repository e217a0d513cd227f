"""The measurements block of a study: LVEF (a number, a range or a category) and every
measurement in its canonical unit (``resources/measurements.json``); values with units
are converted on the way in, implausible bare numbers are rejected with a hint.

    Measurements.model_validate({"lvef": "55-60", "lvidd": "52 mm"})
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from echogpt import units
from echogpt.schemas.base import Strict
from echogpt.schemas.enums import _EF, EFCategory, _enum_from

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
