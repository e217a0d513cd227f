"""What a statement of an impression says beyond this study's findings: the words that follow a
prior-study cue up to the end of their clause ("LVEF 32%, compared with baseline of 58%", "Mild MR
(previously moderate)"; what comes before the cue is this study's), a change over time ("+0.3 m/s
per year"), a finding that could not be ruled out ("LV thrombus cannot be excluded"), and whether
a stated direction ("improved", "unchanged", "worse") holds against the prior study.

    spans = earlier_spans("LVEF 32%, compared with baseline of 58%.")  # [(10, 39)]
    verdict = against_prior("LVEF improved.", facts, study_facts(study))  # (status, reason) or None
"""

from __future__ import annotations

import re
from functools import cache

from echogpt.checker.compare import Status, compare_number, interval
from echogpt.checker.lexicon import lexicon
from echogpt.checker.rules import rule_regex, rules
from echogpt.checker.study_facts import StudyFacts
from echogpt.checker.timeframes import NOW_WORDS, prior_cues
from echogpt.checker.tokens import measure
from echogpt.schemas import Fact

# a prior's words end at the clause: a comma, semicolon, colon, a closing parenthesis, a full stop or "but"
_END = re.compile(r"[,;:)]|\s(?:but|whereas|while)\s|\.(?!\d)")


def earlier_spans(text: str) -> list[tuple[int, int]]:
    """Spans of a statement that give an earlier study's findings or values.

    Args:
        text: One statement.

    Returns:
        (start, end) per prior-study cue ("compared with", "previously", "prior", "from", a year), from
        the cue to its clause's end; a parenthesis opened in the span ("compared with 2024 (EF 50%)")
        belongs to it, and "now" ends it ("previously moderate, now mild").
    """
    cues, exceptions, _ = prior_cues()
    # "the previously seen thrombus" is this study's; "compared with the prior study of 2024 (MG 31
    # mmHg)", an exception in the findings, opens the prior's words in a statement
    blanked = exceptions.sub(lambda x: x.group() if x.group().lower().startswith("compared")
                             else " " * len(x.group()), text)
    spans = []
    for m in cues.finditer(blanked):
        if spans and m.start() < spans[-1][1]:
            continue  # "the prior study of 2024": one span, whatever cues it holds
        end = _END.search(blanked, m.end())
        stop = end.start() if end is not None else len(text)
        if blanked.count("(", m.end(), stop) > blanked.count(")", m.end(), stop):
            close = blanked.find(")", stop)  # "since 2024 (Vmax 3.1 m/s, mean gradient 21 mmHg)"
            stop = close if close != -1 else len(text)
        now = NOW_WORDS.search(blanked, m.end(), stop)
        spans.append((m.start(), now.start() if now is not None else stop))
    return spans


_CLAUSE_MARK = re.compile(r"[,;:()]|\s[-—]\s")


def _clause_around(text: str, a: int, b: int) -> tuple[int, int]:
    """The clause marks on either side of text[a:b] (-1 and len(text) where there is none)."""
    marks = [m.start() for m in _CLAUSE_MARK.finditer(text)]
    return max((p for p in marks if p < a), default=-1), min((p for p in marks if p >= b), default=len(text))


def said_of_earlier(text: str, at: int, spans: list[tuple[int, int]]) -> bool:
    """Whether the words at offset ``at`` of a statement speak of an earlier study: inside one of its
    spans (``earlier_spans``), or in a clause that holds a prior-study cue ("Severe MR (moderate in
    2023)": 'moderate' is 2023's); "..., with the valve now opening and mild MR" speaks of now.

    Args:
        text: One statement.
        at: An offset in it (a claim's start).
        spans: ``earlier_spans(text)``.
    """
    if any(a <= at < b for a, b in spans):
        return True
    low, high = _clause_around(text, at, at)
    return any(low < a < high for a, _ in spans)


# "from 14 to 18 mm", "18 -> 28 mmHg": the earlier value, before the value now
# ("40 to 45 %" is a range, not a change)
_EARLIER = re.compile(r"(?:\bfrom\s+(?P<a>\d+(?:\.\d+)?)\s*(?P<u>%|[a-z/\d]*)\s+to"
                      r"|(?P<b>\d+(?:\.\d+)?)\s*(?P<v>%|[a-z/\d]*)\s*(?:-+>|→|=>))\s*[<>~]?\d", re.IGNORECASE)


def earlier_value_wrong(text: str, facts: list[Fact], sf: StudyFacts, start: int = 0) -> str | None:
    """Why the earlier value of a "from A to B" measurement ("TAPSE has improved from 14 to 18 mm")
    is wrong: it differs from every value the prior study gives for it; None where it matches one, or
    the prior gives none.

    Args:
        text: The statement.
        facts: Its claims (their spans are offset by ``start``).
        sf: The study's facts, the prior's among them.
        start: The statement's offset.
    """
    for f in facts:
        if f.concept != "measurement" or f.start is None or f.end is None:
            continue
        span = text[f.start - start:f.end - start]
        m = _EARLIER.search(span)
        before = [e.fact for e in sf.evidence if e.origin == "prior" and e.fact.concept == "measurement"
                  and e.fact.location == f.location and e.fact.value is not None]
        if m is None or not before:
            continue
        value, unit = m["a"] or m["b"], m["u"] or m["v"] or span[m.end():].lstrip("0123456789. ")
        said = measure(f.location or "", f"{value} {unit}", 0, 0)
        if said is not None and all(compare_number(said, b)[0] == "contradicted" for b in before):
            why = compare_number(said, before[0])[1].replace("the study's", "the prior study's")
            return f"the earlier value is not the prior study's: {why}"
    return None


_RECOVERY = re.compile(r"\brecover(?:ed|y|ing)\b", re.IGNORECASE)


def recovery_unstated(text: str, facts: list[Fact], sf: StudyFacts, start: int = 0) -> str | None:
    """Why a recovery is not supported: "RV function has recovered" says the RV was abnormal before, and
    the prior study, which the study gives, says nothing of it (no fact of it, no value it is graded
    from); None where the prior describes it, or no prior is given.

    Args:
        text: The statement.
        facts: Its claims (their spans are offset by ``start``).
        sf: The study's facts, the prior's among them.
        start: The statement's offset.
    """
    cue = _RECOVERY.search(text)
    before = [e.fact for e in sf.evidence if e.origin == "prior"]
    if cue is None or not before:
        return None
    low, high = _clause_around(text, cue.start(), cue.end())
    for f in facts:
        at = (f.start or start) - start  # only the finding the recovery is said of, in its clause
        if f.concept == "measurement" or f.polarity != "present" or not low < at < high:
            continue
        fields = rules().graded_from.get(f.concept, [])
        if not any(b.concept == f.concept or (b.concept == "measurement" and b.location in fields)
                   for b in before):
            return f"a recovery of {f.concept.replace('_', ' ')}, which the prior study does not describe"
    return None


_RESOLVED = re.compile(r"\b(?:resolved|resolution)\b", re.IGNORECASE)


def resolved_grade_wrong(text: str, facts: list[Fact], sf: StudyFacts) -> str | None:
    """Why a resolved finding's grade is wrong: "the large effusion seen at baseline has resolved"
    grades the prior study's effusion, and the prior gives it another grade; None where it gives that
    grade, or none.

    Args:
        text: The statement.
        facts: Its claims.
        sf: The study's facts, the prior's among them.
    """
    if _RESOLVED.search(text) is None:
        return None
    for f in facts:
        said = interval(f.model_copy(update={"polarity": "present"})) if f.polarity == "absent" else None
        before = [e.fact for e in sf.evidence if e.origin == "prior" and e.fact.concept == f.concept
                  and e.fact.polarity == "present" and interval(e.fact) is not None
                  and (f.location is None or e.fact.location in (None, f.location))]
        if said is None or not before:
            continue
        if not any((b := interval(e)) is not None and said[0] <= b[1] and b[0] <= said[1] for e in before):
            grade = (before[0].grade or "").replace("_", " ")
            return f"the prior study gives {grade} {f.concept.replace('_', ' ')}, not {f.grade}"
    return None


# "+0.3 m/s", "-5 points": a signed number is a change; "0.3 m/s/year", "per year": a rate of change
_SIGNED = re.compile(r"[+±]\s*\d|(?<![\w/])[-−–]\s*\d+(?:\.\d+)?\s*(?:points?|%-?points?)\b")
_RATE = re.compile(r"\s*(?:/\s*(?:year|yr|y|annum)|per\s+(?:year|annum)|a\s+year)\b", re.IGNORECASE)


def is_change(text: str, start: int, end: int) -> bool:
    """Whether the value of a measurement claim at ``text[start:end]`` is a change over time, not a
    value of either study ("Vmax +0.3 m/s/year", "a fall of -15 points"): no study holds it.

    Args:
        text: The statement.
        start: The claim's start in ``text``.
        end: Its end in ``text``.
    """
    return _SIGNED.search(text, start, end) is not None or _RATE.match(text, end) is not None


@cache
def _exclusion() -> re.Pattern[str]:
    """The hedges of ``fact_rules.json`` that say a finding could not be ruled out ("cannot be
    excluded", "cannot rule out", "has not been assessed"), as opposed to those that say it is likely
    ("probable")."""
    r = rules()
    return rule_regex([h for h in r.hedge.pre + r.hedge.post if re.search(r"exclud|rule|assess|evaluat", h)])


def cannot_exclude(text: str) -> bool:
    """Whether a statement says that something could not be ruled out ("LV thrombus cannot be
    excluded"): a claim a study silent about it does not refute (it saw nothing either way)."""
    return _exclusion().search(text) is not None


def _mid(f: Fact) -> float | None:
    if f.value is None:
        return None
    return (f.value + (f.value_max if f.value_max is not None else f.value)) / 2


def against_prior(text: str, facts: list[Fact], sf: StudyFacts) -> tuple[Status, str] | None:
    """A comparison statement ("improved", "unchanged", "worse") against the prior study.

    Args:
        text: The statement.
        facts: Its clinical facts.
        sf: The study's facts, the prior's among them.

    Returns:
        (status, reason), or None where the statement states no single direction or nothing in the
        prior study bears on it.
    """
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
