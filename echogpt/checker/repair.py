"""What the guard may change without the model, and what it asks of the model's text: a
contradicted statement whose conflict is one value or grade, set to the study's own; for a critical
finding an impression omits, the words that open a statement about it and the template's sentence
for it; what a statement is about (its subjects) and the template's sentence about a subject; the
numbers of a statement that no value of the study backs.

    fixed = repair_statement("Moderate aortic stenosis.", study, study_facts(study))
    for gap in missing_findings(impression, study): print(gap.opening, gap.template_sentence)
    unbacked_numbers("Severe pulmonary hypertension (peak velocity 102 mmHg).", sf)  # ["102 mmHg"]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from echogpt.checker.check import check_statement
from echogpt.checker.compare import abnormal, compare, locations_compatible
from echogpt.checker.facts import bound_numbers, extract_facts
from echogpt.checker.judge import judge_claim
from echogpt.checker.omissions import CriticalRule, critical_present, omissions, states_finding
from echogpt.checker.study_facts import StudyFacts, study_facts
from echogpt.checker.subjects import Subject
from echogpt.schemas import Fact, Study
from echogpt.text import split_statements

PASSING = frozenset({"supported", "not_factual", "not_checked"})
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:\s*[-–]\s*\d+(?:\.\d+)?)?")


@dataclass(frozen=True)
class Repair:
    """A statement with one value or grade set to the study's, and what changed."""

    text: str
    claimed: str  # the words replaced ("moderate", "35")
    study_says: str  # what the study states instead ("severe", "55")
    evidence: str  # where the study says it (a field path or quoted findings text)


def _number(value: float, value_max: float | None) -> str:
    return f"{value:g}" if value_max is None or value_max == value else f"{value:g}-{value_max:g}"


def _replacement(claim: Fact, text: str, study_f: StudyFacts) -> Repair | None:
    """The statement with ``claim``'s value or grade replaced by the first contradicting evidence's."""
    if claim.start is None or claim.end is None:
        return None
    span = text[claim.start : claim.end]
    for e in study_f.about(claim.concept, claim.location):
        if e.origin == "prior" or compare(claim, e)[0] != "contradicted":
            continue
        f = e.fact
        if claim.concept == "measurement" and f.value is not None:
            m = _NUMBER.search(span)
            if m is None:
                return None
            new, old = _number(f.value, f.value_max), m.group()
        elif claim.grade and f.grade and claim.polarity == f.polarity == "present":
            m = re.search(re.escape(claim.grade.replace("_", " ")), span, re.IGNORECASE)
            if m is None:
                return None
            old, new = m.group(), f.grade.replace("_", " ")
            new = new[0].upper() + new[1:] if old[0].isupper() else new
        else:
            continue
        at = claim.start + m.start()
        return Repair(text[:at] + new + text[at + len(old) :], old, new, e.where())
    return None


def repair_statement(text: str, study: Study, study_f: StudyFacts | None = None) -> Repair | None:
    """Set a contradicted statement's one disagreeing value or grade to the study's own.

    "Moderate aortic stenosis." on a study that grades it severe becomes "Severe aortic stenosis.".
    Only a statement with exactly one contradicted fact, a number or a grade the study states
    otherwise, is repaired, and only when the repaired statement passes the check.

    Args:
        text: The statement.
        study: The study.
        study_f: Its facts (computed when not given).

    Returns:
        The Repair, or None when the conflict is not one value or grade or the repair still fails.
    """
    sf = study_f or study_facts(study)
    clinical = [f for f in extract_facts(text) if f.concept != "image_quality"]
    wrong = [f for f in clinical if judge_claim(f, study, sf)[0] == "contradicted"]
    if len(wrong) != 1:
        return None
    fixed = _replacement(wrong[0], text, sf)
    if fixed is None or check_statement(fixed.text, 0, study, sf).verdict not in PASSING:
        return None
    return fixed


@dataclass(frozen=True)
class MissingFinding:
    """A critical finding of the study that an impression does not state."""

    finding: str  # the omission's label ("severe aortic stenosis")
    severity: str
    rule: CriticalRule
    location: str | None
    opening: str  # words to start a statement about it ("Severe aortic stenosis")
    template_sentence: str  # the template impression's statement of it (or the label as a sentence)


def _template_sentence(rule: CriticalRule, template: str, label: str) -> str:
    for s in split_statements(template):
        if any(states_finding(rule, f) for f in extract_facts(s.text)):
            return s.text
    return label[0].upper() + label[1:] + "."


def missing_findings(
    impression: str,
    study: Study,
    severities: tuple[str, ...] = ("critical", "high"),
    study_f: StudyFacts | None = None,
) -> list[MissingFinding]:
    """The critical findings (of the given severities) that ``impression`` omits, with what to add.

    Args:
        impression: The impression text.
        study: The study.
        severities: Which omissions count.
        study_f: The study's facts (computed when not given).

    Returns:
        One MissingFinding per omission, in the checker's order.
    """
    from echogpt.guidelines.template import template_impression

    sf = study_f or study_facts(study)
    stated = [f for s in split_statements(impression) for f in extract_facts(s.text)]
    wanted = {o.finding for o in omissions(sf, stated) if o.severity in severities}
    out, template = [], None
    for _, rule, loc, _ in critical_present(sf):
        label = rule.label.replace("{location}", loc or "valve")
        if label not in wanted or any(m.finding == label for m in out):
            continue
        template = template if template is not None else template_impression(study)
        opening = label[0].upper() + label[1:] if not label[:2].isupper() else label
        out.append(
            MissingFinding(
                label, rule.severity, rule, loc, opening, _template_sentence(rule, template, label)
            )
        )
    return out


_ABOUT_ALL = ("image_quality", "normal_study")  # about the whole study, no one structure


def statement_subjects(text: str, sf: StudyFacts) -> set[Subject]:
    """What a statement is about: the (concept, location) of each of its clinical facts; a measured
    value is also about what the study grades from that measurement ("LVEF 45%." is about the LVEF
    and LV systolic function).

    Args:
        text: The statement.
        sf: The study's facts.

    Returns:
        The subjects (empty for a statement of no clinical fact or about the whole study).
    """
    out: set[Subject] = set()
    for f in extract_facts(text):
        if f.concept in _ABOUT_ALL:
            continue
        out.add((f.concept, f.location))
        if f.concept == "measurement":
            source = f"measurements.{f.location}"
            out |= {(e.fact.concept, e.fact.location) for e in sf.evidence
                    if e.fact.source == source and e.fact.concept != "measurement"}
    return out


def same_subject(a: set[Subject], b: set[Subject]) -> bool:
    """Whether two sets of subjects share one (same concept, compatible locations; None: any)."""
    return any(ca == cb and locations_compatible(ca, la, lb) for ca, la in a for cb, lb in b)


def template_sentence_about(study: Study, subjects: set[Subject], sf: StudyFacts) -> str | None:
    """The template impression's statement about one of ``subjects``, when the study has a finding
    about them ("Dilated right ventricle with reduced right ventricular systolic function." for a
    failed "Normal RV size and function." on a study with a dilated RV).

    Args:
        study: The study.
        subjects: What the statement to replace was about.
        sf: The study's facts.

    Returns:
        The template's first statement about a subject that passes the check; None when the study
        has no abnormal finding about them or the template says nothing of them.
    """
    from echogpt.guidelines.template import template_impression

    found = [e for e in sf.evidence if e.origin != "prior" and abnormal(e)
             and same_subject({(e.fact.concept, e.fact.location)}, subjects)]
    if not found:
        return None
    for s in split_statements(template_impression(study)):
        if (same_subject(statement_subjects(s.text, sf), subjects)
                and check_statement(s.text, 0, study, sf).verdict in PASSING):
            return s.text
    return None


def unbacked_numbers(text: str, sf: StudyFacts) -> list[str]:
    """The numbers of a statement that no value of the study backs: no fact took them
    ("peak velocity 102 mmHg": mmHg is no velocity), or the fact that took one (a measurement, a
    lesion's size) agrees with no value the study gives for it (a vegetation sized in the statement,
    none in the study).

    Args:
        text: The statement.
        sf: The study's facts.

    Returns:
        The numbers as written, in text order (empty when every number is backed).
    """
    return [raw for raw, f in bound_numbers(text) if f is None or not _backed(f, sf)]


def _backed(claim: Fact, sf: StudyFacts) -> bool:
    """Whether a value of the study, or of its prior study as in the check ("LVEF 35% on the prior
    study"), agrees with a fact that carries a number."""
    prior = [e for e in sf.evidence if e.origin == "prior" and e.fact.concept == claim.concept
             and locations_compatible(claim.concept, claim.location, e.fact.location)]
    return any(e.fact.value is not None and compare(claim, e)[0] == "supported"
               for e in sf.about(claim.concept, claim.location) + prior)
