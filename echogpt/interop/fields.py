"""The measurements of a report as they leave EchoGPT: label, value, unit, UCUM code, the FHIR code
(LOINC where one exists) and the normal range from the guideline tables (``resources/report_fields.json``).

    rows = measurement_rows(study)   # [MeasurementRow(field="lvidd", label="LVIDd", value="5.2", ...)]
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from echogpt import units
from echogpt.guidelines import tables
from echogpt.schemas import LVEF, Sex, Study


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Normal(_Data):
    scale: str | None = None
    grade: str | None = None
    rule: str | None = None
    op: Literal["≤", "≥", "<", ">", "range"] | None = None

    @model_validator(mode="after")
    def _one(self) -> Normal:
        if (self.scale is None) == (self.rule is None) or (self.scale and not self.grade) or \
                (self.rule and not self.op):
            raise ValueError("give 'scale' with 'grade', or 'rule' with 'op'")
        return self


class FieldOut(_Data):
    code: str | None = Field(None, description="LN:… or SCT:… (None: only EchoGPT's field code)")
    display: str | None = None
    normal: Normal | None = None


class ReportFields(_Data):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    about: str = Field(alias="_about")
    ucum: dict[str, str]
    fields: dict[str, FieldOut]

    @model_validator(mode="after")
    def _complete(self) -> ReportFields:
        known = set(units.table().fields)
        given = set(self.fields)
        if given != known:
            raise ValueError(f"report_fields.json must list every measurement field; missing "
                             f"{sorted(known - given)}, unknown {sorted(given - known)}")
        missing = {s.unit for s in units.table().fields.values()} - set(self.ucum)
        if missing:
            raise ValueError(f"no UCUM code for units {sorted(missing)}")
        for name, f in self.fields.items():
            if f.normal and f.normal.scale:
                tables.scale(f.normal.scale)  # KeyError names the known scales
            if f.normal and f.normal.rule and f.normal.rule not in tables.guideline_table().rules:
                raise ValueError(f"{name}: unknown rule {f.normal.rule!r}")
        return self


@cache
def report_fields() -> ReportFields:
    """The validated table (cached)."""
    text = resources.files("echogpt.resources").joinpath("report_fields.json").read_text("utf-8")
    return ReportFields.model_validate(json.loads(text))


def ucum(field: str) -> str:
    """The UCUM code of a field's canonical unit ("mmHg" -> "mm[Hg]")."""
    return report_fields().ucum[units.spec(field).unit]


def _fmt(v: float, precision: int) -> str:
    return f"{v:.{precision}f}"


def _band_text(bands: list[tables.Band], grade: str, precision: int) -> str | None:
    names = [g for g, _ in bands]
    if grade not in names:
        return None
    i = names.index(grade)
    upper = bands[i][1]
    lower = bands[i - 1][1] if i > 0 else None
    if lower is None:
        return f"≤ {_fmt(upper, precision)}" if upper is not None else None
    lo = _fmt(lower + 10 ** -precision, precision)
    return f"{lo}–{_fmt(upper, precision)}" if upper is not None else f"≥ {lo}"


def normal_range(field: str, sex: Sex | str | None = None) -> str | None:
    """The normal range of a field as printed, with its source ("≤ 5.8 (ASE15)"), or None.

    A sex-specific scale gives the patient's range, or both ("M ≤ 5.8; F ≤ 5.2") when sex is unknown.
    """
    spec = report_fields().fields[field].normal
    if spec is None:
        return None
    if spec.rule:
        r = tables.guideline_table().rules[spec.rule]
        text = (f"{r.range[0]:g}–{r.range[1]:g}" if spec.op == "range" and r.range
                else f"{spec.op} {r.value:g}")
        return f"{text} ({r.source})"
    scale = tables.scale(spec.scale or "")
    sex = str(sex.value if isinstance(sex, Sex) else sex) if sex else None
    if scale.by_sex and sex not in scale.by_sex:
        parts = [f"{s[0].upper()} {_band_text(b, spec.grade or '', scale.precision)}"
                 for s, b in scale.by_sex.items()]
        return "; ".join(parts) + f" ({scale.source})"
    text = _band_text(scale.table(sex), spec.grade or "", scale.precision)
    return f"{text} ({scale.source})" if text else None


_DECIMALS = {"cm": 1, "m/s": 1, "cm2": 1, "": 2}
"""Decimals a value is printed with at least, by unit (1.0 cm, not 1 cm)."""


def show(value: float, unit: str) -> str:
    """A value as a report prints it: the unit's decimals, or the value's own when it has more."""
    own = len(f"{value:g}".split(".")[1]) if "." in f"{value:g}" else 0
    return f"{value:.{min(max(own, _DECIMALS.get(unit, 0)), 3)}f}"


class MeasurementLine(BaseModel):
    """One measurement as a report shows it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    field: str
    label: str
    value: float | None = Field(description="The number (LVEF: the midpoint of a range)")
    low: float | None = None
    high: float | None = None
    text: str = Field(description="The value as printed (LVEF '55-60 %' or 'normal')")
    unit: str
    method: str | None = None
    normal: str | None = None


def measurement_rows(study: Study) -> list[MeasurementLine]:
    """The study's measurements in table order (``resources/measurements.json``)."""
    if study.measurements is None:
        return []
    out = []
    for field, spec in units.table().fields.items():
        value = getattr(study.measurements, field, None)
        if value is None:
            continue
        normal = normal_range(field, study.sex)
        if isinstance(value, LVEF):
            out.append(MeasurementLine(field=field, label=spec.label, value=value.value, low=value.low,
                                       high=value.high, text=value.text().replace(" %", ""), unit=spec.unit,
                                       method=value.method, normal=normal))
        else:
            out.append(MeasurementLine(field=field, label=spec.label, value=float(value),
                                       text=show(value, spec.unit), unit=spec.unit, normal=normal))
    return out
