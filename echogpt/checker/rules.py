"""The prose fact-extraction rules (``resources/fact_rules.json``), validated once.

Owns the rule models (unknown keys are errors), grade resolution onto the fact vocabulary and the
checker's scales and numeric tolerances; ``lexicon.py`` compiles the rules into the token scanner.

    r = rules(); resolve_grade("valve_regurgitation", "mild", None)
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from echogpt import units
from echogpt.schemas import concept_vocabulary


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Term(_Model):
    """A word or phrase: a head (concept resolved with a subject), a measurement name or fixed facts."""

    p: list[str]
    head: str | None = None
    subject: str | None = None
    direction: str | None = None
    degree: str | None = None
    field: str | dict[str, str] | None = Field(None, description="measurement the next number belongs to "
                                               "(by the subject named before it; '': none of the rules')")
    facts: list[dict[str, Any]] = Field(default_factory=list)
    drop_ungraded: bool = Field(False, description="an ungraded mention only names a measurement")
    ignore: bool = Field(False, description="matched only to hide words from other rules")
    modifier: bool = Field(False, description="an adjective that never takes a grade (rheumatic)")


class Tolerance(_Model):
    abs: float = Field(0.0, ge=0)
    rel: float = Field(0.0, ge=0)


class Tolerances(_Model):
    about: str = Field(alias="_about")
    fields: dict[str, Tolerance]
    dimensions: dict[str, Tolerance]


class Scale(_Model):
    concepts: list[str]
    grades: dict[str, tuple[float, float]]


class Walls(_Model):
    levels: dict[str, str]
    names: dict[str, str]
    global_: list[str] = Field(alias="global")
    basal: list[str]
    mid: list[str] = Field(default_factory=list, description="the mid-ventricular ring named alone "
                           "('mid and apical segments'): segments 7-12")
    territories: dict[str, list[str]]
    segments: dict[str, list[int]]
    source: str = Field(alias="_source")


class Grades(_Model):
    degree: dict[str, list[str]]
    direction: dict[str, list[str]]
    adverb: dict[str, str]


class CueLists(_Model):
    pre: list[str]
    post: list[str]
    not_significant: list[str] = Field(default_factory=list)
    significant_after: list[str] = Field(default_factory=list, description="a grade word written after "
                                         "a negated finding that limits the negation to a significant one")
    grade_contrast: list[str] = Field(default_factory=list, description="negation cues that, between "
                                      "two grades, deny only the second ('severe, not moderate')")


class DerivedFact(_Model):
    """A fact that follows from another by a guideline rule (grade II diastolic -> elevated LAP)."""

    if_: dict[str, str] = Field(alias="if")
    min_value: float | None = Field(None, description="the 'if' fact's value must reach this")
    then: dict[str, str]
    source: str


class SupportRule(_Model):
    """A claim the study supports through what the guideline derives it from (``supported_by``)."""

    claim: dict[str, Any]
    if_: dict[str, Any] = Field(alias="if")
    unless: dict[str, Any] | None = None
    source: str


class SupportRules(_Model):
    """The clinical syntheses."""

    about: str = Field(alias="_about")
    rules: list[SupportRule]


class NotCheckedTopic(_Model):
    """Cues of a clinical topic the rules cannot verify; ``flags``: a would-be flag becomes not_checked."""

    cues: list[str]
    flags: bool = False


class NotChecked(_Model):
    """Topics outside the rules (``not_checked`` verdicts)."""

    about: str = Field(alias="_about")
    topics: dict[str, NotCheckedTopic]


class FactRules(_Model):
    """The whole rule file. Allowed keys are exactly the fields below."""

    about: str = Field(alias="_about")
    subjects: dict[str, list[str]]
    subject_expansion: dict[str, list[str]]
    subject_fields: dict[str, str]
    terms: list[Term]
    case_sensitive: dict[str, Term | dict[str, Any]]
    grades: Grades
    head_concepts: dict[str, dict[str, tuple[str, str | None]]]
    implied_heads: dict[str, list[str]]
    default_direction: dict[str, str]
    grade_aliases: dict[str, dict[str, str]]
    negation: CueLists
    hedge: CueLists
    terminators: list[str]
    separators: list[str]
    fillers: list[str]
    comparison_cues: list[str]
    tee_only_locations: list[str]
    prior_sentence_cues: list[str]
    prior_cue_exceptions: list[str]
    prior_section: str
    prior_mentioned: list[str] = Field(default_factory=list, description="words of an indication that "
                                       "say an earlier study exists ('last study 2 years ago', 'follow-up')")
    ungraded_means_abnormal: list[str]
    vena_contracta: dict[str, dict[str, float] | str] = Field(default_factory=dict, description="per valve, "
                                                              "the vena contracta (cm) below which the "
                                                              "regurgitation is mild and from which severe")
    method_limited: list[str] = Field(default_factory=list, description="words after a grade in the findings "
                                      "that limit it to one method ('mildly dilated by diameter'); where a "
                                      "structured field grades the same thing, the field's grade rules")
    bubble_study_cues: list[str]
    evidence_required: list[str]
    lenient_normal_concepts: list[str]
    walls: Walls
    scales: dict[str, Scale | str]
    tolerances: Tolerances
    normal_study_allows: dict[str, float]
    structure_only_ignores: list[str] = Field(description="function findings a 'structurally normal heart' "
                                              "says nothing about (a hyperdynamic LV)")
    derived_facts: list[DerivedFact]
    families: dict[str, list[str] | str]
    comparison_direction: dict[str, list[str]]
    direction_ef_only: list[str] = Field(description="direction words that decide only for LVEF (a decreased "
                                         "effusion is better, a decreased EF worse)")
    not_checked: NotChecked
    stress_phase_cues: dict[str, str | list[str]]
    operative_phases: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="line openings that head an operative phase of an intraoperative TEE ('Pre-bypass', "
                    "'Post-CPB'): each phase's findings are read apart")
    not_factual_cues: list[str] = Field(description="a recommendation or plan: no finding of this study")
    graded_properties: list[str] = Field(
        default_factory=list,
        description="words for a part or property no rule reads: a grade written right before one grades "
                    "that property, not the chamber or valve named before it ('Aortic valve: trileaflet, "
                    "normal opening' says nothing of regurgitation or the aorta)")
    supported_by: SupportRules
    not_describing: list[str] = Field(
        default_factory=list, description="a chamber's name that describes something else: a rhythm "
        "('atrial fibrillation'), a device or contrast in it ('lead in the RA', 'RA opacification'), a view "
        "that did not show it")
    graded_from: dict[str, list[str] | str] = Field(
        description="the measurement fields a concept's grade is derived from: findings that name one of "
                    "them speak of the concept even where the rules read no value")


@cache
def rules() -> FactRules:
    """The validated rule file (cached)."""
    text = resources.files("echogpt.resources").joinpath("fact_rules.json").read_text("utf-8")
    data = FactRules.model_validate(json.loads(text))
    vocab = concept_vocabulary()
    for head, table in data.head_concepts.items():
        for subject, (concept, _loc) in table.items():
            if concept not in vocab:
                raise ValueError(f"fact_rules.json head_concepts.{head}.{subject}: unknown concept {concept}")
    for concept in data.graded_from:
        if concept != "_about" and concept not in vocab:
            raise ValueError(f"fact_rules.json graded_from: unknown concept {concept}")
    return data


def rule_source(pattern: str) -> str:
    """A rule pattern as regex source: spaces match runs of spaces or hyphens."""
    return pattern.replace(" ", r"[\s\-]+")


def rule_regex(patterns: list[str]) -> re.Pattern[str]:
    """Rule patterns as one case-insensitive regex of whole words (spaces match spaces or hyphens)."""
    alternatives = "|".join(rule_source(x) for x in patterns)
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.I)


@cache
def family_of() -> dict[str, frozenset[str]]:
    """Concept (or "concept:location") -> the members describing the same structure (``families``)."""
    out: dict[str, frozenset[str]] = {}
    for members in rules().families.values():
        if isinstance(members, list):
            for c in members:  # "concept" or "concept:location"
                out[c] = frozenset(members)
    return out


@cache  # few keys: concepts x grade words
def resolve_grade(concept: str, degree: str | None, direction: str | None) -> str | None:
    """The vocabulary grade of ``concept`` for a degree word and/or a direction word.

    "mildly" + "dilated" on lv_size gives "mildly_dilated"; "moderate" alone on valve_regurgitation
    gives "moderate"; "mild" alone on lv_size uses the concept's default direction.
    """
    r = rules()
    allowed = concept_vocabulary()[concept]["grades"]
    if not allowed:
        return None
    aliases = r.grade_aliases.get(concept, {})
    d = aliases.get(direction, direction) if direction else None
    cands: list[str] = []
    if degree:
        adv = r.grades.adverb.get(degree, degree)
        if d:
            cands.append(f"{adv}_{d}")
        elif concept in r.default_direction:
            cands.append(f"{adv}_{r.default_direction[concept]}")
    if d:
        cands.append(d)
    if degree:
        cands.append(aliases.get(degree, degree))
    for c in cands:
        c = aliases.get(c, c)
        if c in allowed:
            return c
    return None


def tolerance(field_name: str, value: float) -> float:
    """How far a stated number may sit from the study's value (canonical unit)."""
    tol = _tolerance_of(field_name)
    return max(tol.abs, tol.rel * abs(value))


@cache  # fields are a fixed table
def _tolerance_of(field_name: str) -> Tolerance:
    t = rules().tolerances
    return t.fields.get(field_name) or t.dimensions.get(units.spec(field_name).dimension) or Tolerance()
