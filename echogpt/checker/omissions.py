"""The critical findings (``resources/critical_findings.json``, echo_reference.md section 6): which
ones a study shows, whether an impression fact states one, and the omissions of an impression.

    for key, rule, location, evidence in critical_present(study_facts(study)): ...
    missing = omissions(study_facts(study), impression_facts)  # [Omission(finding, severity, evidence)]
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from echogpt.checker.compare import Evidence
from echogpt.checker.study_facts import StudyFacts
from echogpt.schemas import Fact, Omission


class ValueTrigger(BaseModel):
    """A measurement cut that makes (or states) a critical finding."""

    model_config = ConfigDict(extra="forbid")
    field: str
    below: float | None = None
    above: float | None = None


class CriticalRule(BaseModel):
    """One critical finding (echo_reference.md section 6)."""

    model_config = ConfigDict(extra="forbid")
    id: str
    label: str
    concept: str
    grades: list[str] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)
    values: list[ValueTrigger] = Field(default_factory=list)
    severity: Literal["critical", "high", "moderate"]
    stated_by: list[dict[str, Any]] = Field(default_factory=list)
    source: str


class CriticalRules(BaseModel):
    """The critical findings file."""

    model_config = ConfigDict(extra="forbid")
    about: str = Field(alias="_about")
    rules: list[CriticalRule]


@cache
def critical_rules() -> CriticalRules:
    """The validated critical-finding rules (cached)."""
    text = resources.files("echogpt.resources").joinpath("critical_findings.json").read_text("utf-8")
    return CriticalRules.model_validate(json.loads(text))


def _hits(rule: CriticalRule, fact: Fact) -> bool:
    """Whether a fact makes the critical finding present (grades, locations or a measured cut)."""
    if fact.concept == "measurement":
        for v in rule.values:
            if fact.location != v.field or fact.value is None:
                continue
            hi = fact.value_max if fact.value_max is not None else fact.value
            if (v.below is not None and hi < v.below) or (v.above is not None and fact.value > v.above):
                return True
        return False
    if fact.concept != rule.concept or fact.polarity == "absent" or (rule.values and not rule.grades):
        return False
    if rule.grades and fact.grade not in rule.grades:
        return False
    return not rule.locations or (fact.location or "heart") in rule.locations


def states_finding(rule: CriticalRule, fact: Fact) -> bool:
    """Whether an impression fact states a critical finding.

    Args:
        rule: The critical finding.
        fact: A fact of the impression.

    Returns:
        True when the fact asserts the finding at one of its grades (a wrong site still states it:
        that error is the statement's, not an omission).
    """
    if fact.polarity == "absent":
        return False
    if _hits(rule, fact):
        return True
    extra = [s for s in rule.stated_by if s.get("concept") == fact.concept]
    if any(not s.get("grades") or fact.grade in s["grades"] for s in extra):
        return True
    return fact.concept == rule.concept and (not rule.grades or fact.grade in rule.grades)


def says_finding(rule: CriticalRule, evidence: Evidence, fact: Fact) -> bool:
    """Whether an impression fact says a critical finding the study shows by ``evidence``: it states
    the finding (``states_finding``), or a grade the lab profile accepts for it (MVA 1.0-1.5: moderate
    or severe)."""
    return states_finding(rule, fact) or (fact.concept == evidence.fact.concept and fact.polarity != "absent"
                                           and fact.grade is not None and fact.grade in evidence.accepted)


def rule_id(rule: CriticalRule, location: str | None) -> str:
    """The finding's id ("severe_aortic_stenosis" from "severe_{location}_stenosis")."""
    return rule.id.replace("{location}", location or "valve")


@cache
def _rule_fields() -> tuple[tuple[CriticalRule, tuple[str, ...]], ...]:
    """Each critical rule with the measurement fields that can trigger it."""
    return tuple((r, tuple(dict.fromkeys(v.field for v in r.values))) for r in critical_rules().rules)


def critical_present(study_f: StudyFacts) -> list[tuple[str, CriticalRule, str | None, Evidence]]:
    """The critical findings present in a study: (id, rule, location, first evidence).

    A valve the study describes as a prosthesis gets no stenosis grade from the native-valve
    cut-offs on its gradient (ASE 2009 prosthetic valves, Zoghbi 2009: a mean gradient of 11 mmHg
    across a mitral prosthesis is no 'severe mitral stenosis' the impression must name)."""
    out, seen = [], set()
    prosthetic = {e.fact.location for e in study_f.by_concept.get("prosthetic_valve", ())
                  if e.origin != "prior" and e.fact.polarity == "present"}
    measured: dict[str | None, list[Evidence]] = {}
    for e in study_f.by_concept.get("measurement", ()):
        measured.setdefault(e.fact.location, []).append(e)
    for rule, fields in _rule_fields():
        candidates = study_f.by_concept.get(rule.concept, [])
        if len(fields) == 1:
            candidates = candidates + measured.get(fields[0], [])
        elif fields:
            candidates = candidates + [e for e in study_f.by_concept.get("measurement", ())
                                       if e.fact.location in fields]
        for e in candidates:
            f = e.fact
            if e.origin == "prior" or f.polarity == "uncertain" or not _hits(rule, f):
                continue
            if f.concept == "valve_stenosis" and f.location in prosthetic:
                continue  # a replaced valve has no native stenosis: its gradient (ASE 2009) or the
                # stenosis it was replaced for ("TAVI for severe AS") is no omission
            loc = f.location if f.concept != "measurement" else None
            key = rule_id(rule, loc)
            if key not in seen:
                seen.add(key)
                out.append((key, rule, loc, e))
    return out


def omissions(study_f: StudyFacts, stated: list[Fact]) -> list[Omission]:
    """Critical findings present in the study that no statement states at their grade.

    Args:
        study_f: The study's facts.
        stated: All facts of the impression.

    Returns:
        One Omission per missing finding (per location for located findings).
    """
    out: dict[str, Omission] = {}
    for key, rule, loc, e in critical_present(study_f):
        said = any(says_finding(rule, e, s) for s in stated)
        if key not in out and not said:
            label = rule.label.replace("{location}", loc or "valve")
            out[key] = Omission(finding=label, severity=rule.severity, evidence=e.where())
    return list(out.values())
