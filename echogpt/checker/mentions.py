"""A finding's mentions in one sentence, and how each takes its grade and its subjects: adjacent grade
words merge, each grade joins a head term (before or after it) or bare subjects (an implied head), a
prefix grade distributes over coordinated heads, and a head finds the chamber, valve or wall it is
about. ``facts.py`` runs these steps sentence by sentence; ``polarity.py`` then sets what is denied or
hedged.

    toks = merge_grades(text, toks); implied = bind_grades(text, toks, mentions)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from echogpt.checker.lexicon import lexicon
from echogpt.checker.rules import Term, rules
from echogpt.checker.tokens import (
    CLAUSE,
    FROM,
    SUBJ,
    TO,
    Subjects,
    Tok,
    gap_ok,
    is_modifier,
    subject_list,
    tokens,
    wall_list,
)
from echogpt.checker.word_order import grades_a_comparison, head_before_subject, names_a_cause


@dataclass(slots=True)
class Mention:
    """One finding named in a sentence: the token it hangs on, its span, its term, and the grade,
    subjects and polarity it takes."""

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


SUBJ_SEP = (*SUBJ, "sep")
_SUBJ_SEP_GRADE = (*SUBJ, "sep", "grade")
_GRADE_JOIN = re.compile(r"[\s\-]*(?:to\s+)?")  # "mildly to moderately", "mild-moderate"
_GRADE_NEGATORS = frozenset({"not", "no", "without"})
_PAREN = re.compile(r"\s*\([^()]*\)")  # a parenthesis right after a grade word
_ARTICLE = re.compile(r"\s*(?:the|an?)\s", re.IGNORECASE)  # a new clause: "and the ..."
# "dilatation of the LV", "aneurysm of the mid ascending aorta"
_OF_THE = re.compile(r"\s*(?:of|in|involving|at|on|within|along|from)?\s*(?:the\s+)?"
                     r"(?:(?:mid|proximal|distal|tubular)\s+)?", re.IGNORECASE)


def _postfix_subjects(text: str, toks: list[Tok], b: int, k: int) -> Mention:
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
    m = Mention(k, toks[first].start, toks[k].end)
    for x in chain:
        m.subjects += subject_list(toks[x])
        toks[x].owner = m
    return m


def _descriptive_gap(text: str, a: int, b: int) -> bool:
    """Descriptive words set off by commas or brackets between a grade and its finding ("severe,
    eccentric, anteriorly directed MR", "severe primary (degenerative) MR"): the grade still reaches."""
    gap = text[a:b]
    if "," in gap and not gap.lstrip().startswith(","):
        return False  # "small cavity, LVEF 58 %": the comma ends the grade's phrase
    bare = lexicon().filler.sub(" ", gap)
    return bool(re.search(r"[A-Za-z]", gap)) and re.fullmatch(r"[\s,()]*", bare) is not None


def _denied_alternative(text: str, merged: list[Tok], t: Tok) -> bool:
    """A grade offered as the alternative of a negated one ("no moderate or severe MR", "no
    moderate/severe AR"): the negation denies both, and the first grade stands for them."""
    prev = merged[-1] if merged else None
    if prev is not None and prev.kind == "sep" and len(merged) >= 2:
        return merged[-2].kind == "grade" and merged[-2].negated \
            and text[prev.start:prev.end].lower() in ("or", "nor")
    return prev is not None and prev.kind == "grade" and prev.negated \
        and re.fullmatch(r"\s*/\s*", text[prev.end:t.start]) is not None


def merge_grades(text: str, toks: list[Tok]) -> list[Tok]:
    """Adjacent grade words become one ("mildly" + "dilated"); "not", "no" or "without" right before a
    grade negates it ("well seated, no dehiscence": the prosthesis is there, its dehiscence is not)."""
    merged: list[Tok] = []
    for t in toks:
        if t.kind != "grade":  # only grades merge
            merged.append(t)
            continue
        prev = merged[-1] if merged else None
        if _denied_alternative(text, merged, t):
            if prev is not None and prev.kind == "sep":
                merged.pop()
            continue  # "no moderate or severe MR": the negated grade covers the alternative
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


def bind_grades(text: str, toks: list[Tok], mentions: dict[int, Mention]) -> list[Mention]:
    """Each grade joins a head (prefix, else postfix) or bare subjects, which then make a mention of
    their own with an implied head ("mildly dilated LV and RA"); returns those implied mentions."""
    implied: list[Mention] = []
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


def _grade_target(text: str, toks: list[Tok], mentions: dict[int, Mention],
                  k: int) -> tuple[Mention | None, bool]:
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
    while (j < len(toks) and (toks[j].kind in SUBJ_SEP or is_modifier(toks[j]))
           and (gap_ok(text, last, toks[j].start, comma=wall_list(toks, j))
                or _stacked(text, last, toks[j].start)) and not _own_grade(text, toks, j)):
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
            gap_ok(text, last, toks[j].start, comma=False) or _stacked(text, last, toks[j].start)
            or (not subs and last == g.end and g.degree and _descriptive_gap(text, last, toks[j].start))):
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
        target = Mention(k, g.start, toks[subs[-1]].end, grade_prefix=True)
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


def _own_grade(text: str, toks: list[Tok], j: int) -> bool:
    """A subject right before a grade of its own is that grade's, not one more of the subjects an
    earlier grade lists ("akinesis of the mid and apical segments and basal hyperkinesis")."""
    return (toks[j].kind in SUBJ and j + 1 < len(toks) and toks[j + 1].kind == "grade"
            and gap_ok(text, toks[j].end, toks[j + 1].start, comma=False))


def _finding(m: Mention) -> bool:
    """Whether a mention names a finding (its head has concepts), not a property of one."""
    return m.term is not None and m.term.head in rules().head_concepts


def _stacked(text: str, a: int, b: int) -> bool:
    """Adjectives stacked with commas between a grade and its head ("severe eccentric, anteriorly
    directed MR"): each comma-separated part holds filler words only, and none is empty."""
    gap = text[a:b]
    if "," not in gap or any(c in gap for c in ";:()"):
        return False
    return all(part.strip() and gap_ok(part, 0, len(part), 0) for part in gap.split(","))


def _open(m: Mention) -> bool:
    """A mention that can still take a grade word (it lacks a degree or a direction); a phrase that
    names fixed facts takes none ("spontaneous echo contrast in a moderately dilated LA")."""
    if m.term is not None and not m.term.head:
        return False
    return m.degree is None or m.direction is None


def _same_direction(m: Mention, g: Tok) -> bool:
    """A grade word with a direction of its own never grades a finding of another direction, only
    its degree: "The RV is hypertrophied and mildly dilated" is a mildly dilated RV, not a mild LVH."""
    return m.direction is None or g.direction is None or m.direction == g.direction


def distribute_prefix_grades(text: str, toks: list[Tok], mentions: dict[int, Mention]) -> None:
    """A prefix grade distributes over coordinated heads ("Mild MR and TR")."""
    order = sorted(mentions)
    for a, b in zip(order, order[1:], strict=False):
        ma, mb = mentions[a], mentions[b]
        if (ma.grade_prefix and mb.degree is None and mb.direction is None
                and mb.term is not None and not mb.term.drop_ungraded
                and all(toks[x].kind in SUBJ_SEP for x in range(a + 1, b))
                and gap_ok(text, toks[a].end, toks[b].start, 0)):
            mb.degree, mb.direction, mb.grade_prefix = ma.degree, ma.direction, True
        elif (ma.grade_prefix and ma.degree is not None and mb.degree is None and mb.term is not None
              and mb.term.direction is not None and mb.direction == mb.term.direction
              and toks[b - 1].kind == "sep" and all(toks[x].kind in SUBJ_SEP for x in range(a + 1, b))
              and gap_ok(text, toks[a].end, toks[b].start, 0)):
            mb.degree = ma.degree  # "severe RV dilatation and dysfunction": a severe dysfunction


def find_subjects(text: str, toks: list[Tok], mentions: dict[int, Mention], i: int,
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
    while b > 0 and toks[b - 1].kind in SUBJ_SEP and gap_ok(text, toks[b - 1].end, toks[b].start, 0):
        b -= 1
        out = [s for s in subject_list(toks[b]) if s[0] in table] + out
    return out


def _subjects_before(text: str, toks: list[Tok], i: int, m: Mention) -> list[tuple[str, str | None]]:
    """Subjects coordinated right before the head at ``i`` ("LV and RV [dilatation]")."""
    chain, last = [], toks[i].start
    for b in range(i - 1, -1, -1):
        if toks[b].owner is not None and toks[b].owner is not m:
            break
        if toks[b].kind in SUBJ_SEP or (toks[b].kind == "grade" and toks[b].owner is m):
            if not gap_ok(text, toks[b].end, last):
                break
            chain += subject_list(toks[b]) if toks[b].kind in SUBJ else []
            last = toks[b].start
        else:
            break
    return chain


def _subjects_after(text: str, toks: list[Tok], mentions: dict[int, Mention],
                    i: int) -> list[tuple[str, str | None]]:
    """Subjects after the head at ``i`` ("dilatation of the LV"; "size and function of both
    ventricles", skipping the coordinated heads; "dysfunction light of the VD", past its own grade)."""
    chain: list[tuple[str, str | None]] = []
    j = i + 1
    while j < len(toks) and (toks[j].kind in ("sep", "num") or j in mentions
                             or (toks[j].kind == "grade" and toks[j].owner is mentions[i])):
        j += 1
    if j < len(toks) and toks[j].kind in SUBJ and _OF_THE.fullmatch(text, toks[j - 1].end, toks[j].start):
        while j < len(toks) and toks[j].kind in SUBJ_SEP:
            chain += subject_list(toks[j])
            j += 1
    return chain
