"""The DICOM SR code table (``resources/dicom_sr.json``): which coded echo measurement fills which
Study field, in which unit, by which method rank, with its source. Pure data; no pydicom here.

    row = match("LN:29436-3", {"finding_site": "SCT:87878005"})   # -> the LVIDd row
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from echogpt import units

Constraint = str | list[str] | None


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MeasurementRow(_Data):
    """One coded measurement and the Study field it fills."""

    code: str = Field(description="SCHEME:VALUE of the concept name (or the post-coordinated property)")
    meaning: str
    field: str = Field(description="A Study measurement field (resources/measurements.json)")
    unit: str = Field(description="UCUM unit the code is usually sent in")
    site: Constraint = Field(None, description="Finding site(s) the row needs")
    phase: Constraint = Field(None, description="Cardiac cycle point(s) the row needs")
    flow: Constraint = Field(None, description="Flow direction(s) the row needs")
    rank: int = Field(ge=1, le=9, description="1 = the preferred method among alternatives")
    method: str | None = Field(None, description="The method the code itself names")
    source: str = Field(description="Key of 'sources'")
    rank_source: str = Field("ASE15", description="Key of 'sources' that orders the methods")

    @field_validator("field")
    @classmethod
    def _known_field(cls, v: str) -> str:
        if v not in units.table().fields:
            raise ValueError(f"unknown measurement field {v!r}")
        return v

    def constraints(self) -> dict[str, list[str]]:
        """The modifiers this row needs: role -> accepted codes."""
        out = {}
        for role, want in (("finding_site", self.site), ("phase", self.phase), ("flow", self.flow)):
            if want is not None:
                out[role] = [want] if isinstance(want, str) else want
        return out


class Method(_Data):
    label: str
    rank: int = Field(ge=1, le=9)
    source: str


class Documents(_Data):
    roots: list[str]
    templates: list[str]
    containers: dict[str, Literal["pre-coordinated", "post-coordinated", "adhoc"]]
    finding: str
    impression: str
    tee: list[str]


class SRTable(_Data):
    """The whole of dicom_sr.json."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    about: str = Field(alias="_about")
    sources: dict[str, str]
    srt: dict[str, str]
    roles: dict[Literal["finding_site", "method", "image_mode", "phase", "flow", "derivation",
                        "selection", "property", "label"], str]
    documents: Documents
    patient: dict[Literal["age", "sex", "height_cm", "weight_kg", "bsa_m2"], str]
    mean: list[str]
    ucum: dict[str, str]
    methods: dict[str, Method]
    measurements: list[MeasurementRow]

    @model_validator(mode="after")
    def _sources(self) -> SRTable:
        used = {r.source for r in self.measurements} | {r.rank_source for r in self.measurements}
        used |= {m.source for m in self.methods.values()}
        missing = used - set(self.sources)
        if missing:
            raise ValueError(f"unknown source keys {sorted(missing)}; known: {sorted(self.sources)}")
        return self


@cache
def sr_table() -> SRTable:
    """The validated SR code table (cached)."""
    text = resources.files("echogpt.resources").joinpath("dicom_sr.json").read_text("utf-8")
    return SRTable.model_validate(json.loads(text))


def code_key(scheme: str, value: str) -> str:
    """``SCHEME:VALUE`` with legacy SNOMED-RT translated to SNOMED CT (PS3.16 Annex O)."""
    scheme, value = scheme.strip().upper(), value.strip()
    if scheme in ("SRT", "SNM3"):
        translated = sr_table().srt.get(value)
        if translated:
            return f"SCT:{translated}"
    return f"{scheme}:{value}"


@cache
def _by_code() -> dict[str, list[MeasurementRow]]:
    out: dict[str, list[MeasurementRow]] = {}
    for row in sr_table().measurements:
        out.setdefault(row.code, []).append(row)
    return out


def match(code: str, modifiers: dict[str, str]) -> MeasurementRow | None:
    """The most specific row for a measurement code and its modifiers, or None (an unknown code).

    Args:
        code: ``SCHEME:VALUE`` of the item's concept name (or post-coordinated Measured Property).
        modifiers: role -> ``SCHEME:VALUE`` of the item's finding site, phase, flow and so on.

    Returns:
        The row all of whose constraints the modifiers meet, the one with most constraints first.
    """
    best, best_n = None, -1
    for row in _by_code().get(code, []):
        need = row.constraints()
        if all(modifiers.get(role) in codes for role, codes in need.items()) and len(need) > best_n:
            best, best_n = row, len(need)
    return best


def known_code(code: str) -> bool:
    """True when some row uses ``code`` (so a failed match is a missing modifier, not a new code)."""
    return code in _by_code()
