"""Guideline thresholds and lab profiles as validated data (``resources/guidelines.json``, ``profiles.json``).

Scales map a measured value to a grade by banded cut-offs; rules are single thresholds. Both carry
their guideline source. The grading functions in ``echogpt.guidelines.grading`` read everything from here.

    grade("lavi_ase2015", 38.0)  # -> "mildly_dilated"
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from echogpt.schemas import Sex, concept_vocabulary

Band = tuple[str, float | None]
SexKey = Literal["male", "female"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Scale(_Data):
    """Banded grading of one quantity: the first band whose max the rounded value does not exceed."""

    family: str = Field(description="Scales of one family are alternative schemes for one quantity")
    concept: str = Field(description="Fact concept the grades belong to (resources/concepts.json)")
    source: str = Field(description="Source key (see 'sources')")
    unit: str
    precision: int = Field(ge=0, le=3, description="Decimals the value is rounded to before grading")
    tolerance: float = Field(ge=0, description="Measurement ambiguity band, same unit as the value")
    note: str | None = None
    bands: list[Band] | None = None
    by_sex: dict[SexKey, list[Band]] | None = None

    @model_validator(mode="after")
    def _check(self) -> Scale:
        if (self.bands is None) == (self.by_sex is None):
            raise ValueError("give exactly one of 'bands' or 'by_sex'")
        tables = [self.bands] if self.bands is not None else list((self.by_sex or {}).values())
        allowed = set(concept_vocabulary().get(self.concept, {}).get("grades", [])) | {"none"}
        if self.concept not in concept_vocabulary():
            raise ValueError(f"unknown concept {self.concept!r}")
        for bands in tables:
            maxima = [m for _, m in bands]
            if not bands or maxima[-1] is not None or any(m is None for m in maxima[:-1]):
                raise ValueError("every band needs a max except the last, whose max is null")
            if any(maxima[i] >= maxima[i + 1] for i in range(len(maxima) - 2)):  # type: ignore[operator]
                raise ValueError(f"band maxima must increase: {maxima}")
            unknown = {g for g, _ in bands} - allowed
            if unknown:
                raise ValueError(f"grades {sorted(unknown)} are not grades of {self.concept}")
        return self

    def table(self, sex: Sex | str | None) -> list[Band]:
        """The bands for ``sex``; unknown sex takes the male table (the wider normal range)."""
        if self.bands is not None:
            return self.bands
        assert self.by_sex is not None
        key = str(sex.value if isinstance(sex, Sex) else sex or "male")
        return self.by_sex.get(key, self.by_sex["male"])  # type: ignore[call-overload]

    def sexes(self) -> list[str | None]:
        """The sexes that have their own table ([None] when sex-neutral)."""
        return list(self.by_sex) if self.by_sex else [None]


class Rule(_Data):
    """One threshold or constant, with its source."""

    value: float
    unit: str
    source: str
    note: str
    range: tuple[float, float] | None = None


class GuidelineTable(_Data):
    """The whole of guidelines.json."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    about: str = Field(alias="_about")
    sources: dict[str, str]
    scales: dict[str, Scale]
    rules: dict[str, Rule]

    @model_validator(mode="after")
    def _sources(self) -> GuidelineTable:
        used = {s.source for s in self.scales.values()} | {r.source for r in self.rules.values()}
        missing = used - set(self.sources)
        if missing:
            raise ValueError(f"unknown source keys {sorted(missing)}; known: {sorted(self.sources)}")
        return self


class LabProfile(_Data):
    """Which scheme a lab grades by (``resources/profiles.json``)."""

    name: str
    description: str = ""
    ef_scheme: Literal["ase2015", "simple"] = Field(
        "ase2015", description="ase2015: sex-specific LVEF (ASE15); simple: 50-70 normal for both sexes")
    as_scheme: Literal["ase2017", "acc2020"] = Field(
        "ase2017", description="Aortic stenosis: ASE/EACVI 2017 or ACC/AHA 2020 (adds very severe)")
    ms_scheme: Literal["ase2009", "acc2020"] = Field(
        "ase2009",
        description="Mitral stenosis: EAE/ASE 2009 (MVA 1.0-1.5 moderate) or ACC/AHA 2020 (severe)")
    pasp_wording: Literal["none", "descriptive-36-45-60", "descriptive-35-50-70"] = Field(
        "descriptive-36-45-60", description="Severity words for PASP; 'none' = normal/elevated only")
    rwt_formula: Literal["2pw", "sum"] = Field(
        "2pw", description="RWT as 2*LVPWd/LVIDd (ASE15) or (IVSd+LVPWd)/LVIDd")
    accept_other_schemes: bool = Field(
        True, description="acceptable_grades also accepts grades of the other published schemes")

    def scale_name(self, family: str) -> str:
        """The scale this profile grades ``family`` by."""
        chosen = {
            "lvef": "lvef_" + ("ase2015" if self.ef_scheme == "ase2015" else "simple"),
            "av_vmax": "av_vmax_" + self.as_scheme,
            "av_mean_gradient": "av_mean_gradient_" + self.as_scheme,
            "ava": "ava_" + self.as_scheme,
            "mva": "mva_" + self.ms_scheme,
            "pasp": {"none": "pasp_none", "descriptive-36-45-60": "pasp_36_45_60",
                     "descriptive-35-50-70": "pasp_35_50_70"}[self.pasp_wording],
        }
        if family in chosen:
            return chosen[family]
        names = [n for n, s in guideline_table().scales.items() if s.family == family]
        if not names:
            raise KeyError(f"no scale of family {family!r}")
        return names[0]


@cache
def guideline_table() -> GuidelineTable:
    """The validated guidelines.json (cached)."""
    text = resources.files("echogpt.resources").joinpath("guidelines.json").read_text("utf-8")
    return GuidelineTable.model_validate(json.loads(text))


@cache
def _profiles() -> dict[str, LabProfile]:
    text = resources.files("echogpt.resources").joinpath("profiles.json").read_text("utf-8")
    raw = json.loads(text)
    return {name: LabProfile.model_validate({"name": name, **body}) for name, body in raw["profiles"].items()}


def profile_names() -> list[str]:
    """Names of the lab profiles in profiles.json."""
    return sorted(_profiles())


def load_profile(name: str | LabProfile = "default") -> LabProfile:
    """The lab profile called ``name`` ("default" = ASE 2015/2016/2017 choices).

    Args:
        name: A profile name from profiles.json, or a LabProfile (returned as is).

    Returns:
        The validated profile.

    Raises:
        ValueError: for an unknown name, listing the known ones.
    """
    if isinstance(name, LabProfile):
        return name
    profiles = _profiles()
    if name not in profiles:
        raise ValueError(f"unknown lab profile {name!r}; known: {', '.join(sorted(profiles))}")
    return profiles[name]


def scale(name: str) -> Scale:
    """One scale by name (KeyError names the known scales)."""
    scales = guideline_table().scales
    if name not in scales:
        raise KeyError(f"unknown scale {name!r}; known: {', '.join(sorted(scales))}")
    return scales[name]


def rule(name: str) -> float:
    """The value of one rule threshold."""
    return guideline_table().rules[name].value


def rule_source(name: str) -> str:
    """The source key of one rule."""
    return guideline_table().rules[name].source


def round_half_up(value: float, precision: int) -> float:
    """Round as reports print numbers (5.85 -> 5.9), free of binary floating-point surprises."""
    quantum = Decimal(1).scaleb(-precision)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def grade(scale_name: str, value: float, sex: Sex | str | None = None) -> str:
    """The grade of ``value`` on a scale (value rounded to the scale's precision first).

    Args:
        scale_name: A key of guidelines.json "scales", e.g. "lvidd_ase2015".
        value: The measurement in the scale's unit.
        sex: For sex-specific scales; unknown sex takes the male table.

    Returns:
        The grade name from the concept vocabulary (or "none" for no stenosis).
    """
    s = scale(scale_name)
    v = round_half_up(value, s.precision)
    for name, upper in s.table(sex):
        if upper is None or v <= upper:
            return name
    raise AssertionError("unreachable: the last band is open")


def grades_between(scale_name: str, low: float, high: float, sex: Sex | str | None = None) -> set[str]:
    """Every grade a value in [low, high] can take on the scale (sex None: either sex's table)."""
    s = scale(scale_name)
    lo, hi = round_half_up(low, s.precision), round_half_up(high, s.precision)
    out: set[str] = set()
    sexes = s.sexes() if sex is None else [sex]
    for sx in sexes:
        previous = float("-inf")
        for name, upper in s.table(sx):
            top = float("inf") if upper is None else upper
            if hi > previous and lo <= top:
                out.add(name)
            previous = top
    return out
