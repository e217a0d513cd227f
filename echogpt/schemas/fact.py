"""The one Fact type, made by the guideline engine from measurements and by the extractor from
prose, and the vocabulary (``resources/concepts.json``) its concepts, grades and locations
are checked against.

    Fact(concept="lv_systolic_function", grade="severely_reduced", source="text")
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from echogpt.schemas.base import Strict


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
