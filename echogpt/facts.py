"""Facts from prose: clinical statements of an impression or a findings section become ``Fact``s.

The rules (words, abbreviations, negation and hedge cues, grade words) are data in
``resources/fact_rules.json``; this module scans a text once with their compiled pattern, binds
grades, locations and polarity to each mention, and reads numbers with units and ranges.
Facts from a whole study (prose plus structured fields) live in ``echogpt.study_facts``.

    extract_facts("No pericardial effusion, thrombus or vegetation.")
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from echogpt import units
from echogpt.fact_rules import Term, lexicon, resolve_grade, rules, wall_locations
from echogpt.schemas import Fact


@dataclass
class _Tok:
    kind: str
    start: int
    end: int
    payload: Any = None
    degree: str | None = None
    direction: str | None = None
    negated: bool = False
    bound: bool = False
    owner: Any = None


@dataclass
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


_START = re.compile(r"(?<![A-Za-z0-9])[^\s,.;:()\[\]'\"]")


def _matches(text: str):  # noqa: ANN202 - yields re.Match
    by_char = lexicon().by_char
    pos = 0
    while True:
        s = _START.search(text, pos)
        if s is None:
            return
        p = s.start()
        rx = by_char.get(text[p].lower())
        m = rx.match(text, p) if rx is not None else None
        if m is not None and m.end() > p:
            yield m
            pos = m.end()
        else:
            pos = p + 1


def _tokens(text: str) -> list[_Tok]:
    lex = lexicon()
    out = []
    for m in _matches(text):
        kind, payload = lex.payloads[m.lastgroup or ""]
        tok = _Tok(kind, m.start(), m.end(), payload)
        if kind == "grade":
            tok.degree, tok.direction = payload
        elif kind == "wall":
            tok.kind, tok.payload = "wallterr", wall_locations(m.group())
        elif kind == "wallterr":
            tok.payload = [payload]
        if kind == "term" and payload.ignore:
            continue
        out.append(tok)
    return out


def _gap_ok(text: str, a: int, b: int, max_words: int = 1, comma: bool = True) -> bool:
    """True when text[a:b] holds only filler words (and at most ``max_words`` other words)."""
    if b <= a:
        return True
    if not comma and any(c in text[a:b] for c in ",;:()"):
        return False
    rest = lexicon().filler.sub(" ", text[a:b]).split()
    return len(rest) <= max_words


_SUBJ = ("subj", "wallterr")
_DEFAULTS = {name: f.default for name, f in Fact.model_fields.items()}


def _fact(**values: Any) -> Fact:
    """A Fact built without validation (what ``model_construct`` does, minus its per-call overhead).

    The rules are validated against the vocabulary when they load, so every fact built here fits it;
    tests re-validate the extracted facts.
    """
    obj = Fact.__new__(Fact)
    object.__setattr__(obj, "__dict__", {**_DEFAULTS, **values})
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def _wall_list(toks: list[_Tok], j: int) -> bool:
    """A comma may separate wall names in a list ("mid anterior, apical septal and apex")."""
    return toks[j].kind == "wallterr" and j > 0 and toks[j - 1].kind == "wallterr"


def _is_modifier(tok: _Tok) -> bool:
    return tok.kind == "term" and tok.payload.modifier


def _subject_list(tok: _Tok) -> list[tuple[str, str | None]]:
    if tok.kind == "subj":
        return [(s, None) for s in tok.payload[0]]
    if tok.kind == "wallterr":
        return [("wall", loc) for loc in tok.payload]
    if tok.kind == "term" and tok.payload.subject:
        return [(tok.payload.subject, None)]
    return []


def _postfix_subjects(text: str, toks: list[_Tok], b: int, k: int) -> _Mention:
    """A mention for the grade at ``k`` over the subject at ``b`` and subjects coordinated before it."""
    chain, first = [b], b
    while True:
        if first - 2 >= 0 and toks[first - 1].kind == "sep" and toks[first - 2].kind in _SUBJ \
                and _gap_ok(text, toks[first - 2].end, toks[first].start, 0, comma=False):
            first -= 2
        elif first - 1 >= 0 and _wall_list(toks, first) and _gap_ok(
                text, toks[first - 1].end, toks[first].start, 0):
            first -= 1
        else:
            break
        chain.insert(0, first)
    m = _Mention(k, toks[first].start, toks[k].end)
    for x in chain:
        m.subjects += _subject_list(toks[x])
        toks[x].owner = m
    return m


def _sentence_facts(text: str, toks: list[_Tok], offset_facts: list[Fact],
                    carry: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """Facts of one sentence; ``carry`` is the previous sentence's last subject (returned updated)."""
    r = rules()
    # 1. merge "mildly" + "dilated", and bind "not" + grade
    merged: list[_Tok] = []
    for t in toks:
        prev = merged[-1] if merged else None
        if (t.kind == "grade" and prev is not None and prev.kind == "grade"
                and re.fullmatch(r"[\s\-]*(?:to\s+)?", text[prev.end:t.start])
                and (prev.direction is None) != (t.direction is None)):
            prev.direction = prev.direction or t.direction
            prev.degree = prev.degree or t.degree
            prev.end = t.end
            continue
        if (t.kind == "grade" and prev is not None and prev.kind == "neg"
                and text[prev.start:prev.end].lower() == "not" and not text[prev.end:t.start].strip()):
            t.negated = True
            merged[-1] = t
            continue
        merged.append(t)
    toks = merged
    mentions: dict[int, _Mention] = {}
    for i, t in enumerate(toks):
        if t.kind == "term" and (t.payload.head or t.payload.facts):
            mentions[i] = _Mention(i, t.start, t.end, term=t.payload, direction=t.payload.direction,
                                   degree=t.payload.degree, grade_prefix=t.payload.direction == "normal")
    implied: list[_Mention] = []
    # 2. bind each grade to a head (prefix, else postfix) or to bare subjects (implied head)
    for k, g in enumerate(toks):
        if g.kind != "grade":
            continue
        j, subs, last = k + 1, [], g.end
        while (j < len(toks) and (toks[j].kind in _SUBJ + ("sep",) or _is_modifier(toks[j]))
               and _gap_ok(text, last, toks[j].start, comma=_wall_list(toks, j))):
            if toks[j].kind in _SUBJ:
                subs.append(j)
            last = toks[j].end
            j += 1
        target = None
        b = k - 1
        adjacent = (b >= 0 and (b in mentions or toks[b].kind in _SUBJ)
                    and _gap_ok(text, toks[b].end, g.start, 0, comma=False))
        if j < len(toks) and j in mentions and _gap_ok(text, last, toks[j].start, comma=False):
            target = mentions[j]
            target.grade_prefix = True
        elif adjacent and b in mentions and (mentions[b].degree is None or mentions[b].direction is None):
            target = mentions[b]
        elif adjacent and toks[b].kind in _SUBJ:
            target = _postfix_subjects(text, toks, b, k)
            implied.append(target)
        elif subs:
            target = _Mention(k, g.start, toks[subs[-1]].end, grade_prefix=True)
            for x in subs:
                target.subjects += _subject_list(toks[x])
                toks[x].owner = target
            target.borrow = j < len(toks) and toks[j].kind == "grade"
            implied.append(target)
        else:
            for b in range(k - 1, -1, -1):
                if b in mentions and (mentions[b].degree is None or mentions[b].direction is None):
                    target = mentions[b]
                    break
                if toks[b].kind in _SUBJ:
                    target = _postfix_subjects(text, toks, b, k)
                    implied.append(target)
                    break
                if toks[b].kind == "stop" and text[toks[b].start:toks[b].end].lower() in ("but", "however"):
                    break
        if target is None:
            continue
        g.bound, g.owner = True, target
        target.degree = target.degree or g.degree
        target.direction = target.direction or g.direction
        target.start, target.end = min(target.start, g.start), max(target.end, g.end)
        if g.negated:
            target.polarity = "absent"
    # "severe right atrial and moderate right ventricular dilatation": the first grade borrows the head
    for m in implied:
        if m.borrow and m.direction is None:
            nxt = [i for i in sorted(mentions) if i > m.anchor]
            if nxt and all(toks[x].kind in _SUBJ + ("sep", "grade") for x in range(m.anchor + 1, nxt[0])):
                m.term = mentions[nxt[0]].term
                m.direction = m.term.direction if m.term else None
    # 3. a prefix grade distributes over coordinated heads ("Mild MR and TR")
    order = sorted(mentions)
    for a, b in zip(order, order[1:], strict=False):
        ma, mb = mentions[a], mentions[b]
        if (ma.grade_prefix and mb.degree is None and mb.direction is None
                and mb.term is not None and not mb.term.drop_ungraded
                and all(toks[x].kind in _SUBJ + ("sep",) for x in range(a + 1, b))
                and _gap_ok(text, toks[a].end, toks[b].start, 0)):
            mb.degree, mb.direction, mb.grade_prefix = ma.degree, ma.direction, True
    # 4. subjects of head mentions
    for i, m in mentions.items():
        term = m.term
        if term is None or not term.head:
            continue
        table = r.head_concepts.get(term.head, {})
        if term.subject:
            m.subjects = [(term.subject, None)]
            continue
        chain, last = [], toks[i].start
        for b in range(i - 1, -1, -1):
            if toks[b].owner is not None and toks[b].owner is not m:
                break
            if toks[b].kind in _SUBJ + ("sep",) or (toks[b].kind == "grade" and toks[b].owner is m):
                if not _gap_ok(text, toks[b].end, last):
                    break
                chain += _subject_list(toks[b]) if toks[b].kind in _SUBJ else []
                last = toks[b].start
            else:
                break
        j = i + 1  # "size and function of both ventricles": skip coordinated heads
        while j < len(toks) and (toks[j].kind in ("sep", "num") or j in mentions) and not chain:
            j += 1
        if not chain and j < len(toks) and toks[j].kind in _SUBJ and re.fullmatch(
                r"\s*(?:of|in|involving|at|on|within|along|from)?\s*(?:the\s+)?",
                text[toks[j - 1].end:toks[j].start], re.IGNORECASE):
            while j < len(toks) and toks[j].kind in _SUBJ + ("sep",):
                chain += _subject_list(toks[j])
                j += 1
        chain = [s for s in chain if s[0] in table]
        if not chain:
            for b in range(i - 1, -1, -1):
                cand = [s for s in _subject_list(toks[b]) if s[0] in table]
                if cand:
                    chain = cand
                    break
        if not chain and term.head == "function":
            # "bioprosthetic mitral prosthesis, normal function": the function of the prosthesis
            earlier = [mentions[b] for b in range(i - 1, -1, -1) if b in mentions]
            if earlier and earlier[0].term and earlier[0].term.head == "prosthesis":
                m.term, m.subjects = earlier[0].term, earlier[0].subjects
                continue
        if not chain:
            chain = [s for s in carry if s[0] in table]
        m.subjects = chain
    # 5. polarity: negation and hedge scopes
    everything = sorted(list(mentions.values()) + implied, key=lambda x: x.anchor)
    for k, t in enumerate(toks):
        if t.kind in ("neg", "negsig", "hedge"):
            pol = "uncertain" if t.kind == "hedge" else "absent"
            end = len(toks)
            for j in range(k + 1, len(toks)):
                if toks[j].kind == "stop" or (toks[j].kind == "grade" and j > k + 1):
                    end = j
                    break
            for m in everything:
                if k < m.anchor < end or (m.anchor == k + 1 and toks[m.anchor].kind == "grade"):
                    m.polarity = pol
                    m.not_significant = t.kind == "negsig"
        elif t.kind in ("negpost", "hedgepost"):
            pol = "uncertain" if t.kind == "hedgepost" else "absent"
            before = [m for m in everything if m.anchor < k]
            if before:
                last_m = before[-1]
                for m in before:
                    if m is last_m or all(toks[x].kind in _SUBJ + ("sep",) or x in mentions
                                          for x in range(m.anchor + 1, last_m.anchor)):
                        m.polarity = pol
    # 6. facts
    first = len(offset_facts)
    for m in everything:
        _emit(m, offset_facts)
    _numbers(text, toks, offset_facts, carry)
    _lesion_sizes(text, toks, offset_facts[first:])
    for t in reversed(toks):
        if _subject_list(t):
            return _subject_list(t)
    return carry


def _emit(m: _Mention, out: list[Fact]) -> None:
    r = rules()
    term = m.term
    pairs: list[tuple[str, str | None]] = []
    heads = [term.head] if term and term.head else r.implied_heads.get(m.direction or "", [])
    for head in heads:
        table = r.head_concepts.get(head, {})
        subs = m.subjects or ([("*", None)] if "*" in table else [])
        found = []
        for subject, wall in subs:
            key = subject if subject in table else ("*" if term and term.head and "*" in table else None)
            if key is None:
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
                "valve_regurgitation", "valve_stenosis", "pericardial_effusion", "thrombus"):
            grade, polarity = None, "absent"
            rule = None if term is None else rule
        if term and term.drop_ungraded and grade is None:
            continue
        out.append(_fact(concept=concept, location=loc, polarity=polarity, grade=grade,
                                        source="text", start=m.start, end=m.end, rule=rule))
    for spec in term.facts if term and not m.borrow else []:
        pol = spec.get("polarity", "present")
        if pol == "present":
            pol = m.polarity
        rule = spec.get("rule") or ("no-significant" if m.not_significant and pol == "absent" else None)
        grade = spec.get("grade") or resolve_grade(spec["concept"], m.degree, m.direction)
        out.append(_fact(concept=spec["concept"], location=spec.get("location"),
                                        grade=grade, polarity=pol, source="text",
                                        start=m.start, end=m.end, rule=rule))


_NUM = re.compile(r"(?P<q>[<>≤≥~≈]|less than|greater than|more than|above|below|under|over|up to|at least)?"
                  r"[^\d]*?(?P<a>\d+(?:\.\d+)?)\s*%?(?:\s*(?:-|–|—|to)\s*(?P<b>\d+(?:\.\d+)?))?"
                  r"(?:\s*(?:x|×|by)\s*(?P<c>\d+(?:\.\d+)?))?\s*(?P<u>[^\d\s].*)?$", re.IGNORECASE)


def _field_of(toks: list[_Tok], i: int, carry: list[tuple[str, str | None]]) -> str | None:
    t = toks[i]
    f = t.payload[1] if t.kind == "subj" else t.payload.field if t.kind == "term" else None
    if not isinstance(f, dict):
        return f
    for b in range(i, -1, -1):
        for subject, _ in _subject_list(toks[b]):
            if subject in f:
                return f[subject]
    for subject, _ in carry:
        if subject in f:
            return f[subject]
    return f["*"]


def _numbers(text: str, toks: list[_Tok], out: list[Fact], carry: list[tuple[str, str | None]]) -> None:
    for i, t in enumerate(toks):
        name = _field_of(toks, i, carry) if t.kind in ("term", "subj") else None
        if not name:
            continue
        for j in range(i + 1, len(toks)):
            n = toks[j]
            if n.kind == "num":
                if n.start - t.end <= 60:
                    fact = _measure(name, text[n.start:n.end], t.start, n.end)
                    if fact:
                        out.append(fact)
                break
            if _field_of(toks, j, carry) if n.kind in ("term", "subj") else False:
                break


_LESIONS = ("vegetation", "thrombus", "mass")
_LENGTH = re.compile(r"(\d+(?:\.\d+)?)(?:\s*(?:x|×|by)\s*(\d+(?:\.\d+)?))?\s*(mm|cm)\b", re.IGNORECASE)


def _lesion_sizes(text: str, toks: list[_Tok], facts: list[Fact]) -> None:
    """Sizes of vegetations, thrombi and masses ("a 1.2 cm vegetation", "0.6 x 0.8 cm"), in cm."""
    taken = {f.end for f in facts if f.concept == "measurement"}
    nums = [t for t in toks if t.kind == "num" and t.end not in taken]
    for f in facts:
        if f.concept not in _LESIONS or f.polarity == "absent" or not nums:
            continue
        near = min(nums, key=lambda t: abs(t.start - (f.start or 0)))
        m = _LENGTH.search(text, near.start, near.end)
        if m is None or abs(near.start - (f.start or 0)) > 60:
            continue
        scale = 0.1 if m.group(3).lower() == "mm" else 1.0
        dims = sorted(float(x) * scale for x in m.groups()[:2] if x)
        f.__dict__.update(value=round(dims[0], 3), value_max=round(dims[-1], 3) if len(dims) > 1 else None,
                          unit="cm")


def _measure(name: str, raw: str, start: int, end: int) -> Fact | None:
    m = _NUM.match(raw.strip())
    if not m:
        return None
    spec = units.spec(name)
    unit = (m.group("u") or "").strip().rstrip(".") or None
    if (unit and unit.lower() == "percent") or (unit is None and "%" in raw):
        unit = "%"
    try:
        lo = units.convert(name, float(m.group("a")), unit)
        hi = units.convert(name, float(m.group("b") or m.group("c") or m.group("a")), unit)
    except Exception:  # noqa: BLE001 - a unit that does not fit this measurement: not its number
        return None
    if unit is None and not spec.min <= lo <= spec.max:
        return None
    q = (m.group("q") or "").lower()
    if q in ("<", "≤", "less than", "below", "under", "up to"):
        lo, hi = spec.min, lo
    elif q in (">", "≥", "greater than", "more than", "above", "over", "at least"):
        lo, hi = lo, spec.max
    lo, hi = min(lo, hi), max(lo, hi)
    return _fact(concept="measurement", location=name, value=round(lo, 4),
                                value_max=round(hi, 4) if hi != lo else None, unit=spec.unit or None,
                                source="text", start=start, end=end, rule=f"number:{name}")


@lru_cache(maxsize=65536)
def _sentence_cached(sentence: str, carry: tuple[tuple[str, str | None], ...]
                     ) -> tuple[tuple[Fact, ...], tuple[tuple[str, str | None], ...]]:
    """Facts of one sentence (spans relative to it) and the subject it hands to the next one.

    Reports repeat sentences ("There is no pericardial effusion."), so sentences are memoised.
    """
    toks = _tokens(sentence)
    out: list[Fact] = []
    after = _sentence_facts(sentence, toks, out, list(carry)) if toks else list(carry)
    return tuple(out), tuple(after)


@lru_cache(maxsize=65536)
def _extract_cached(text: str) -> tuple[Fact, ...]:
    out: list[Fact] = []
    carry: tuple[tuple[str, str | None], ...] = ()
    start = 0
    ends = [m.end() for m in lexicon().sentence_end.finditer(text)] + [len(text)]
    for end in ends:
        if end > start and not text[start:end].isspace():
            facts, carry = _sentence_cached(text[start:end], carry)
            out += [_fact(**{**f.__dict__, "start": (f.start or 0) + start, "end": (f.end or 0) + start})
                    if start else f for f in facts]
        start = max(start, end)
    out.sort(key=lambda f: (f.start or 0, f.concept))
    return tuple(out)


def extract_facts(text: str, offset: int = 0) -> list[Fact]:
    """Facts asserted by a piece of prose (an impression statement or a findings section).

    Args:
        text: The prose.
        offset: Added to every span (the text's position in a larger document).

    Returns:
        Facts in text order, each with ``source="text"`` and its ``start``/``end`` span.
    """
    facts = _extract_cached(text)
    if not offset:
        return list(facts)
    return [_fact(**{**f.__dict__, "start": (f.start or 0) + offset, "end": (f.end or 0) + offset})
            for f in facts]


def mentions_comparison(text: str) -> bool:
    """True when a statement compares with a prior study ("new", "unchanged", "compared with")."""
    return lexicon().comparison.search(text) is not None
