"""The hallucination check: every statement of an impression against the study it came from.

Each statement gets a verdict (supported, contradicted, unsupported, not_factual) and a reason;
critical findings present in the study and absent from the impression are reported as omissions
(rules in ``resources/critical_findings.json``).

    result = check("1. Severe AS.\\n2. No pericardial effusion.", study)
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from echogpt.fact_rules import rules
from echogpt.facts import extract_facts, mentions_comparison
from echogpt.schemas import CheckResult, Fact, Omission, StatementCheck, Study, StudyType
from echogpt.study_facts import (
    Status,
    StudyFacts,
    abnormal,
    compare,
    is_normal_claim,
    locations_compatible,
    study_facts,
)
from echogpt.text import split_statements


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


def _hits(rule: CriticalRule, fact: Fact, accepted: frozenset[str] = frozenset()) -> bool:
    if fact.concept == "measurement":
        for v in rule.values:
            if fact.location != v.field or fact.value is None:
                continue
            hi = fact.value_max if fact.value_max is not None else fact.value
            if (v.below is not None and hi < v.below) or (v.above is not None and fact.value > v.above):
                return True
        return False
    if fact.concept != rule.concept or fact.polarity == "absent":
        return False
    if rule.grades and fact.grade not in rule.grades:
        return False
    return not rule.locations or (fact.location or "heart") in rule.locations


def rule_id(rule: CriticalRule, location: str | None) -> str:
    """The finding's id ("severe_aortic_stenosis" from "severe_{location}_stenosis")."""
    return rule.id.replace("{location}", location or "valve")


def omissions(study_f: StudyFacts, stated: list[Fact]) -> list[Omission]:
    """Critical findings present in the study that no statement states at their grade.

    Args:
        study_f: The study's facts.
        stated: All facts of the impression.

    Returns:
        One Omission per missing finding (per location for located findings).
    """
    out: dict[str, Omission] = {}
    for rule in critical_rules().rules:
        for e in study_f.evidence:
            f = e.fact
            if e.origin == "prior" or not _hits(rule, f) or f.polarity == "uncertain":
                continue
            loc = f.location if f.concept != "measurement" else None
            key = rule_id(rule, loc)
            if key in out:
                continue
            said = any(_hits(rule, s) and (loc is None or locations_compatible(rule.concept, s.location, loc))
                       for s in stated if s.polarity != "absent")
            if not said:
                label = rule.label.replace("{location}", loc or "valve")
                out[key] = Omission(finding=label, severity=rule.severity, evidence=e.where())
    return list(out.values())


def _judge(claim: Fact, study: Study, sf: StudyFacts, comparison: bool) -> tuple[Status, str]:
    r = rules()
    if claim.concept in ("image_quality",):
        return "supported", "technical statement"
    if claim.concept == "normal_study":
        bad = [e for e in sf.evidence if e.origin != "prior" and abnormal(e)]
        if bad and claim.polarity != "absent":
            f = bad[0].fact
            return "contradicted", f"the study reports {(f.grade or '').replace('_', ' ')} " \
                                   f"{f.concept.replace('_', ' ')}".replace("  ", " ")
        return "supported", "no abnormal finding in the study"
    found = sf.about(claim.concept, claim.location)
    if claim.concept == "wall_motion" and claim.location is None and claim.polarity == "absent":
        # "No regional wall motion abnormality" is not contradicted by global hypokinesis
        global_grades = {e.fact.grade for e in found if e.fact.location == "global"}
        found = [e for e in found if e.fact.location != "global" and e.fact.grade not in global_grades]
    if comparison:
        found = found + [e for e in sf.evidence if e.origin == "prior" and e.fact.concept == claim.concept
                         and locations_compatible(claim.concept, claim.location, e.fact.location)]
    if claim.concept == "measurement":
        if not found:
            return "unsupported", f"the study gives no {claim.location} value"
        results = [compare(claim, e) for e in found]
        ok = [x for x in results if x[0] == "supported"]
        return ok[0] if ok else results[0]
    if (claim.location in r.tee_only_locations and study.study_type == StudyType.TTE
            and not any(e.fact.location in r.tee_only_locations for e in found)):
        return "unsupported", f"{claim.location.upper()} findings need a TEE; this is a TTE"
    if not found:
        if claim.concept in r.evidence_required:
            return "unsupported", f"the study has no {claim.concept} assessment (e.g. no bubble study)"
        others = [e for e in sf.by_concept.get(claim.concept, []) if e.fact.polarity == "present"]
        if is_normal_claim(claim) and claim.concept in r.lenient_normal_concepts:
            return "supported", "nothing in the study contradicts it"
        if others and claim.location:
            where = others[0].fact.location or "another site"
            return "unsupported", f"the study reports this at {where.replace('_', ' ')}, not " \
                                  f"{claim.location.replace('_', ' ')}"
        return "unsupported", "nothing in the study states it"
    results = [(compare(claim, e), e) for e in found]
    if is_normal_claim(claim):
        bad = [(x, e) for x, e in results if x[0] != "supported"]
        if bad:
            (status, reason), e = bad[0]
            return status, f"{reason} [{e.where()}]"
        return "supported", f"{results[0][0][1]} [{results[0][1].where()}]"
    ok = [(x, e) for x, e in results if x[0] == "supported"]
    if ok:
        (status, reason), e = ok[0]
        return status, f"{reason} [{e.where()}]"
    order = {"contradicted": 0, "unsupported": 1}
    (status, reason), e = sorted(results, key=lambda x: order.get(x[0][0], 2))[0]
    return status, f"{reason} [{e.where()}]"


def check_statement(text: str, start: int, study: Study, sf: StudyFacts) -> StatementCheck:
    """The verdict on one statement (``start`` is its offset in the impression)."""
    facts = extract_facts(text, offset=start)
    comparison = mentions_comparison(text)
    if comparison and study.prior is None:
        return StatementCheck(text=text, start=start, end=start + len(text), verdict="unsupported",
                              reason="compares with a prior study, but the study has no prior", facts=facts)
    clinical = [f for f in facts if f.concept != "image_quality"]
    if not clinical:
        return StatementCheck(text=text, start=start, end=start + len(text), verdict="not_factual",
                              reason="states no clinical fact", facts=facts)
    worst: tuple[Status, str] | None = None
    rank = {"contradicted": 0, "unsupported": 1, "supported": 2}
    for f in clinical:
        status, reason = _judge(f, study, sf, comparison)
        if worst is None or rank[status] < rank[worst[0]]:
            worst = (status, reason)
    assert worst is not None
    return StatementCheck(text=text, start=start, end=start + len(text), verdict=worst[0],
                          reason=worst[1], facts=facts)


def check(impression: str, study: Study, profile: str = "default") -> CheckResult:
    """Check every statement of an impression against its study.

    Args:
        impression: The impression text (numbered, bulleted or plain sentences).
        study: The study it was written from.
        profile: Lab profile (which guideline schemes and tolerances are accepted).

    Returns:
        The CheckResult: one StatementCheck per statement plus the critical omissions.
    """
    sf = study_facts(study, profile)
    statements = [check_statement(s.text, s.start, study, sf) for s in split_statements(impression)]
    stated = [f for s in statements for f in s.facts]
    return CheckResult(study_id=study.study_id, statements=statements, omissions=omissions(sf, stated))
