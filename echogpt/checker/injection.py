"""Errors injected into impressions that are correct for their study, for the checker's benchmark
(``bench.py``): severity change, number change, negation flip, invented finding, valve/chamber swap
and omitted critical finding. A mutation is made only where it makes a real error (a grade the study
itself states, a bound that still holds, a swap into a site with the same finding are no errors); a
number changed within its tolerance is a negative case.

    cases = inject(Case("S1", "unmodified", study, ["Mild MR.", "LVEF 55%."]), "severity_change", rng)
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from echogpt.checker.compare import interval
from echogpt.checker.facts import extract_facts
from echogpt.checker.lexicon import lexicon
from echogpt.checker.omissions import critical_present, says_finding
from echogpt.checker.rules import tolerance
from echogpt.checker.study_facts import study_facts
from echogpt.schemas import Study

ERROR_TYPES = ("severity_change", "number_change", "negation_flip", "invented_finding",
               "valve_chamber_swap", "omitted_critical")

# Grade words and what each becomes: at least one full step away on every scale it can grade.
_SEVERITY = {"mild": "severe", "mildly": "severely", "severe": "mild", "severely": "mildly",
             "moderate": "mild", "moderately": "mildly", "trace": "moderate", "trivial": "moderate",
             "small": "large", "large": "small"}
_SWAPS = {"mitral": "aortic", "aortic": "mitral", "tricuspid": "mitral", "pulmonic": "aortic",
          "MR": "AR", "AR": "MR", "TR": "MR", "AS": "MS", "MS": "AS", "left atrium": "right atrium",
          "right atrium": "left atrium", "left atrial": "right atrial", "right atrial": "left atrial",
          "LA": "RA", "RA": "LA", "left ventricle": "right ventricle", "right ventricle": "left ventricle",
          "left ventricular": "right ventricular", "right ventricular": "left ventricular",
          "LV": "RV", "RV": "LV", "inferior": "anterior", "anterior": "inferior", "lateral": "septal",
          "PFO": "VSD", "ASD": "VSD", "apical": "basal"}
# Findings to invent: (statement, concept it asserts).
_INVENTED = [("Large pericardial effusion with tamponade physiology.", "pericardial_effusion"),
             ("Mobile vegetation on the aortic valve.", "vegetation"),
             ("Apical left ventricular thrombus.", "thrombus"),
             ("Severe aortic stenosis.", "valve_stenosis"),
             ("Patent foramen ovale with right-to-left shunting.", "shunt"),
             ("Dissection flap in the ascending aorta.", "aortic_dissection"),
             ("Left atrial myxoma.", "mass"),
             ("Severe mitral regurgitation.", "valve_regurgitation")]
_NEG = re.compile(r"^(?:there (?:is|are) )?(?:no|without)\s+(?:evidence of\s+)?", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# a bound ("EF <40%", "> 50 % collapse"): moved, it may still hold of the study's value
_BOUND = re.compile(r"[<>≤≥]|\b(?:less|greater|more) than\b|\b(?:below|above|under|over|up to|at least)\b",
                    re.IGNORECASE)


@dataclass
class Case:
    """One impression to check and what the checker should say about it."""

    source: str
    kind: str  # an error type, "unmodified" or "within_tolerance"
    study: Study
    statements: list[str]
    target: int | None = None  # index of the changed statement
    omission: str | None = None  # label of the removed critical finding


def _word_sub(text: str, old: str, new: str) -> str:
    flags = 0 if old.isupper() else re.IGNORECASE

    def keep_case(m: re.Match[str]) -> str:
        return new[0].upper() + new[1:] if m.group()[0].isupper() and not old.isupper() else new

    return re.sub(rf"(?<![A-Za-z]){re.escape(old)}(?![A-Za-z])", keep_case, text, count=1, flags=flags)


def _changed(a: str, b: str) -> bool:
    key = lambda t: {(f.concept, f.location, f.polarity, f.grade, f.value) for f in extract_facts(t)}  # noqa: E731
    return a != b and key(a) != key(b)


def change_severity(text: str, rng: random.Random, study: Study) -> str | None:
    if re.search(r"(?:mild|moderate|severe)\w*[\s-]+to[\s-]+", text, re.IGNORECASE):
        return None  # "moderately to severely": one word changed makes no grade
    words = [w for w in _SEVERITY if re.search(rf"(?<![A-Za-z]){w}(?![A-Za-z])", text, re.IGNORECASE)]
    for w in rng.sample(words, len(words)):
        new = _word_sub(text, w, _SEVERITY[w])
        if not _changed(text, new):
            continue
        before, sf = {(f.concept, f.location, f.grade) for f in extract_facts(text)}, study_facts(study)
        moved = [f for f in extract_facts(new) if (f.concept, f.location, f.grade) not in before]
        if not all(_stated(f, sf) for f in moved):
            return new  # else the study itself states the new grade (MS mild by its MVA, moderate by its MG)
    return None


def change_number(text: str, rng: random.Random, study: Study, within: bool = False) -> str | None:
    facts = [f for f in extract_facts(text) if f.concept == "measurement" and f.value]
    for f in rng.sample(facts, len(facts)):
        span = text[f.start or 0:f.end or 0]
        nums = list(_NUMBER.finditer(span))
        if not nums or float(nums[0].group()) == 0 or _BOUND.search(span):
            continue
        ratio = float(nums[0].group()) / (f.value or 1.0)  # text unit per canonical unit (mm vs cm)
        tol = tolerance(f.location or "", f.value or 0.0)
        delta = (0.4 if within else 3.0) * tol * ratio * rng.choice([-1, 1])
        if float(nums[0].group()) + delta <= 0:
            delta = -delta
        decimals = max(len(n.group().partition(".")[2]) for n in nums)
        if within and round(abs(delta), decimals) == 0:
            delta = 10 ** -decimals * (1 if delta > 0 else -1)

        def shift(m: re.Match[str], d: float = delta, dec: int = decimals) -> str:
            return f"{max(float(m.group()) + d, 0.1):.{dec}f}"

        new_span = _NUMBER.sub(shift, span, count=2 if f.value_max else 1)
        moved = abs(float(_NUMBER.findall(new_span)[0]) - float(nums[0].group()))
        if within and moved > tol * ratio / 2 + 1e-9:
            continue  # the stated number may itself sit off the study's value: stay in half the band
        new = text[:f.start or 0] + new_span + text[f.end or 0:]
        if new != text:
            return new
    return None


# Findings whose presence a negation flips (a normal grade is not negated: "No normal RV").
_PRESENCE = {"valve_regurgitation", "valve_stenosis", "pericardial_effusion", "thrombus", "vegetation",
             "abscess", "mass", "shunt", "tamponade", "aortic_dissection", "lvot_obstruction", "sam",
             "wall_motion", "paravalvular_leak", "lv_wall_thickness", "valve_morphology"}


def flip_negation(text: str, rng: random.Random, study: Study) -> str | None:
    if lexicon().plan.search(text):
        return None  # "No suggest CT aortogram": a plan negated states nothing
    m = _NEG.match(text)
    facts = extract_facts(text)
    if not m and re.search(r"\b(?:no|not|without|w/o)\b", text, re.IGNORECASE):
        return None  # a second negation would make a double negative
    first = next((f for f in facts if f.concept != "measurement"), None)
    if not m and (first is None or first.concept not in _PRESENCE or first.polarity != "present"
                  or first.grade == "normal"):
        return None  # only a finding that is present can be negated ("No normal RV" says nothing)
    if not m and _graded_below(first, study_facts(study)):
        return None  # "No severe MS" where the study grades it moderate (MVA 1.1 cm2) is true of it
    new = text[m.end():] if m else "No " + text[0].lower() + text[1:]
    new = new[0].upper() + new[1:] if new else new
    if m and "without" in text.lower():
        new = re.sub(r"\bwithout\b", "with", text, count=1, flags=re.IGNORECASE)
    return new if _changed(text, new) else None


def _graded_below(f: Any, sf: Any) -> bool:
    """Whether the study grades the finding, every grade of it milder than the fact's."""
    a = interval(f)
    grades = [interval(e.fact) for e in sf.about(f.concept, f.location)
              if e.origin != "prior" and e.fact.polarity == "present" and e.fact.grade]
    return a is not None and bool(grades) and all(b is not None and b[1] < a[0] for b in grades)


def swap_site(text: str, rng: random.Random, study: Study) -> str | None:
    words = [w for w in _SWAPS if re.search(rf"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])", text,
                                             0 if w.isupper() else re.IGNORECASE)]
    sf = study_facts(study)
    for w in sorted(words, key=len, reverse=True):
        new = _word_sub(text, w, _SWAPS[w])
        before = {(f.concept, f.location) for f in extract_facts(text)}
        moved = [f for f in extract_facts(new) if f.concept != "measurement"
                 and (f.concept, f.location) not in before]
        if not moved:
            continue  # the swap changed no finding's site
        if all(_still_true(f, sf) for f in moved):
            continue  # e.g. mild MR and mild TR both present: not an error
        return new
    return None


def _stated(f: Any, sf: Any) -> bool:
    """Whether the study states the fact exactly (same polarity and grade at its site)."""
    return any(e.fact.polarity == f.polarity and e.fact.grade == f.grade
               for e in sf.about(f.concept, f.location))


def _still_true(f: Any, sf: Any) -> bool:
    """Whether a swapped fact happens to be true: the study states it exactly or at a compatible
    grade, or it is a normal claim and nothing at the new site is abnormal."""
    found = sf.about(f.concept, f.location)
    if _stated(f, sf):
        return True
    a = interval(f) if f.polarity == "present" and f.grade else None
    if a is not None and any(e.origin != "prior" and e.fact.polarity == "present"  # intervals overlap:
                             and (b := interval(e.fact)) is not None and a[0] <= b[1] and b[0] <= a[1]
                             for e in found):  # moderate beside moderate-severe
        return True
    normal = f.polarity == "absent" or f.grade == "normal"
    return normal and not any(e.fact.polarity == "present" and e.fact.grade not in (None, "normal", "none")
                              for e in found)


def inject(case: Case, kind: str, rng: random.Random) -> list[Case]:
    """The cases one error type makes of a correct impression: none, one, or (a number change) the
    error and its within-tolerance twin."""
    st, study = case.statements, case.study
    order = rng.sample(range(len(st)), len(st))
    mutate: dict[str, Callable[..., str | None]] = {
        "severity_change": change_severity, "number_change": change_number,
        "negation_flip": flip_negation, "valve_chamber_swap": swap_site}
    if kind in mutate:
        for i in order:
            new = mutate[kind](st[i], rng, study)
            if new:
                out = [Case(case.source, kind, study, st[:i] + [new] + st[i + 1:], target=i)]
                if kind == "number_change":
                    near = change_number(st[i], random.Random(rng.random()), study, within=True)
                    if near and near != st[i]:
                        out.append(Case(case.source, "within_tolerance", study,
                                        st[:i] + [near] + st[i + 1:], target=i))
                return out
        return []
    sf = study_facts(study)
    if kind == "invented_finding":
        present = {e.fact.concept for e in sf.evidence if e.fact.polarity != "absent"}
        options = [t for t in _INVENTED if t[1] not in present]
        if not options:
            return []
        text = rng.choice(options)[0]
        i = rng.randrange(len(st) + 1)
        return [Case(case.source, kind, study, st[:i] + [text] + st[i:], target=i)]
    facts = [extract_facts(s) for s in st]
    for _key, rule, loc, e in critical_present(sf):  # every statement that says it goes
        stating = [i for i, fs in enumerate(facts) if any(says_finding(rule, e, f) for f in fs)]
        if stating and len(stating) < len(st):
            kept = [s for i, s in enumerate(st) if i not in stating]
            label = rule.label.replace("{location}", loc or "valve")
            return [Case(case.source, kind, study, kept, omission=label)]
    return []
