"""The verdict on one claimed fact of an impression against the study's evidence: supported,
contradicted, unsupported (the study is silent), or not_checked (the findings name the claim's
subject in words the rules cannot read); a clinical synthesis of the guidelines may support it.

    status, reason = judge_claim(fact, study, study_facts(study))
"""

from __future__ import annotations

from echogpt.checker.compare import (
    Evidence,
    Status,
    abnormal,
    compare,
    is_normal_claim,
    is_stated,
    locations_compatible,
)
from echogpt.checker.rules import family_of, rules
from echogpt.checker.study_facts import StudyFacts
from echogpt.checker.subjects import described_structures, graded_structures, names_subject
from echogpt.schemas import Fact, Study, StudyType


def judge(claim: Fact, study: Study, sf: StudyFacts, comparison: bool) -> tuple[Status, str]:
    """The verdict on one claimed fact: the evidence about it, then the first that decides.

    Args:
        claim: A fact of the impression.
        study: The study.
        sf: Its facts (``study_facts(study)``, or their stress-only view).
        comparison: The statement compares with an earlier study: the prior's facts may support it.

    Returns:
        (status, reason); no clinical synthesis is tried (``synthesis``).
    """
    if claim.concept in ("image_quality",):
        return "supported", "technical statement"
    if claim.concept == "normal_study":
        return _judge_normal_study(claim, sf)
    found = sf.about(claim.concept, claim.location)
    if claim.rule == "valvular":  # "no valvular vegetation" says nothing of a lead or the heart's walls
        found = [e for e in found if e.fact.location in (None, "aortic", "mitral", "tricuspid", "pulmonic")]
    if claim.concept == "shunt" and claim.polarity == "absent":
        found = sf.about("shunt", None)
    elif claim.location and claim.polarity != "absent" and any(
            e.fact.location for e in sf.by_concept.get(claim.concept, [])):
        found = [e for e in found if e.fact.location]
    if claim.concept == "wall_motion" and claim.location is None and claim.polarity == "absent":
        # "No regional wall motion abnormality" is not contradicted by global hypokinesis
        global_grades = {e.fact.grade for e in found if e.fact.location == "global"}
        regional = [e for e in found if e.fact.location != "global" and e.fact.grade not in global_grades]
        if global_grades and not regional:
            return "supported", "the wall motion abnormality is global, not regional"
        found = regional
    # the prior study's facts can support a claim about it, never refute one about now; "no X" in a
    # comparison ("no effusion, new"?) speaks of now
    if comparison and claim.polarity != "absent":
        before = [e for e in sf.evidence if e.origin == "prior" and e.fact.concept == claim.concept
                  and locations_compatible(claim.concept, claim.location, e.fact.location)]
        for e in before:
            status, why = compare(claim, e)
            if status == "supported":
                return status, f"{why} in the prior study [{e.where()}]"
    if claim.concept == "measurement":
        return _unread(claim, study, sf, _judge_number(claim, found))
    tee_only = rules().tee_only_locations
    if (claim.location in tee_only and study.study_type == StudyType.TTE
            and not any(e.fact.location in tee_only for e in found)):
        return "unsupported", f"{claim.location.upper()} findings need a TEE; this is a TTE"
    if not found:
        return _unread(claim, study, sf, _judge_unstated(claim, sf))
    return _judge_stated(claim, found)


def judge_claim(claim: Fact, study: Study, sf: StudyFacts) -> tuple[Status, str]:
    """The verdict on one claimed fact of a statement that compares with nothing (as ``check``).

    Args:
        claim: A fact of the impression.
        study: The study.
        sf: Its facts (``study_facts(study)``).

    Returns:
        (status, reason).
    """
    status, reason = judge(claim, study, sf, False)
    return synthesis(claim, sf) or (status, reason) if status == "unsupported" else (status, reason)


def _unread_chamber(claim: Fact, study: Study, sf: StudyFacts) -> str | None:
    """The chamber a graded claim ("mild LA enlargement") is about, where the findings describe it
    but the rules read no grade of it at all (no size, function or thickness): its description is in
    words the rules do not read. A chamber the rules did read ("normal LV size and function") and
    that says nothing of the claim leaves the claim unsupported."""
    chambers = graded_structures().get(claim.concept, frozenset())
    named = chambers & described_structures(study.findings_text)
    if claim.location or not named:
        return None
    kin = {c for c, of in graded_structures().items() if of & named}
    read = any(e.origin != "prior" for c in kin for e in sf.by_concept.get(c, ()))
    return None if read else sorted(named)[0]


def _unread(claim: Fact, study: Study, sf: StudyFacts, verdict: tuple[Status, str]) -> tuple[Status, str]:
    """Unsupported only where the study is silent: where the findings name the claim's subject in
    words the rules cannot read (no fact, no value), the claim is not_checked."""
    status, reason = verdict
    if status != "unsupported":
        return verdict
    chamber = _unread_chamber(claim, study, sf)
    if chamber is not None:
        return "not_checked", (f"the findings describe the {chamber.upper()}, but the checker reads no "
                               f"grade of it: {reason}")
    if not names_subject(study.findings_text, claim.concept, claim.location):
        return verdict
    what = claim.location if claim.concept == "measurement" else claim.concept.replace("_", " ")
    if claim.concept != "measurement" and claim.location:
        what += f" ({claim.location.replace('_', ' ')})"
    return "not_checked", f"the findings name {what}, but the checker cannot read what they say of it"


def synthesis(claim: Fact, sf: StudyFacts) -> tuple[Status, str] | None:
    """Support for a claim through a clinical synthesis (``fact_rules.json`` ``supported_by``): the
    study states what the guideline derives the claim from.

    Args:
        claim: A fact of the impression.
        sf: The study's facts.

    Returns:
        ("supported", the rule's source and the evidence), or None where no synthesis applies.
    """
    if claim.polarity != "present":
        return None
    here = [e for e in sf.by_concept.get(claim.concept, ()) if e.origin != "prior"
            and e.fact.polarity == "present" and e.fact.location in (claim.location, None)]
    if claim.location and not here:
        return None  # a synthesis grades what the study states at the claim's site, never invents it
    for r in rules().supported_by.rules:
        want = r.claim
        if want["concept"] != claim.concept or ("grades" in want and claim.grade not in want["grades"]) \
                or want.get("location", claim.location) != claim.location:
            continue
        if r.unless and any(e.origin != "prior" and e.fact.grade in r.unless.get("grades", [])
                            for e in sf.by_concept.get(r.unless["concept"], ())):
            continue
        cond = {k: v for k, v in r.if_.items() if k not in ("concept", "min_value")}
        for e in sf.by_concept.get(r.if_["concept"], ()):
            f = e.fact
            if e.origin == "prior" or f.polarity != "present" or any(getattr(f, k) != v
                                                                      for k, v in cond.items()):
                continue
            if "min_value" in r.if_ and (f.value is None or (f.value_max or f.value) < r.if_["min_value"]):
                continue
            return "supported", f"{r.source} [{e.where()}]"
    return None


def _judge_normal_study(claim: Fact, sf: StudyFacts) -> tuple[Status, str]:
    """"Normal study": contradicted by any abnormal finding of this study."""
    ignore = set(rules().structure_only_ignores) if claim.rule == "structural" else set()
    bad = [e for e in sf.evidence if e.origin != "prior" and e.fact.concept not in ignore and abnormal(e)]
    if bad and claim.polarity != "absent":
        f = bad[0].fact
        said = f"the study reports {(f.grade or '').replace('_', ' ')} {f.concept.replace('_', ' ')}"
        return "contradicted", f"{said.replace('  ', ' ')} [{bad[0].where()}]"
    return "supported", "no abnormal finding in the study"


def _judge_number(claim: Fact, found: list[Evidence]) -> tuple[Status, str]:
    """A stated number: the first value of the study that supports it, else the first verdict."""
    if not found:
        return "unsupported", f"the study gives no {claim.location} value"
    first = None
    for e in found:
        x = compare(claim, e)
        if x[0] == "supported":
            return x[0], f"{x[1]} [{e.where()}]"
        first = first or (x[0], f"{x[1]} [{e.where()}]")
    assert first is not None
    return first


def _judge_unstated(claim: Fact, sf: StudyFacts) -> tuple[Status, str]:
    """A claim the study says nothing about at its site: a normal finding may go unsaid."""
    r = rules()
    if claim.concept in r.evidence_required:
        return "unsupported", f"the study has no {claim.concept} assessment (e.g. no bubble study)"
    others = [e for e in sf.by_concept.get(claim.concept, []) if e.fact.polarity == "present"]
    if is_normal_claim(claim) and claim.concept in r.lenient_normal_concepts:
        return "supported", "nothing in the study contradicts it"
    if is_normal_claim(claim):
        fam = family_of()
        members = fam.get(f"{claim.concept}:{claim.location}") or fam.get(claim.concept, frozenset())
        for member in sorted(members):  # a set: sorted, so the evidence quoted is reproducible
            c, _, loc = member.partition(":")
            near = [e for e in sf.about(c, loc or claim.location) if c != claim.concept or e.fact.location]
            if near:
                return "supported", f"the study describes this structure without it [{near[0].where()}]"
    if others and claim.location:
        where = others[0].fact.location or "another site"
        return "unsupported", f"the study reports this at {where.replace('_', ' ')}, not " \
                              f"{claim.location.replace('_', ' ')} [{others[0].where()}]"
    what = claim.concept.replace("_", " ")
    if claim.location:
        what += f" ({claim.location.replace('_', ' ')})"
    return "unsupported", f"nothing in the study states it: no {what} in the findings or structured fields"


def _judge_stated(claim: Fact, found: list[Evidence]) -> tuple[Status, str]:
    """A claim against the evidence about it, compared only until the verdict is known."""
    coarse = {"dilated", "reduced", "increased", "elevated", "abnormal"}
    if claim.grade and claim.grade not in coarse and any(e.fact.grade and e.fact.grade not in coarse
                                                          for e in found):
        found = [e for e in found if e.fact.grade not in coarse]  # "hypertrophy" says no severity
    graded = [e for e in found if is_stated(e) and (e.fact.grade or e.fact.polarity == "absent")]
    if graded and claim.grade and claim.polarity == "present":
        found = graded  # a grade the reader wrote outranks the bands of a measured value
    if is_normal_claim(claim):  # the first evidence against it, else the first evidence's reason
        first, unread, read_at = None, [], set()
        for e in found:
            status, reason = compare(claim, e)
            if status == "not_checked":  # a mention with no grade read: a graded one there may decide
                unread.append((reason, e))
                continue
            if status != "supported":
                return status, f"{reason} [{e.where()}]"
            read_at.add(e.fact.location)
            if first is None:
                first = reason, e
        unread = [(r, e) for r, e in unread if e.fact.location not in read_at]
        if unread or first is None:
            return "not_checked", f"{unread[0][0]} [{unread[0][1].where()}]"
        return "supported", f"{first[0]} [{first[1].where()}]"
    results = []
    for e in found:  # the first support, else the first contradiction, else the first verdict
        x = compare(claim, e)
        if x[0] == "supported":
            return x[0], f"{x[1]} [{e.where()}]"
        results.append((x, e))
    order = {"contradicted": 0, "unsupported": 1}
    (status, reason), e = sorted(results, key=lambda x: order.get(x[0][0], 2))[0]
    return status, f"{reason} [{e.where()}]"
