"""Measurement units: canonical units, conversion and plausibility of each measurement field.

The table lives in ``resources/measurements.json``; a value with an explicit unit is converted
to the field's canonical unit, a bare number outside the plausible range is rejected with a hint.

    >>> parse_measurement("lvidd", "52 mm")
    5.2
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError


class FieldSpec(BaseModel):
    """One measurement field: label, canonical unit, dimension and plausible adult range."""

    model_config = ConfigDict(extra="forbid")
    label: str
    unit: str
    dimension: str
    min: float
    max: float
    description: str


class MeasurementTable(BaseModel):
    """The whole measurement table, as loaded from resources."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    about: str = Field(alias="_about")
    units: dict[str, dict[str, float]]
    fields: dict[str, FieldSpec]


@cache
def table() -> MeasurementTable:
    """The validated measurement table (cached)."""
    text = resources.files("echogpt.resources").joinpath("measurements.json").read_text("utf-8")
    tbl = MeasurementTable.model_validate(json.loads(text))
    for name, spec in tbl.fields.items():
        if spec.dimension not in tbl.units:
            raise ValueError(f"measurement {name}: unknown dimension {spec.dimension!r}")
    return tbl


def spec(field: str) -> FieldSpec:
    """The spec of one measurement field (KeyError for an unknown field)."""
    return table().fields[field]


_UNIT_ALIASES = {
    "cm²": "cm2", "cm^2": "cm2", "sq cm": "cm2", "sq. cm": "cm2", "sqcm": "cm2", "cm square": "cm2",
    "mm²": "mm2", "mm^2": "mm2", "ml": "ml", "mls": "ml", "cc": "cc", "l": "l",
    "ml/m²": "ml/m2", "ml/m^2": "ml/m2", "ml/m2": "ml/m2", "g/m²": "g/m2", "g/m^2": "g/m2",
    "mm hg": "mmhg", "mmhg": "mmhg", "m/sec": "m/s", "cm/sec": "cm/s", "msec": "ms",
    "sec": "s", "percent": "%", "pct": "%", "beats/min": "bpm", "/min": "/min",
}

_NUM_UNIT = re.compile(r"^\s*([-+]?\d+(?:[.,]\d+)?)\s*([^\d\s].*?)?\s*$")


def normalise_unit(unit: str) -> str:
    """Lower-case a unit and map its spelling variants onto the table's spelling."""
    u = unit.strip().lower().replace("µ", "u")
    return _UNIT_ALIASES.get(u, u)


def split_value_unit(raw: Any) -> tuple[float, str | None]:
    """Read a number and an optional unit from a number, "52 mm" or {"value": 52, "unit": "mm"}.

    Raises:
        PydanticCustomError: ``not_a_number`` when no number can be read.
    """
    if isinstance(raw, bool):
        raise PydanticCustomError("not_a_number", "expected a number, got '{value}'", {"value": raw})
    if isinstance(raw, int | float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise PydanticCustomError("not_a_number", "expected a finite number, got {value}",
                                      {"value": raw})
        return float(raw), None
    if isinstance(raw, dict) and "value" in raw:
        extra = sorted(str(k) for k in raw if k not in ("value", "unit"))
        if extra:
            raise PydanticCustomError("unknown_key", "a measurement takes only 'value' and 'unit', "
                                      "not {keys}", {"keys": ", ".join(extra)})
        given = raw.get("unit")
        if given is not None and not isinstance(given, str):
            raise PydanticCustomError("unknown_unit", "a unit is text such as 'mm', got '{value}'",
                                      {"value": given})
        value, unit = split_value_unit(raw["value"])
        return value, given or unit
    if isinstance(raw, str):
        m = _NUM_UNIT.match(raw)
        if m:
            return float(m.group(1).replace(",", ".")), (m.group(2) or None)
    raise PydanticCustomError("not_a_number", "expected a number with an optional unit, got '{value}'",
                              {"value": raw})


# A value indexed to body size: "LVESD index 1.9 cm/m2", "LA volume (indexed) 34 mL/m²".
_INDEXED = re.compile(r"\bindex(?:ed)?\b|\bper\s+(?:m2|m²|bsa)\b|/\s*(?:m2|m²|m\^2|bsa)(?![a-z0-9])",
                      re.IGNORECASE)


def indexed_for_raw(field: str, text: str) -> bool:
    """Whether ``text`` (from a measurement's name to just past its value) gives a value indexed to
    body size while ``field`` holds the raw one: "LVESD index 1.9 cm/m2" is no LVESD."""
    return not (spec(field).unit or "").endswith("/m2") and bool(_INDEXED.search(text))


def convert(field: str, value: float, unit: str | None) -> float:
    """Convert ``value`` in ``unit`` to the canonical unit of ``field``.

    Raises:
        PydanticCustomError: ``unknown_unit`` when the unit does not fit the field's dimension.
    """
    s = spec(field)
    if unit is None:
        return value
    factors = table().units[s.dimension]
    key = normalise_unit(unit)
    if key not in factors:
        raise PydanticCustomError(
            "unknown_unit", "{label}: unit '{unit}' does not fit this field (use one of {allowed})",
            {"label": s.label, "unit": unit, "allowed": ", ".join(k or "no unit" for k in factors)})
    return round(value * factors[key], 6)


def check_range(field: str, value: float, had_unit: bool) -> float:
    """Reject a value outside the plausible range, guessing the unit a bare number was in.

    Raises:
        PydanticCustomError: ``implausible_value`` carrying field, value, unit, min and max.
    """
    s = spec(field)
    if s.min <= value <= s.max:
        return value
    hint = ""
    if not had_unit:
        canonical = normalise_unit(s.unit)
        for alt, factor in table().units[s.dimension].items():
            if alt != canonical and s.min <= value * factor <= s.max:
                hint = f" {s.label} {value:g} looks like {alt}; the field is in {s.unit}."
                break
    raise PydanticCustomError(
        "implausible_value",
        "{label} {value} {unit} is outside the plausible range {min}-{max} {unit}.{hint}",
        {"field": field, "label": s.label, "value": value, "unit": s.unit, "min": s.min,
         "max": s.max, "hint": hint},
    )


def parse_measurement(field: str, raw: Any) -> float | None:
    """Parse, convert and range-check one raw measurement value (None and "" stay None)."""
    if raw is None or (isinstance(raw, str) and raw.strip() in {"", "-", "na", "n/a", "NA", "N/A"}):
        return None
    value, unit = split_value_unit(raw)
    value = convert(field, value, unit)
    return check_range(field, value, had_unit=unit is not None)
