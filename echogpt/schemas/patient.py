"""The patient block of a study: age, sex, height, weight and BSA (Mosteller unless given),
with units converted on the way in and implausible values rejected.

    Patient.model_validate({"sex": "F", "height_cm": "1.62 m", "weight_kg": "130 lb"})
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from echogpt import units
from echogpt.schemas.base import Strict
from echogpt.schemas.enums import _SEX, Sex, _enum_from


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
