"""Facts from prose: clinical statements of an impression or a findings section become ``Fact``s.

The rules (words, abbreviations, negation and hedge cues, grade words) are data in
``resources/fact_rules.json``; ``echogpt.checker.tokens`` scans the text with them; sentence by
sentence, each mention takes its grade and subjects (``mentions.py``) and its polarity
(``polarity.py``), and this module turns the mentions into facts. Facts from a whole study
(prose plus structured fields) live in ``echogpt.checker.study_facts``.

    extract_facts("No pericardial effusion, thrombus or vegetation.")
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from echogpt.checker.cells import cell_labels
from echogpt.checker.lexicon import lexicon
from echogpt.checker.mentions import (
    Mention,
    bind_grades,
    distribute_prefix_grades,
    find_subjects,
    merge_grades,
)
from echogpt.checker.polarity import set_polarity, without_grade_contrasts
from echogpt.checker.questions import answered_questions
from echogpt.checker.rules import resolve_grade, rules
from echogpt.checker.tokens import (
    Subjects,
    Tok,
    lesion_numbers,
    lesion_sizes,
    numbers,
    relocated,
    subject_list,
    tokens,
    with_changes,
)
from echogpt.checker.word_order import (
    lone_label,
    opens_with_grade,
)
from echogpt.schemas import Fact


def _sentence_facts(text: str, toks: list[Tok], out: list[Fact], carry: Subjects) -> Subjects:
    """Facts of one sentence but its numbers' (``numbers`` finds those), appended to ``out``.

    Args:
        text: The sentence.
        toks: Its tokens.
        out: Where the facts go.
        carry: The previous sentence's subjects (a head with no subject of its own takes them).

    Returns:
        The subjects this sentence hands to the next: its last subject token's, else ``carry``.
    """
    toks = merge_grades(text, without_grade_contrasts(text, toks))
    mentions = {i: Mention(i, t.start, t.end, term=t.payload, direction=t.payload.direction,
                           degree=t.payload.degree, grade_prefix=t.payload.direction == "normal")
                for i, t in enumerate(toks) if t.kind == "term" and (t.payload.head or t.payload.facts)}
    implied = bind_grades(text, toks, mentions)
    distribute_prefix_grades(text, toks, mentions)
    for i, m in mentions.items():
        if m.term is not None and m.term.head:
            find_subjects(text, toks, mentions, i, carry)
    everything = sorted(list(mentions.values()) + implied, key=lambda x: x.anchor)
    set_polarity(text, toks, mentions, everything)
    for m in everything:
        _emit(m, out)
    # the next sentence takes the last chamber or valve named, and the last wall ("Mitral valve:
    # anterior leaflet prolapse. Regurgitation: moderate." is mitral regurgitation)
    handed: list[tuple[str, str | None]] = []
    for want_wall in (False, True):
        for t in reversed(toks):
            subjects = subject_list(t)
            if subjects and (t.kind == "wallterr") == want_wall and not _in_aside(text, t.start):
                handed += subjects
                break
    return tuple(handed) if handed else carry


def _in_aside(text: str, at: int) -> bool:
    """Whether ``at`` lies in a parenthesis: "(post-pericardiotomy / RV pressure)" is an aside, and
    the next sentence does not take its subject."""
    return text.rfind("(", 0, at) > text.rfind(")", 0, at)


def _emit(m: Mention, out: list[Fact]) -> None:
    r = rules()
    term = m.term
    pairs: list[tuple[str, str | None]] = []
    if term and term.facts and not term.head:
        heads = []  # a phrase naming fixed facts ("septal flattening") implies no other finding
    else:
        heads = [term.head] if term and term.head else r.implied_heads.get(m.direction or "", [])
    # "Aortic valve: normal", "AV normal": a bare grade over a valve grades the valve, not the aorta
    valves = set(r.head_concepts.get("valve", {})) if term is None and "valve" in heads else set()
    for head in heads:
        table = r.head_concepts.get(head, {})
        subs = m.subjects or ([("*", None)] if "*" in table else [])
        found = []
        for subject, wall in subs:
            key = subject if subject in table else ("*" if term and term.head and "*" in table else None)
            if key is None or (subject in valves and head != "valve"):
                continue
            concept, loc = table[key]
            found.append((concept, wall if loc == "@wall" else loc))
        pairs += found
        if found and (term is not None or m.direction != "normal"):
            break
    polarity = m.polarity
    for concept, loc in dict.fromkeys(pairs):
        grade = resolve_grade(concept, m.degree, m.direction)
        rule = "no-significant" if m.not_significant and polarity == "absent" else None
        if (m.direction == "normal" or grade == "normal") and concept in (
                "valve_regurgitation", "valve_stenosis", "valve_morphology", "pericardial_effusion",
                "thrombus"):
            grade, polarity = None, "absent"
            rule = None if term is None else rule
        if term and term.drop_ungraded and grade is None:
            continue
        out.append(Fact(concept=concept, location=loc, polarity=polarity, grade=grade, source="text",
                        start=m.start, end=m.end, rule=rule))
    for spec in term.facts if term and not m.borrow else []:
        pol = spec.get("polarity", "present")
        if pol == "present":
            pol = m.polarity
        rule = spec.get("rule") or ("no-significant" if m.not_significant and pol == "absent" else None)
        grade = spec.get("grade") or resolve_grade(spec["concept"], m.degree, m.direction)
        out.append(Fact(concept=spec["concept"], location=spec.get("location"), grade=grade, polarity=pol,
                        source="text", start=m.start, end=m.end, rule=rule))


def span_order(f: Fact) -> tuple[int, str]:
    """Facts in text order: by start, then concept (sorts are stable: the rest keeps its order)."""
    return f.start or 0, f.concept


@lru_cache(maxsize=65536)  # reports repeat sentences ("There is no pericardial effusion.")
def _sentence(sentence: str, carry: Subjects) -> tuple[tuple[Fact, ...], Subjects]:
    """One sentence's facts (spans relative to it, in text order) and the subjects it hands on.

    Args:
        sentence: The sentence.
        carry: The previous sentence's subjects (decide "mean gradient" after "Mitral stenosis.").

    Returns:
        The facts, and the subjects for the next sentence.
    """
    toks = tokens(sentence)
    facts: list[Fact] = []
    after = _sentence_facts(sentence, toks, facts, carry) if toks else carry
    facts += numbers(sentence, toks, carry)
    facts = lesion_sizes(sentence, [(t.start, t.end) for t in toks if t.kind == "num"], facts)
    facts.sort(key=span_order)
    facts = _one_site_lesions(_without_otherwise_normal(sentence, facts))
    return tuple(_without_labels(sentence, facts)), tuple(after)


def _one_site_lesions(facts: list[Fact]) -> list[Fact]:
    """A lesion (the ``masses`` family: thrombus, mass) lies in one place: where an unsided word
    spreads it over both sides ("atrial myxoma": LA and RA) and the sentence names its side elsewhere
    ("Left atrial mass ..., most consistent with an atrial myxoma"), it keeps that side only."""
    lesions = set(rules().families.get("masses", []))
    spans: dict[tuple[str, int | None, int | None], set[str | None]] = {}
    for f in facts:
        if f.concept in lesions and f.polarity == "present":
            spans.setdefault((f.concept, f.start, f.end), set()).add(f.location)
    keep = []
    for f in facts:
        sites = spans.get((f.concept, f.start, f.end), set())
        named = {g.location for g in facts if g.concept == f.concept and (g.start, g.end) != (f.start, f.end)
                 and g.polarity == "present" and g.location in sites}
        if len(sites) < 2 or not named or f.location in named:
            keep.append(f)
    return keep


_OTHERWISE = re.compile(r"\botherwise\b", re.I)


def _without_otherwise_normal(sentence: str, facts: list[Fact]) -> list[Fact]:
    """"Otherwise structurally normal heart": normal apart from the findings named beside it, which
    this sentence cannot see; the whole-study claim is dropped (its other facts are still read)."""
    def otherwise(f: Fact) -> bool:
        start, end = f.start or 0, f.end or 0
        return bool(_OTHERWISE.search(sentence, max(0, start - 25), start)
                    or _OTHERWISE.match(sentence.lower(), end + 1))
    return [f for f in facts if not (f.concept == "normal_study" and otherwise(f))]


def _without_labels(sentence: str, facts: list[Fact]) -> list[Fact]:
    """A heading word that opens the sentence ("Thrombus: No LV thrombus identified") names what the
    line is about; when the line goes on to say it, the label itself states nothing."""
    out = []
    for f in facts:
        start, end = f.start or 0, f.end or 0
        label = (f.polarity == "present" and f.grade is None and f.value is None
                 and not sentence[:start].strip(" \t\n-*•") and sentence[end:].lstrip().startswith(":"))
        if label and any(g.concept == f.concept and (g.start or 0) > end for g in facts):
            continue
        out.append(f)
    return out


def _sentences(text: str) -> Iterator[tuple[int, str]]:
    """Each sentence of ``text`` that is not blank, with its offset."""
    start = 0
    for m in lexicon().sentence_end.finditer(text):
        end = m.end()
        if end > start and not text[start:end].isspace():
            yield start, text[start:end]
        start = max(start, end)
    if len(text) > start and not text[start:].isspace():
        yield start, text[start:]


# a person named by a title ("Mr. Oyelowo", "Mr T Osei", "Dr A. Reddy"): no finding ("Mr" is no MR);
# written in title case only, so that "MR" and the lower case of dictated reports keep their sense
_PERSON = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof)\.?\s+(?:[A-Z]\.?\s+){0,2}[A-Z][a-z'-]+")


def sentence_facts(text: str) -> Iterator[tuple[int, tuple[Fact, ...]]]:
    """Each sentence's offset in ``text`` and its facts (spans relative to the sentence), in text
    order (by start, then concept): one sentence after the other, they are in text order throughout.
    A person named by a title is blanked first: it states nothing of the heart; a question is read as
    its answer says (``answered_questions``) and a row's ``Label;value`` cells as a label and its
    value (``cell_labels``)."""
    carry: Subjects = ()
    last: Fact | None = None
    text = cell_labels(answered_questions(_PERSON.sub(lambda m: " " * len(m.group()), text)))
    label = ""
    for start, sentence in _sentences(text):
        before = carry
        facts, carry = _sentence(sentence, carry)
        facts = facts or _lone_grade(sentence, last)
        if label and opens_with_grade(sentence):  # "Right ventricle. Dilated: basal diameter 45 mm"
            joined, _ = _sentence(f"{label} {sentence}", before)
            n = len(label) + 1
            facts = tuple(with_changes(f, start=max(0, (f.start or 0) - n), end=max(0, (f.end or 0) - n))
                          for f in joined)
        label = lone_label(sentence)
        said = [f for f in facts if f.concept != "measurement" and f.polarity == "present"]
        last = said[-1] if said else None
        yield start, facts


def _lone_grade(sentence: str, last: Fact | None) -> tuple[Fact, ...]:
    """A sentence that is a grade word alone grades the finding the sentence before named without one
    ("Pulmonary regurgitation: wide jet filling the RVOT, flow reversal in the branch PAs. Severe.")."""
    toks = tokens(sentence)
    if last is None or last.grade is not None or len(toks) != 1 or toks[0].kind != "grade" \
            or sentence.strip(" \t\n.;") != sentence[toks[0].start:toks[0].end]:
        return ()
    grade = resolve_grade(last.concept, toks[0].degree, toks[0].direction)
    if grade is None:
        return ()
    return (last.model_copy(update={"grade": grade, "start": toks[0].start, "end": toks[0].end}),)


def bound_numbers(text: str) -> list[tuple[str, Fact | None]]:
    """Each number of a text and the fact that took it: a measurement its value, a lesion its size.

    "Severe pulmonary hypertension (peak velocity 102 mmHg)." gives [("102 mmHg", None)]: no
    measurement name before it takes mmHg. "LVEF 55%." gives [("55%", the LVEF measurement fact)].

    Args:
        text: Prose (an impression statement).

    Returns:
        (the number as written, the fact, spans relative to ``text``, or None), in text order.
    """
    out: list[tuple[str, Fact | None]] = []
    carry: Subjects = ()
    for start, sentence in _sentences(text):
        facts, after = _sentence(sentence, carry)
        nums = [(t.start, t.end) for t in tokens(sentence) if t.kind == "num"]
        sized = {span: facts[k] for k, span in lesion_numbers(sentence, nums, list(facts)).items()}
        measured = {f.end: f for f in facts if f.concept == "measurement"}
        for a, b in nums:
            f = measured.get(b) or sized.get((a, b))
            if f is not None:
                f = relocated(f, (f.start or 0) + start, (f.end or 0) + start)
            out.append((sentence[a:b], f))
        carry = after
    return out


def extract_facts(text: str, offset: int = 0) -> list[Fact]:
    """Facts asserted by a piece of prose (an impression statement or a findings section).

    Args:
        text: The prose.
        offset: Added to every span (the text's position in a larger document).

    Returns:
        Facts in text order, each with ``source="text"`` and its ``start``/``end`` span.
    """
    out: list[Fact] = []
    for start, facts in sentence_facts(text):
        shift = offset + start
        out += [relocated(f, (f.start or 0) + shift, (f.end or 0) + shift) for f in facts] if shift else facts
    return out


def mentions_comparison(text: str) -> bool:
    """True when a statement compares with a prior study ("new", "unchanged", "compared with")."""
    return lexicon().comparison.search(text) is not None
