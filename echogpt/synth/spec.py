"""Data of the synthetic corpus (``resources/synthetic.json``) as validated models.

Sampling bands sit inside one guideline grade each; phenotypes list the grades they draw from and
combination phenotypes merge simple ones. Unknown keys and grades without a band are load errors.

    spec().bands["lavi"].get("mildly_dilated")   # (36.5, 40.0)
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from echogpt import units

Sex = Literal["male", "female"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BandSet(_Data):
    """Sampling bands of one quantity, each inside one guideline grade."""

    unit: str
    source: str
    grades: dict[str, tuple[float, float]] | None = None
    by_sex: dict[Sex, dict[str, tuple[float, float]]] | None = None

    def get(self, grade: str, sex: str = "male") -> tuple[float, float]:
        """The [low, high] band of ``grade`` (for ``sex`` when the bands are sex-specific)."""
        table = self.by_sex[sex] if self.by_sex else self.grades  # type: ignore[index]
        if table is None or grade not in table:
            raise KeyError(f"no band {grade!r}; known: {sorted(table or {})}")
        return table[grade]


class ValveTraits(_Data):
    """What a phenotype does to one valve (grades are drawn from the lists)."""

    stenosis: list[str] = Field(default_factory=list)
    regurgitation: list[str] = Field(default_factory=list)
    mechanism: Literal["primary", "secondary"] | None = None
    morphology: list[list[str]] = Field(default_factory=list)


class Phenotype(_Data):
    """One phenotype of resources/synthetic.json: each list is the choice of grades it draws from."""

    label: str
    weight: float = Field(gt=0)
    components: list[str] = Field(default_factory=list, description="Phenotypes merged, in order")
    overrides: dict[str, Any] = Field(default_factory=dict, description="Traits set after merging")
    age: tuple[float, float] | None = None
    lvef: list[str] = Field(default_factory=lambda: ["normal"])
    lv_size: list[str] = Field(default_factory=lambda: ["normal"])
    wall: list[str] = Field(default_factory=lambda: ["normal"])
    hcm: bool = False
    wall_motion: Literal["normal", "global", "regional"] = "normal"
    territory: list[str] = Field(default_factory=list)
    wm_grade: list[str] = Field(default_factory=lambda: ["hypokinetic"])
    diastolic: list[str] = Field(default_factory=lambda: ["normal"])
    la_size: list[str] = Field(default_factory=lambda: ["normal"])
    rv: Literal["normal", "pressure_overload"] = "normal"
    tr: list[str] = Field(default_factory=lambda: ["normal"])
    rap: list[str] = Field(default_factory=lambda: ["low"])
    aortic: ValveTraits | None = None
    mitral: ValveTraits | None = None
    tricuspid: ValveTraits | None = None
    effusion: list[str] = Field(default_factory=list)
    tamponade: bool = False
    lv_thrombus: bool = False
    vegetation: list[str] = Field(default_factory=list)
    aorta: list[str] = Field(default_factory=list)
    prosthesis: list[str] = Field(default_factory=list)
    af: float = Field(0.0, ge=0, le=1)


class Geometry(_Data):
    source: str
    rwt_cutoff: float
    lvmi_cutoff: dict[Sex, float]
    margin: float


class Territories(_Data):
    """Segment sets (17-segment numbers) a regional wall motion abnormality is drawn from."""

    source: str
    lad: list[list[int]]
    rca: list[list[int]]
    lcx: list[list[int]]


class Population(_Data):
    """Who is scanned and how the corpus varies (probabilities are per study unless noted)."""

    age: tuple[int, int]
    height_cm: dict[Sex, tuple[int, int]]
    bmi: tuple[float, float]
    follow_up_probability: float = Field(ge=0, le=1, description="Per patient: more than one study")
    max_studies_per_patient: int = Field(ge=2)
    months_between: tuple[int, int]
    first_date: date
    days_span: int = Field(gt=0)
    prose_only_probability: float = Field(ge=0, le=1, description="Structured findings left out")
    limited_quality_probability: float = Field(ge=0, le=1)
    borderline_probability: float = Field(ge=0, le=1, description="Normal study with a borderline value")
    trace_probability: float = Field(ge=0, le=1, description="Per valve: physiologic trace regurgitation")
    mild_incidental_probability: float = Field(ge=0, le=1)


class DropGroups(_Data):
    """Measurement groups left out together: name -> (probability, fields)."""

    about: str
    groups: dict[str, tuple[float, list[str]]]


class SyntheticSpec(_Data):
    """The whole of resources/synthetic.json."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    about: str = Field(alias="_about")
    bands: dict[str, BandSet]
    geometry: Geometry
    territories: Territories
    population: Population
    drop_groups: DropGroups
    phenotypes: dict[str, Phenotype]

    @model_validator(mode="after")
    def _cross_check(self) -> SyntheticSpec:
        fields = set(units.table().fields)
        for name, (_, group) in self.drop_groups.groups.items():
            unknown = set(group) - fields
            if unknown:
                raise ValueError(f"drop group {name}: unknown measurements {sorted(unknown)}")
        b = self.bands
        for key, ph in self.phenotypes.items():
            for trait, band in (("lvef", "lvef"), ("lv_size", "lvidd"), ("la_size", "lavi"),
                                ("tr", "tr_vmax"), ("rap", "rap"), ("effusion", "effusion_width")):
                table = b[band].grades or b[band].by_sex["male"]  # type: ignore[index]
                unknown = set(getattr(ph, trait)) - set(table)
                if unknown:
                    raise ValueError(f"phenotype {key}: {trait} {sorted(unknown)} has no band in {band}; "
                                     f"known: {sorted(table)}")
            if ph.wall_motion == "regional" and not set(ph.territory) <= {"lad", "rca", "lcx"}:
                raise ValueError(f"phenotype {key}: territory must be lad, rca or lcx")
        return self


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if key in ("aortic", "mitral", "tricuspid") and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


@cache
def spec() -> SyntheticSpec:
    """The validated synthetic.json with combination phenotypes resolved (cached)."""
    raw = json.loads(resources.files("echogpt.resources").joinpath("synthetic.json").read_text("utf-8"))
    table = raw["phenotypes"]
    resolved = {}
    for name, body in table.items():
        merged: dict[str, Any] = {}
        for comp in body.get("components", []):
            if comp not in table or table[comp].get("components"):
                raise ValueError(f"phenotype {name}: component {comp!r} must be a simple phenotype")
            merged = _merge(merged, {k: v for k, v in table[comp].items() if k not in ("label", "weight")})
        merged = _merge(merged, {k: v for k, v in body.items() if k not in ("components", "overrides")})
        merged = _merge(merged, body.get("overrides", {}))
        resolved[name] = merged
    raw["phenotypes"] = resolved
    return SyntheticSpec.model_validate(raw)


def phenotypes() -> dict[str, Phenotype]:
    """Phenotype key -> resolved phenotype."""
    return spec().phenotypes
