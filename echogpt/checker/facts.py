"""Facts from prose: clinical statements of an impression or a findings section become ``Fact``s.

The rules (words, abbreviations, negation and hedge cues, grade words) are data in
``resources/fact_rules.json``; ``echogpt.checker.tokens`` scans the text with them, this module binds
grades, locations and polarity to each mention, sentence by sentence. Facts from a whole study
(prose plus structured fields) live in ``echogpt.checker.study_facts``.

    extract_facts("No pericardial effusion, thrombus or vegetation.")
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from echogpt.checker.rules import Term, lexicon, resolve_grade, rules
from echogpt.checker.tokens import (
    CLAUSE,
    FROM,
    SUBJ,
    TO,
    Subjects,
    Tok,
    gap_ok,
    is_modifier,
    lesion_numbers,
    lesion_sizes,
    numbers,
    relocated,
    subject_list,
    tokens,
    wall_list,
    with_changes,
)
from echogpt.checker.word_order import (
    grades_a_comparison,
    head_before_subject,
    lone_label,
    names_a_cause,
    opens_with_grade,
    significant_after,
)
from echogpt.schemas import Fact


@dataclass(slots=True)
class _Mention:
    anchor: int  # token index the mention hangs on (head term or grade)
    start: int
    end: int
    term: Term | None = None
    subjects: list[tuple[str, str | None]] = field(default_factory=list)  # (subject, wall location)
    degree: str | None = None
    direction: str | None = None
    grade_prefix: bool = False
    heads: list[str] = field(default_factory=list)
    polarity: str = "present"
    not_significant: bool = False
    borrow: bool = False


_SUBJ_SEP = (*SUBJ, "sep")
_SUBJ_SEP_GRADE = (*SUBJ, "sep", "grade")
_GRADE_JOIN = re.compile(r"[\s\-]*(?:to\s+)?")  # "mildly to moderately", "mild-moderate"
_GRADE_NEGATORS = frozenset({"not", "no", "without"})
_PAREN = re.compile(r"\s*\([^()]*\)")  # a parenthesis right after a grade word
_ARTICLE = re.compile(r"\s*(?:the|an?)\s", re.IGNORECASE)  # a new clause: "and the ..."
# "dilatation of the LV", "aneurysm of the mid ascending aorta"
_OF_THE = re.compile(r"\s*(?:of|in|involving|at|on|within|along|from)?\s*(?:the\s+)?"
                     r"(?:(?:mid|proximal|distal|tubular)\s+)?", re.IGNORECASE)


def _postfix_subjects(text: str, toks: list[Tok], b: int, k: int) -> _Mention:
    """A mention for the grade at ``k`` over the subject at ``b`` and subjects coordinated before it."""
    chain, first = [b], b
    while True:
        if first - 2 >= 0 and toks[first - 1].kind == "sep" and toks[first - 2].kind in SUBJ \
                and gap_ok(text, toks[first - 2].end, toks[first].start, 0, comma=False):
            first -= 2
        elif first - 1 >= 0 and wall_list(toks, first) and gap_ok(
                text, toks[first - 1].end, toks[first].start, 0):
            first -= 1
        else:
            break
        chain.insert(0, first)
    m = _Mention(k, toks[first].start, toks[k].end)
    for x in chain:
        m.subjects += subject_list(toks[x])
        toks[x].owner = m
    return m


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
    toks = _merge_grades(text, toks)
    mentions = {i: _Mention(i, t.start, t.end, term=t.payload, direction=t.payload.direction,
                            degree=t.payload.degree, grade_prefix=t.payload.direction == "normal")
                for i, t in enumerate(toks) if t.kind == "term" and (t.payload.head or t.payload.facts)}
    implied = _bind_grades(text, toks, mentions)
    _distribute_prefix_grades(text, toks, mentions)
    for i, m in mentions.items():
        if m.term is not None and m.term.head:
            _find_subjects(text, toks, mentions, i, carry)
    everything = sorted(list(mentions.values()) + implied, key=lambda x: x.anchor)
    _set_polarity(text, toks, mentions, everything)
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


def _merge_grades(text: str, toks: list[Tok]) -> list[Tok]:
    """Adjacent grade words become one ("mildly" + "dilated"); "not", "no" or "without" right before a
    grade negates it ("well seated, no dehiscence": the prosthesis is there, its dehiscence is not)."""
    merged: list[Tok] = []
    for t in toks:
        if t.kind != "grade":  # only grades merge
            merged.append(t)
            continue
        prev = merged[-1] if merged else None
        if (prev is not None and prev.kind == "grade" and TO.fullmatch(text, prev.end, t.start)
                and FROM.search(text, max(0, prev.start - 12), prev.start)):
            merged[-1] = t  # "from moderate to severe": the grade it became
            continue
        to = TO.search(text, t.start, t.end)
        # one rule matched "moderate to severe"
        if to is not None and FROM.search(text, max(0, t.start - 12), t.start):
            last = [x for x in tokens(text[to.end():t.end]) if x.kind == "grade"]
            if last:
                x = last[-1]
                t = Tok("grade", to.end() + x.start, to.end() + x.end, x.payload, x.degree, x.direction)
        if (prev is not None and prev.kind == "grade"
                and _GRADE_JOIN.fullmatch(text, prev.end, t.start)
                and (prev.direction is None) != (t.direction is None)):
            prev.direction = prev.direction or t.direction
            prev.degree = prev.degree or t.degree
            prev.end = t.end
            continue
        if (prev is not None and prev.kind == "neg" and text[prev.start:prev.end].lower() in _GRADE_NEGATORS
                and not text[prev.end:t.start].strip()):
            t.negated = True
            merged[-1] = t
            continue
        merged.append(t)
    return merged


def _bind_grades(text: str, toks: list[Tok], mentions: dict[int, _Mention]) -> list[_Mention]:
    """Each grade joins a head (prefix, else postfix) or bare subjects, which then make a mention of
    their own with an implied head ("mildly dilated LV and RA"); returns those implied mentions."""
    implied: list[_Mention] = []
    for k, g in enumerate(toks):
        if g.kind != "grade" or grades_a_comparison(text, g):
            continue
        target, new = _grade_target(text, toks, mentions, k)
        if target is None:
            continue
        if new:
            implied.append(target)
        g.bound, g.owner = True, target
        if (g.negated and g.direction is not None and target.direction not in (None, g.direction)
                and (target.term is None or target.term.direction is None)):
            # "prosthesis well seated, normal disc motion, no rocking": the denied direction agrees with
            # the one a grade already bound; it does not deny the mention
            continue
        target.degree = target.degree or g.degree
        target.direction = target.direction or g.direction
        target.start, target.end = min(target.start, g.start), max(target.end, g.end)
        if g.negated:
            target.polarity = "absent"
    # "severe right atrial and moderate right ventricular dilatation": the first grade borrows the head
    for m in implied:
        if m.borrow and m.direction is None:
            nxt = [i for i in sorted(mentions) if i > m.anchor]
            if nxt and all(toks[x].kind in _SUBJ_SEP_GRADE for x in range(m.anchor + 1, nxt[0])):
                m.term = mentions[nxt[0]].term
                m.direction = m.term.direction if m.term else None
    return implied


_CELL_GAP = re.compile(r" {3,}|\t")


def _grade_target(text: str, toks: list[Tok], mentions: dict[int, _Mention],
                  k: int) -> tuple[_Mention | None, bool]:
    """The mention the grade at ``k`` belongs to, and whether it is a new (implied-head) one."""
    g = toks[k]
    j, subs, last = k + 1, [], g.end
    if k + 2 < len(toks) and toks[k + 1].kind == "sep" and (
            toks[k + 2].kind in SUBJ or (k + 2 in mentions and _ARTICLE.match(text, toks[k + 1].end))):
        # "the LA is severely dilated and the appendage …", "the RV is normal and the PA systolic
        # pressure is 40 mmHg": the grade ends its clause
        j = len(toks)
    paren = _PAREN.match(text, g.end)  # "Small (5 mm) posterior effusion": the size is no clause of its own
    if paren and j < len(toks) and all(t.kind == "num" for t in toks[j:] if t.start < paren.end()):
        last = paren.end()
        while j < len(toks) and toks[j].start < last:
            j += 1
    if j < len(toks) and _CELL_GAP.search(text, g.end, toks[j].start):
        j = len(toks)  # "Mid anterior: Akinetic       Apical anterior: …": the grade ends its table cell
    while (j < len(toks) and (toks[j].kind in _SUBJ_SEP or is_modifier(toks[j]))
           and (gap_ok(text, last, toks[j].start, comma=wall_list(toks, j))
                or _stacked(text, last, toks[j].start))):
        if toks[j].kind in SUBJ:
            subs.append(j)
        last = toks[j].end
        j += 1
    b = k - 1
    adjacent = (b >= 0 and (b in mentions or toks[b].kind in SUBJ)
                and gap_ok(text, toks[b].end, g.start, 0, comma=False))
    # "increased by the MR": a finding after "by" is the cause (a method, "nl by FAC", still takes it)
    forward = j < len(toks) and j in mentions and not (names_a_cause(text, g) and _finding(mentions[j]))
    if forward and _same_direction(mentions[j], g) and (
            gap_ok(text, last, toks[j].start, comma=False) or _stacked(text, last, toks[j].start)):
        mentions[j].grade_prefix = True
        return mentions[j], False
    if adjacent and b in mentions and _open(mentions[b]):
        return mentions[b], False
    if adjacent and head_before_subject(text, toks, mentions, b) and _same_direction(mentions[b - 1], g):
        return mentions[b - 1], False  # "insufficiency mitral trivial": the grade after its head's subject
    # "trileaflet, normal opening": the opening is normal, not the valve (a head before it still takes
    # the grade: "prosthesis well seated, normal disc motion")
    of_property = lexicon().property.match(text, g.end) is not None
    if adjacent and toks[b].kind in SUBJ and not of_property:
        return _postfix_subjects(text, toks, b, k), True
    if subs:
        target = _Mention(k, g.start, toks[subs[-1]].end, grade_prefix=True)
        for x in subs:
            target.subjects += subject_list(toks[x])
            toks[x].owner = target
        # "severe right atrial and moderate right ventricular dilatation": the head after the next grade;
        # "Small LV, good systolic function": a comma ends the borrowing
        target.borrow = (j < len(toks) and toks[j].kind == "grade"
                         and not CLAUSE.search(text, toks[subs[-1]].end, toks[j].start))
        return target, True
    for b in range(k - 1, -1, -1):
        if b in mentions and _open(mentions[b]) and _same_direction(mentions[b], g):
            return mentions[b], False
        if head_before_subject(text, toks, mentions, b) and _same_direction(mentions[b - 1], g):
            return mentions[b - 1], False  # "IM (insufficiency mitral): light"
        if toks[b].kind in SUBJ:
            return (None, False) if of_property else (_postfix_subjects(text, toks, b, k), True)
        if toks[b].kind == "stop" and text[toks[b].start:toks[b].end].lower() in ("but", "however"):
            break
    return None, False


def _finding(m: _Mention) -> bool:
    return m.term is not None and m.term.head in rules().head_concepts


def _stacked(text: str, a: int, b: int) -> bool:
    """Adjectives stacked with commas between a grade and its head ("severe eccentric, anteriorly
    directed MR"): each comma-separated part holds filler words only, and none is empty."""
    gap = text[a:b]
    if "," not in gap or any(c in gap for c in ";:()"):
        return False
    return all(part.strip() and gap_ok(part, 0, len(part), 0) for part in gap.split(","))


def _open(m: _Mention) -> bool:
    """A mention that can still take a grade word (it lacks a degree or a direction); a phrase that
    names fixed facts takes none ("spontaneous echo contrast in a moderately dilated LA")."""
    if m.term is not None and not m.term.head:
        return False
    return m.degree is None or m.direction is None


def _same_direction(m: _Mention, g: Tok) -> bool:
    """A grade word with a direction of its own never grades a finding of another direction, only
    its degree: "The RV is hypertrophied and mildly dilated" is a mildly dilated RV, not a mild LVH."""
    return m.direction is None or g.direction is None or m.direction == g.direction


def _distribute_prefix_grades(text: str, toks: list[Tok], mentions: dict[int, _Mention]) -> None:
    """A prefix grade distributes over coordinated heads ("Mild MR and TR")."""
    order = sorted(mentions)
    for a, b in zip(order, order[1:], strict=False):
        ma, mb = mentions[a], mentions[b]
        if (ma.grade_prefix and mb.degree is None and mb.direction is None
                and mb.term is not None and not mb.term.drop_ungraded
                and all(toks[x].kind in _SUBJ_SEP for x in range(a + 1, b))
                and gap_ok(text, toks[a].end, toks[b].start, 0)):
            mb.degree, mb.direction, mb.grade_prefix = ma.degree, ma.direction, True
        elif (ma.grade_prefix and ma.degree is not None and mb.degree is None and mb.term is not None
              and mb.term.direction is not None and mb.direction == mb.term.direction
              and toks[b - 1].kind == "sep" and all(toks[x].kind in _SUBJ_SEP for x in range(a + 1, b))
              and gap_ok(text, toks[a].end, toks[b].start, 0)):
            mb.degree = ma.degree  # "severe RV dilatation and dysfunction": a severe dysfunction


def _find_subjects(text: str, toks: list[Tok], mentions: dict[int, _Mention], i: int,
                   carry: Subjects) -> None:
    """The subjects of the head mention at ``i``: its own, the subjects before it ("LV and RV
    dilatation"), after it ("dilatation of the LV"), the nearest earlier one, else ``carry``."""
    m = mentions[i]
    term = m.term
    assert term is not None and term.head
    table = rules().head_concepts.get(term.head, {})
    if term.subject:
        m.subjects = [(term.subject, None)]
        return
    chain = _subjects_before(text, toks, i, m)
    if not chain:
        chain = _subjects_after(text, toks, mentions, i)
    chain = [s for s in chain if s[0] in table]
    if not chain:
        for b in range(i - 1, -1, -1):
            cand = [s for s in subject_list(toks[b]) if s[0] in table]
            if cand:  # with the subjects coordinated before it ("MV/AV: no vegetation")
                chain = _coordinated_before(text, toks, b, table) + cand
                break
    if not chain and term.head == "function":
        # "bioprosthetic mitral prosthesis, normal function": the function of the prosthesis
        earlier = [mentions[b] for b in range(i - 1, -1, -1) if b in mentions]
        if earlier and earlier[0].term and earlier[0].term.head == "prosthesis":
            m.term, m.subjects = earlier[0].term, earlier[0].subjects
            return
    if not chain:
        chain = [s for s in carry if s[0] in table]
    m.subjects = chain


def _coordinated_before(text: str, toks: list[Tok], b: int, table: dict) -> list[tuple[str, str | None]]:
    """The subjects coordinated right before the subject at ``b`` ("mitral and [aortic]", "MV/[AV]")."""
    out: list[tuple[str, str | None]] = []
    while b > 0 and toks[b - 1].kind in _SUBJ_SEP and gap_ok(text, toks[b - 1].end, toks[b].start, 0):
        b -= 1
        out = [s for s in subject_list(toks[b]) if s[0] in table] + out
    return out


def _subjects_before(text: str, toks: list[Tok], i: int, m: _Mention) -> list[tuple[str, str | None]]:
    """Subjects coordinated right before the head at ``i`` ("LV and RV [dilatation]")."""
    chain, last = [], toks[i].start
    for b in range(i - 1, -1, -1):
        if toks[b].owner is not None and toks[b].owner is not m:
            break
        if toks[b].kind in _SUBJ_SEP or (toks[b].kind == "grade" and toks[b].owner is m):
            if not gap_ok(text, toks[b].end, last):
                break
            chain += subject_list(toks[b]) if toks[b].kind in SUBJ else []
            last = toks[b].start
        else:
            break
    return chain


def _subjects_after(text: str, toks: list[Tok], mentions: dict[int, _Mention],
                    i: int) -> list[tuple[str, str | None]]:
    """Subjects after the head at ``i`` ("dilatation of the LV"; "size and function of both
    ventricles", skipping the coordinated heads; "dysfunction light of the VD", past its own grade)."""
    chain: list[tuple[str, str | None]] = []
    j = i + 1
    while j < len(toks) and (toks[j].kind in ("sep", "num") or j in mentions
                             or (toks[j].kind == "grade" and toks[j].owner is mentions[i])):
        j += 1
    if j < len(toks) and toks[j].kind in SUBJ and _OF_THE.fullmatch(text, toks[j - 1].end, toks[j].start):
        while j < len(toks) and toks[j].kind in _SUBJ_SEP:
            chain += subject_list(toks[j])
            j += 1
    return chain


def _prefix_of_unread_word(text: str, toks: list[Tok], k: int) -> bool:
    """"non-restrictive VSD", "non-obstructive HCM": a "non" prefix negates the word it is joined to;
    when no rule reads that word, it negates nothing the rules know of."""
    t = toks[k]
    if t.kind != "neg" or text[t.start:t.end].lower() != "non":
        return False
    return k + 1 == len(toks) or toks[k + 1].start > t.end + 1


def _alternative(text: str, toks: list[Tok], j: int) -> bool:
    """"No stenosis or significant regurgitation": a grade just after "or"/"nor" opens an alternative
    that the negation before still covers (no A or B = neither A nor B)."""
    prev = toks[j - 1]
    return prev.kind == "sep" and text[prev.start:prev.end].lower() in ("or", "nor")


_CONDITION = re.compile(r"\s+(?:at|with|during|after|before|without|on release|post)\b", re.I)


def _qualifying_aside(text: str, cue: Tok, after: int) -> bool:
    """"Shunt provoked by Valsalva (none at rest)": a negation cue inside a parenthesis opened after
    the finding and followed by a condition denies the finding under that condition only."""
    opened = text.rfind("(", after, cue.start)
    if opened < 0 or ")" in text[opened:cue.start]:
        return False
    closed = text.find(")", cue.end)
    return closed > 0 and _CONDITION.match(text, cue.end, closed) is not None


def _set_polarity(text: str, toks: list[Tok], mentions: dict[int, _Mention],
                  everything: list[_Mention]) -> None:
    """Negation and hedge cues set the polarity of the mentions in their scope: a cue before reaches
    up to a stop word or the next grade, a cue after reaches back over coordinated mentions."""
    for k, t in enumerate(toks):
        if _prefix_of_unread_word(text, toks, k):
            continue
        if t.kind in ("neg", "negsig", "hedge"):
            pol = "uncertain" if t.kind == "hedge" else "absent"
            end = len(toks)
            for j in range(k + 1, len(toks)):
                if toks[j].kind == "stop" or (toks[j].kind == "grade" and j > k + 1
                                               and not _alternative(text, toks, j)) \
                        or (toks[j].kind == "grade" and names_a_cause(text, toks[j])):
                    end = j
                    break
            for m in everything:
                if k < m.anchor < end or (m.anchor == k + 1 and toks[m.anchor].kind == "grade"):
                    m.polarity = pol
                    m.not_significant = t.kind == "negsig" or significant_after(text, toks, end)
        elif t.kind in ("negpost", "hedgepost"):
            pol = "uncertain" if t.kind == "hedgepost" else "absent"
            before = [m for m in everything if m.anchor < k]
            if before and _qualifying_aside(text, t, before[-1].end):
                continue
            if before:
                last_m = before[-1]
                for m in before:
                    if m is last_m or all(toks[x].kind in _SUBJ_SEP or x in mentions
                                          for x in range(m.anchor + 1, last_m.anchor)):
                        m.polarity = pol


def _emit(m: _Mention, out: list[Fact]) -> None:
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
    return tuple(_without_labels(sentence, _without_otherwise_normal(sentence, facts))), tuple(after)


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
    A person named by a title is blanked first: it states nothing of the heart."""
    carry: Subjects = ()
    last: Fact | None = None
    text = _PERSON.sub(lambda m: " " * len(m.group()), text)
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
