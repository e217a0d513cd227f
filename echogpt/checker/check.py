"""The hallucination check: every statement of an impression against the study it came from.

Each statement gets a verdict (supported, contradicted, unsupported, not_factual, not_checked: a
claim no rule verifies) and a reason;
critical findings present in the study and absent from the impression are reported as omissions
(``omissions.py``).

    result = check("1. Severe AS.\\n2. No pericardial effusion.", study)
"""

from __future__ import annotations

import re

from echogpt.checker.compare import (
    Evidence,
    Status,
    abnormal,
    compare,
    compare_number,
    interval,
    is_normal_claim,
    is_stated,
    locations_compatible,
)
from echogpt.checker.earlier import cannot_exclude, earlier_spans, is_change
from echogpt.checker.facts import extract_facts, mentions_comparison
from echogpt.checker.omissions import omissions
from echogpt.checker.rules import family_of, lexicon, rule_regex, rules
from echogpt.checker.study_facts import StudyFacts, study_facts
from echogpt.checker.subjects import names_subject, unread_note
from echogpt.schemas import CheckResult, Fact, StatementCheck, Study, StudyType
from echogpt.text import split_statements


def _judge(claim: Fact, study: Study, sf: StudyFacts, comparison: bool) -> tuple[Status, str]:
    """The verdict on one claimed fact: the evidence about it, then the first that decides."""
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
        return _unread(claim, study, _judge_number(claim, found))
    tee_only = rules().tee_only_locations
    if (claim.location in tee_only and study.study_type == StudyType.TTE
            and not any(e.fact.location in tee_only for e in found)):
        return "unsupported", f"{claim.location.upper()} findings need a TEE; this is a TTE"
    if not found:
        return _unread(claim, study, _judge_unstated(claim, sf))
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
    status, reason = _judge(claim, study, sf, False)
    return _synthesis(claim, sf) or (status, reason) if status == "unsupported" else (status, reason)


def _unread(claim: Fact, study: Study, verdict: tuple[Status, str]) -> tuple[Status, str]:
    """Unsupported only where the study is silent: where the findings name the claim's subject in
    words the rules cannot read (no fact, no value), the claim is not_checked."""
    status, reason = verdict
    if status != "unsupported" or not names_subject(study.findings_text, claim.concept, claim.location):
        return verdict
    what = claim.location if claim.concept == "measurement" else claim.concept.replace("_", " ")
    if claim.concept != "measurement" and claim.location:
        what += f" ({claim.location.replace('_', ' ')})"
    return "not_checked", f"the findings name {what}, but the checker cannot read what they say of it"


def _synthesis(claim: Fact, sf: StudyFacts) -> tuple[Status, str] | None:
    """Support for a claim through a clinical synthesis (``fact_rules.json`` ``supported_by``): the
    study states what the guideline derives the claim from."""
    if claim.polarity != "present":
        return None
    here = [e for e in sf.by_concept.get(claim.concept, ()) if e.origin != "prior"
            and e.fact.polarity == "present" and e.fact.location in (claim.location, None)]
    if claim.location and not here:
        return None  # a synthesis grades what the study states at the claim's site, never invents it
    for r in rules().supported_by.rules:
        want = r.claim
        if want["concept"] != claim.concept or ("grades" in want and claim.grade not in want["grades"]):
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
        return "contradicted", f"the study reports {(f.grade or '').replace('_', ' ')} " \
                               f"{f.concept.replace('_', ' ')}".replace("  ", " ")
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
                              f"{claim.location.replace('_', ' ')}"
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
        first = None
        for e in found:
            status, reason = compare(claim, e)
            if status != "supported":
                return status, f"{reason} [{e.where()}]"
            if first is None:
                first = reason, e
        assert first is not None
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


def _mid(f: Fact) -> float | None:
    if f.value is None:
        return None
    return (f.value + (f.value_max if f.value_max is not None else f.value)) / 2


def _against_prior(text: str, facts: list[Fact], sf: StudyFacts) -> tuple[Status, str] | None:
    """A comparison statement ("improved", "unchanged", "worse") against the prior study."""
    lex = lexicon()
    # "not increased" says "the same": its "increased" is no direction of its own
    plain = lex.direction["same"].sub(" ", text) if "same" in lex.direction else text
    said = [k for k, rx in lex.direction.items() if rx.search(plain if k != "same" else text)]
    if len(said) != 1:
        return None
    # "decreased", "higher": the direction of the number, which is better or worse only for LVEF
    ef_only = bool(lex.ef_only_direction.search(plain)) and not any(
        rx.search(lex.ef_only_direction.sub(" ", text)) for rx in lex.direction.values())
    concepts = {f.concept for f in facts if f.concept != "measurement"}
    if any(f.concept == "measurement" and f.location == "lvef" for f in facts):
        concepts.add("lv_systolic_function")
    pairs: list[tuple[str, float, float]] = []  # (what, prior position, current position)
    cur_ef = [_mid(e.fact) for e in sf.evidence if e.origin != "prior" and e.fact.location == "lvef"
              and e.fact.concept == "measurement"]
    old_ef = [_mid(e.fact) for e in sf.evidence if e.origin == "prior" and e.fact.location == "lvef"
              and e.fact.concept == "measurement"]
    if ("lv_systolic_function" in concepts or not concepts) and cur_ef and old_ef:
        # LVEF within 5 points counts as unchanged (inter-reader variability, ASE15); a stated
        # direction is wrong only when the change goes clearly the other way; with several earlier
        # studies (a baseline and a last study) it is wrong only against every one of them
        def wrong(old: float | None) -> bool:
            delta = (cur_ef[0] or 0) - (old or 0)
            return {"better": delta < -5, "worse": delta > 5, "same": abs(delta) > 5}[said[0]]

        right = [old for old in dict.fromkeys(old_ef) if not wrong(old)]
        old = right[0] if right else old_ef[0]
        why = f"LVEF was {old:g} % and is {cur_ef[0]:g} % now"
        return ("supported" if right else "contradicted"), why
    # "Moderate MR, unchanged" is about the mitral valve: the tricuspid's change says nothing of it
    sites = {(f.concept, f.location) for f in facts if f.location}
    for e in sf.evidence:
        wanted = not concepts or e.fact.concept in concepts
        if e.origin != "prior" or e.fact.concept == "measurement" or not wanted or ef_only:
            continue
        if any(c == e.fact.concept for c, _ in sites) and (e.fact.concept, e.fact.location) not in sites:
            continue
        old = interval(e.fact)
        for c in sf.about(e.fact.concept, e.fact.location):
            new = interval(c.fact)
            if old is not None and new is not None and c.fact.location == e.fact.location:
                pairs.append((e.fact.concept, abs(sum(old) / 2), abs(sum(new) / 2)))
    for what, old_p, new_p in pairs:
        moved = "worse" if new_p > old_p + 0.5 else "better" if new_p < old_p - 0.5 else "same"
        # progression within a grade ("worse" with the same grade) is for the numbers to decide
        if moved != said[0] and not (moved == "same" and said[0] != "same"):
            return "contradicted", f"{what.replace('_', ' ')} is {moved} than in the prior study"
    if said[0] == "same":
        named = {f.location for f in facts if f.concept == "measurement"}
        for e in sf.evidence:
            f = e.fact
            if e.origin != "prior" or f.concept != "measurement" or f.value is None:
                continue
            if (concepts or named) and f.location not in named:
                continue  # "LV function unchanged" says nothing of the aortic velocity
            for c in sf.about("measurement", f.location):
                status, _ = compare_number(c.fact, f)
                if status == "contradicted":
                    return "contradicted", (f"{f.location} changed from {_mid(f):g} to {_mid(c.fact):g} "
                                            "since the prior study")
                pairs.append(("measurement", 0, 0))
    return ("supported", "consistent with the prior study") if pairs else None


def _no_bubble_study(text: str, study: Study) -> bool:
    """The statement cites a bubble study that the study never did."""
    bubble = lexicon().bubble
    if not bubble or not bubble.search(text) or study.agitated_saline:
        return False
    ft = study.findings_text
    not_done = r"(?:bubble|saline)[^.]*not (?:performed|done|obtained)|no (?:bubble|agitated saline) study"
    return not bubble.search(ft) or bool(re.search(not_done, ft, re.I))


def unchecked_topics(text: str) -> list[tuple[str, str, bool]]:
    """Topics of a statement that no rule verifies (``fact_rules.json`` ``not_checked``).

    Args:
        text: The statement.

    Returns:
        (topic, the words that name it, whether a would-be flag becomes not_checked) per topic found.
    """
    out = []
    for topic, (rx, flags) in lexicon().unchecked.items():
        m = rx.search(text)
        if m is not None:
            out.append((topic, m.group(), flags))
    return out


def _clause_start(text: str, at: int) -> int:
    """Where the clause holding offset ``at`` begins ("Severe AS; TAVR recommended" -> at 'TAVR')."""
    return max(text.rfind(c, 0, at) for c in (";", ",", ":", " - ", "—", "(")) + 1


_CITED = re.compile(r"\[(?:findings_text: (?P<quote>'[^\]]*')|(?P<field>[^\[\]]+))\]")


def _evidence(reason: str) -> str | None:
    """The study fact a reason cites in brackets ("[findings_text: 'Mild MR']",
    "[LVEF 35 % (measurements.lvef)]"), worded for the reader: "study: 'Mild MR' (findings text)"."""
    m = _CITED.search(reason)
    if m is None:
        return None
    return f"study: {m['quote']} (findings text)" if m["quote"] else f"study: {m['field']}"


_FROM = re.compile(r"\s*,?\s*\(?\s*(?:(?:up|down|increased|decreased|improved|reduced) )?"
                   r"(?:from|vs\.?|versus)\s+\d", re.IGNORECASE)


def _now_of_from(text: str, f: Fact, start: int) -> bool:
    """"LVEF 30%, from 25%", "TAPSE 1.1 from 1.6 cm": the value before "from" is this study's, never
    the prior's, even in a statement that compares (``start``: the statement's offset, as the fact's)."""
    return (f.concept == "measurement" and f.end is not None
            and _FROM.match(text, f.end - start) is not None)


def _quote(text: str, f: Fact, start: int) -> str:
    return text[(f.start or start) - start:(f.end or start) - start]


def _statement(text: str, start: int, verdict: Status, reason: str, facts: list[Fact]) -> StatementCheck:
    return StatementCheck(text=text, start=start, end=start + len(text), verdict=verdict, reason=reason,
                          facts=facts, evidence=_evidence(reason))


def check_statement(text: str, start: int, study: Study, sf: StudyFacts) -> StatementCheck:
    """The verdict on one statement.

    Args:
        text: The statement.
        start: Its offset in the impression (spans of the result and its facts use it).
        study: The study.
        sf: The study's facts (``study_facts(study)``).

    Returns:
        The StatementCheck; a statement with several facts takes its worst verdict.
    """
    facts = extract_facts(text, offset=start)
    outside = lexicon().outside_rules.search(text) is not None
    topics = unchecked_topics(text) if outside else []
    stress = any(t[2] for t in topics)
    clinical = [f for f in facts if f.concept != "image_quality"]
    # "Vmax +0.3 m/s/year": a change over time is no value of this study or the prior, and is not read
    changes = [f for f in clinical if f.concept == "measurement"
               and is_change(text, (f.start or start) - start, (f.end or start) - start)]
    clinical = [f for f in clinical if f not in changes]
    said = text  # what the statement asserts: all of it, or what comes before its plan
    plan = lexicon().plan.search(text) if outside else None
    if plan is not None:  # "TEE recommended to assess for abscess": a plan; its clause states no finding
        said = text[:_clause_start(text, plan.start())]
        clinical = [f for f in clinical if (f.end or 0) <= start + len(said)]
        if not clinical:
            return _statement(text, start, "not_factual", "a recommendation, not a finding of this study",
                              facts)
    # "new hypokinesis at peak" in a stress echo compares with rest, not with a prior study
    comparison = mentions_comparison(said) and not (stress and study.study_type == StudyType.stress)
    # the indication says an earlier study exists ("last study 2 years ago") but gives none of it: the
    # comparison cannot be checked; what the statement says of now still can
    mentioned = (comparison and study.prior is None and not sf.prior_in_text
                 and rule_regex(rules().prior_mentioned).search(study.indication or "") is not None)
    # no readable prior at all: the comparison is not checked, what the statement says of now still is
    unread_prior = comparison and study.prior is None and not sf.prior_in_text and not mentioned
    mentioned = mentioned or unread_prior
    versus = _against_prior(text, clinical, sf) if comparison else None
    if versus is not None and versus[0] == "contradicted":
        return _statement(text, start, "contradicted", versus[1], facts)
    if not clinical and versus is not None:
        return _statement(text, start, versus[0], versus[1], facts)
    if unread_prior and not clinical:  # "Unchanged since 2021."
        return _statement(text, start, "not_checked", "compares with an earlier study, but the study has no "
                          "readable prior: the comparison is not checked", facts)
    if stress:  # a claim about the stress images is judged on them too
        sf = sf.with_stress()
    if not clinical and changes:
        said_change = _quote(text, changes[0], start)
        return _statement(text, start, "not_checked", f"states a change over time ('{said_change}'), which "
                          "the checker does not verify", facts)
    if not clinical and topics:
        return _statement(text, start, "not_checked", f"no rule verifies {topics[0][0]}: "
                          f"'{topics[0][1]}'", facts)
    if not clinical:
        return _statement(text, start, "not_factual", "states no clinical fact", facts)
    if any(f.concept == "shunt" for f in clinical) and _no_bubble_study(text, study):
        return _statement(text, start, "unsupported",
                          "cites an agitated-saline (bubble) study that was not done", facts)
    unchecked_comparison = (f"compares with a prior study the report only mentions ('{study.indication}')"
                            if not unread_prior else "compares with an earlier study, but the study has "
                            "no readable prior: the comparison is not checked")
    if mentioned:  # "(mean gradient 31 mmHg)" of "the prior study of 2024" is the prior's, not now
        spans = [(start + a, start + b) for a, b in earlier_spans(text)]
        now = [f for f in clinical if not any(a <= (f.start or 0) < b for a, b in spans)]
        if not now:
            return _statement(text, start, "not_checked", unchecked_comparison, facts)
        clinical = now
    worst: tuple[Status, str] | None = None
    rank = {"contradicted": 0, "unsupported": 1, "not_checked": 2, "supported": 3}
    silent = []  # the claims nothing in the study states
    for f in clinical:
        status, reason = _judge(f, study, sf, comparison and not unread_prior
                                and not _now_of_from(text, f, start))
        if status in ("unsupported", "not_checked"):
            status, reason = _synthesis(f, sf) or (status, reason)
        silent += [f] if status == "unsupported" else []
        if worst is None or rank[status] < rank[worst[0]]:
            worst = (status, reason)
    assert worst is not None
    beyond = [t for t in topics if t[2]]
    if worst[0] == "contradicted" and stress and study.study_type == StudyType.stress:
        # a claim about the stress images is refuted only by them, never by the resting findings
        alone = sf.stress_only()
        if not any(_judge(f, study, alone, False)[0] == "contradicted" for f in clinical):
            worst = ("unsupported", f"the resting findings differ ({worst[1]}); the stress findings do not "
                                    "state it")
    invented = worst[1].startswith(("nothing in the study states it", "the study reports this at"))
    # each claim the study is silent on may stand where the import could not read (a quoted part that
    # names its subject, or an unquoted note)
    if worst[0] == "unsupported" and silent and all(f.polarity == "uncertain" for f in silent) \
            and cannot_exclude(text):  # "LV thrombus cannot be excluded" where the study saw none either way
        return _statement(text, start, "not_checked", f"{worst[1]}; the statement only says it could not be "
                          "ruled out, which a study silent about it does not refute", facts)
    notes = [unread_note(study.unread, [f]) for f in silent or clinical] if worst[0] == "unsupported" else []
    note = notes[0] if notes and all(notes) else None
    if note is not None:
        return _statement(text, start, "not_checked", f"{worst[1]}; but the import could not read all of "
                          f"the report: {note}", facts)
    if worst[0] == "unsupported" and beyond and not invented:  # the stress findings do not grade it
        return _statement(text, start, "not_checked", f"no rule verifies {beyond[0][0]} "
                          f"('{beyond[0][1]}'); {worst[1]}", facts)
    reason = worst[1]
    if mentioned and worst[0] in ("supported", "not_checked"):
        return _statement(text, start, "not_checked", f"{unchecked_comparison}; what it says of now: "
                          f"{reason}", facts)
    if unread_prior:
        reason += "; the comparison with an earlier study is not checked (no readable prior)"
    clash = [c for c in sf.conflicts for f in clinical
             if c.concept == f.concept and locations_compatible(f.concept, f.location, c.location)]
    if clash:  # never choose silently between the prose and the structured fields
        reason += f"; note: the findings text and the structured fields disagree ({clash[0].reason})"
    return _statement(text, start, worst[0], reason, facts)


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


def read_impression(arg: str) -> str:
    """The impression text of a command-line argument: the text itself, or ``@FILE``.

    Raises:
        ValueError: a one-line message when the file cannot be read or the text is empty.
    """
    from echogpt.files import FileError, decode_text, read_bytes

    text = arg
    if arg.startswith("@"):
        try:  # 1 MiB: an impression is a paragraph
            text = decode_text(read_bytes(arg[1:], limit=2**20), arg[1:])
        except FileError as err:
            raise ValueError(f"cannot read impression file {err}") from None
    if not text.strip():
        raise ValueError("the impression is empty")
    return text


def format_result(result: CheckResult) -> str:
    """Human form: one line per statement (verdict and reason), then omissions and counts."""
    lines = [f"{i}. [{s.verdict}] {s.text} -- {s.reason}" for i, s in enumerate(result.statements, 1)]
    lines += [f"omitted ({o.severity}): {o.finding} -- {o.evidence}" for o in result.omissions]
    counts = ", ".join(f"{k} {v}" for k, v in result.summary.items())
    lines.append(f"{'FLAGGED' if result.flagged else 'ok'}: {counts}")
    return "\n".join(lines)
