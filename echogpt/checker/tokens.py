"""Tokens and numbers of clinical prose: the scan with the compiled rules, and measured values.

The lowest layer of fact extraction (``echogpt.checker.facts`` binds the tokens into facts): one token per
rule match (subject, head, grade, cue, number), the numbers that follow a measurement's name with
their units converted, and lesion sizes.

    [t.kind for t in tokens("Mild MR, EF 55%.")]  # ['grade', 'term', 'term', 'num']
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from echogpt import units
from echogpt.checker.lexicon import lexicon, wall_locations
from echogpt.schemas import Fact


@dataclass(slots=True)
class Tok:
    """One rule match: kind (subj, wallterr, term, grade, neg, negsig, negpost, hedge, hedgepost, stop,
    sep, num), its span, the rule's payload, and what binding later records on it."""

    kind: str
    start: int
    end: int
    payload: Any = None
    degree: str | None = None
    direction: str | None = None
    negated: bool = False
    bound: bool = False
    owner: Any = None


_START = re.compile(r"(?<![A-Za-z0-9])[^\s,.;:()\[\]'\"]")


def scan(text: str) -> Iterator[re.Match[str]]:
    """Rule matches left to right; at each word start only the rules that may start with its first
    character run (``Lexicon.by_first``)."""
    lex = lexicon()
    by_first, others = lex.by_first, lex.others
    search = _START.search
    pos = 0
    while True:
        s = search(text, pos)
        if s is None:
            return
        p = s.start()
        first = text[p]
        rx = by_first.get(first.lower(), others) if first.isascii() else lex.every
        m = rx.match(text, p)
        if m is not None and m.end() > p:
            yield m
            pos = m.end()
        else:
            pos = p + 1


def tokens(text: str) -> list[Tok]:
    """The tokens of a text.

    Args:
        text: Prose (a sentence or more).

    Returns:
        Tokens in text order; ignored words (pleural effusion, LV mass index) are dropped, wall
        phrases carry their 17-segment locations.
    """
    payloads = lexicon().payloads
    out = []
    for m in scan(text):
        kind, payload = payloads[m.lastgroup or ""]
        start, end = m.span()
        if start and text[start - 1] == "?" and (start == 1 or not text[start - 2].isalnum()):
            out.append(Tok("hedge", start - 1, start))  # "?aortic dissection": the question of the referral
        if kind == "term":
            if payload.ignore:
                continue
            out.append(Tok(kind, start, end, payload))
        elif kind == "grade":
            out.append(Tok(kind, start, end, payload, payload[0], payload[1]))
        elif kind == "wall":
            out.append(Tok("wallterr", start, end, wall_locations(_shared_levels(text, out, m.group()))))
        elif kind == "wallterr":
            out.append(Tok(kind, start, end, [payload]))
        else:
            out.append(Tok(kind, start, end, payload))
    return out


_PLURAL_WALLS = re.compile(r"(?:walls|segments)$", re.IGNORECASE)


def _shared_levels(text: str, before: list[Tok], phrase: str) -> str:
    """A wall phrase with the levels of the wall coordinated before it, where it names none and
    ends in a plural ("mid anterior and anteroseptal walls": the mid anteroseptal wall too)."""
    parse = lexicon().wall_parse
    if (len(before) < 2 or before[-1].kind != "sep" or before[-2].kind != "wallterr"
            or not _PLURAL_WALLS.search(phrase) or any(m.group("lv") for m in parse.finditer(phrase))):
        return phrase
    prev = text[before[-2].start:before[-2].end]
    levels = [m.group("lv") for m in parse.finditer(prev) if m.group("lv")]
    return f"{' and '.join(levels)} {phrase}" if levels else phrase


def gap_ok(text: str, a: int, b: int, max_words: int = 1, comma: bool = True) -> bool:
    """True when text[a:b] holds only filler words (and at most ``max_words`` other words)."""
    if b <= a:
        return True
    gap = text[a:b]
    if gap.isspace():
        return True
    if not comma and CLAUSE.search(gap):
        return False
    rest = lexicon().filler.sub(" ", gap).split()
    return len(rest) <= max_words


CLAUSE = re.compile(r"[,;:()]")


SUBJ = ("subj", "wallterr")
Subjects = tuple[tuple[str, str | None], ...]  # (chamber or valve, wall location) pairs


def with_changes(fact: Fact, **changes: Any) -> Fact:
    """A copy of ``fact`` with some fields changed, validated like any Fact."""
    return Fact(**{**fact.model_dump(), **changes})


def relocated(fact: Fact, start: int, end: int, source: str | None = None) -> Fact:
    """A copy of ``fact`` with a new span (and source)."""
    if source is None:
        return with_changes(fact, start=start, end=end)
    return with_changes(fact, start=start, end=end, source=source)


def wall_list(toks: list[Tok], j: int) -> bool:
    """A comma may separate wall names in a list ("mid anterior, apical septal and apex")."""
    return toks[j].kind == "wallterr" and j > 0 and toks[j - 1].kind == "wallterr"


def is_modifier(tok: Tok) -> bool:
    """An adjective rule that never takes a grade ("rheumatic mitral stenosis")."""
    return tok.kind == "term" and tok.payload.modifier


def subject_list(tok: Tok) -> list[tuple[str, str | None]]:
    """The (subject, wall location) pairs a token names: chambers, valves, walls, or a term's own."""
    if tok.kind == "subj":
        return [(s, None) for s in tok.payload[0]]
    if tok.kind == "wallterr":
        return [("wall", loc) for loc in tok.payload]
    if tok.kind == "term" and tok.payload.subject:
        return [(tok.payload.subject, None)]
    return []


_NUM = re.compile(r"(?P<q>[<>≤≥~≈]|less than|greater than|more than|above|below|under|over|up to|at least)?"
                  r"[^\d]*?(?P<a>\d+(?:\.\d+)?)\s*%?(?:\s*(?:-|–|—|to)\s*(?P<b>\d+(?:\.\d+)?))?"
                  r"(?:\s*(?:x|×|by)\s*(?P<c>\d+(?:\.\d+)?))?\s*(?P<u>[^\d\s].*)?$", re.IGNORECASE)


def field_of(toks: list[Tok], i: int, carry: Subjects) -> str | None:
    """The measurement field token ``i`` names ("mean gradient" is mitral after a mitral subject)."""
    t = toks[i]
    f = t.payload[1] if t.kind == "subj" else t.payload.field if t.kind == "term" else None
    if not isinstance(f, dict):
        return f
    for b in range(i, -1, -1):
        for subject, _ in subject_list(toks[b]):
            if subject in f:
                return f[subject]
    for subject, _ in carry:
        if subject in f:
            return f[subject]
    return f["*"]


def _valve_default(t: Tok, name: str) -> bool:
    """Whether ``name`` is the default field of a name that depends on its valve ("peak velocity")."""
    f = t.payload[1] if t.kind == "subj" else t.payload.field if t.kind == "term" else None
    return isinstance(f, dict) and f.get("*") == name


_CHANGE_IN = re.compile(r"\b(?:increase|decrease|rise|fall|drop|change|reduction)s?\s+(?:in|of)\s+"
                        r"(?:the\s+)?$", re.IGNORECASE)


# "Root growth 2 mm in 2 years", "51 mm at the sinuses, grown 4 mm": a word of change between a name
# and a number makes the number a change, not the measurement
_GROWTH = re.compile(r"\b(?:grow(?:n|th)|grew|enlarged by|increased by|expanded by|expansion|progression)\b",
                     re.IGNORECASE)
# "rose by 5 mmHg", "progression of Vmax by 0.3 m/s": a number right after "by" is a change's amount
_BY_AMOUNT = re.compile(r"\bby\s*[<>~]?$", re.IGNORECASE)


# "peak velocity across the defect", "gradient in the LVOT": a place named between a valve
# measurement's name and its number that is no valve takes the number away from the valve
_ACROSS = re.compile(r"\b(?:across|through|in|within|at)\s+(?:the\s+|a\s+)?(?!(?:aortic|mitral|tricuspid|"
                     r"pulmon\w*|valve|valvular|prosthe\w*|bioprosthe\w*|av|mv|tv|pv|rest|peak|the|a)\b)[a-z]",
                     re.IGNORECASE)


# "2 of 4 criteria", "3 out of 4 variables": a count, never a measurement's value
_COUNT = re.compile(r"\s*(?:of|out of)\s+\d", re.IGNORECASE)
# "18 -> 28 mmHg", "2.4 → 1.4 cm", "from 35 % to 50 %": the value now is the second
_ARROW = re.compile(r"\s*(?:-+>|→|=>)")
FROM = re.compile(r"\bfrom\s*$", re.IGNORECASE)  # "from" just before: "from 35 % to 50 %", "from moderate"
TO = re.compile(r"\s+to\s+", re.IGNORECASE)
_TO_NUMBER = re.compile(r"\s+to\s+[<>~]?\d", re.IGNORECASE)


def _value_now(text: str, n: Tok, since: bool) -> str:
    """A number's text without what an arrow or "from ... to" (``since``: "from" before it or its
    name) says was before."""
    raw = text[n.start:n.end]
    if raw.startswith(">") and text[max(0, n.start - 1):n.start] in ("-", "="):
        return raw[1:]  # the ">" of "18 -> 28" is an arrow's head, not "more than"
    if since and TO.search(raw):
        return TO.split(raw)[-1]
    return raw


# "a 5.6 cm ascending aorta": an article right before a number sizes the name that follows it
_SIZED = re.compile(r"\b(?:a|an)\s+$", re.IGNORECASE)


# "15 x 9 mm": the two dimensions of a lesion, never the value of one measurement
_PAIR = re.compile(r"\d\s*(?:x|×|by)\s*\d", re.IGNORECASE)


def numbers(text: str, toks: list[Tok], carry: Subjects) -> list[Fact]:
    """A ``measurement`` fact for each measurement name followed by a number that fits its field.

    Args:
        text: The sentence.
        toks: Its tokens.
        carry: The previous sentence's subjects (decide fields such as "mean gradient").

    Returns:
        The measurement facts, in the order of their names.
    """
    out = []
    for i, t in enumerate(toks):
        name = field_of(toks, i, carry) if t.kind in ("term", "subj") else None
        if not name or _CHANGE_IN.search(text, max(0, t.start - 40), t.start):
            continue  # "an increase in mean gradient of 18 mmHg" gives a change, not the gradient
        if i and toks[i - 1].kind in ("term", "subj", "wallterr") \
                and text[toks[i - 1].end:t.start].strip() == "/":
            continue  # "septum/posterior wall 1.4", "TAPSE/sPAP 0.19": a ratio's value, not the name's
        before = toks[i - 1] if i else None
        if before is not None and before.kind == "num" and not text[before.end:t.start].strip() \
                and ("%" in text[before.start:before.end] or _SIZED.search(text, 0, before.start)):
            fact = measure(name, text[before.start:before.end], before.start, t.end)
            if fact:  # "< 50 % collapse", "a 5.6 cm ascending aorta": a value right before its name
                out.append(fact)
                continue
        for j in range(i + 1, len(toks)):
            n = toks[j]
            since = n.kind == "num" and bool(FROM.search(text, 0, n.start) or FROM.search(text, 0, t.start))
            if n.kind == "num" and (_ARROW.match(text, n.end) or (_TO_NUMBER.match(text, n.end) and since)):
                continue  # "18 -> 28 mmHg", "from 2.4 cm to 1.4 cm": the first value is the earlier one
            if since and not TO.search(text[n.start:n.end]):
                break  # "decline from LVEF 58 %", "EF fell from 58 %": only the earlier value is given
            if n.kind == "num":
                near = n.start - t.end <= 60 and not units.indexed_for_raw(name, text[t.end:n.end + 6]) \
                    and not _COUNT.match(text, n.end) and not _PAIR.search(text, n.start, n.end) \
                    and not _GROWTH.search(text, t.end, n.start) \
                    and not _BY_AMOUNT.search(text, t.end, n.start)
                if near and _valve_default(toks[i], name) and _ACROSS.search(text, t.end, n.start):
                    near = False
                fact = measure(name, _value_now(text, n, since), t.start, n.end) if near else None
                if fact:
                    out.append(fact)
                break
            if (field_of(toks, j, carry) if n.kind in ("term", "subj") else None) is not None:
                break  # the next measurement name, even one no field holds ("inflow variation 12 %")
    return out


LESIONS = ("vegetation", "thrombus", "mass")
_LENGTH = re.compile(r"(\d+(?:\.\d+)?)(?:\s*(?:x|×|by)\s*(\d+(?:\.\d+)?))?\s*(mm|cm)\b", re.IGNORECASE)


def lesion_numbers(text: str, nums: list[tuple[int, int]], facts: list[Fact]) -> dict[int, tuple[int, int]]:
    """The number that sizes each vegetation, thrombus or mass ("a 1.2 cm vegetation", "0.6 x 0.8 cm").

    Args:
        text: The sentence.
        nums: Spans of its number tokens.
        facts: Its facts, measurements included (a number a measurement took is no lesion's size).

    Returns:
        Index of each sized lesion fact -> the span of its number (a length in mm or cm, within 60
        characters of the lesion's name: the nearest number no measurement took).
    """
    taken = {f.end for f in facts if f.concept == "measurement"}
    free = [n for n in nums if n[1] not in taken]
    out: dict[int, tuple[int, int]] = {}
    for k, f in enumerate(facts if free else []):
        if f.concept not in LESIONS or f.polarity == "absent":
            continue
        start, end = min(free, key=lambda n: abs(n[0] - (f.start or 0)))
        if _LENGTH.search(text, start, end) is not None and abs(start - (f.start or 0)) <= 60:
            out[k] = (start, end)
    return out


def lesion_sizes(text: str, nums: list[tuple[int, int]], facts: list[Fact]) -> list[Fact]:
    """Sizes of vegetations, thrombi and masses (``lesion_numbers``), in cm.

    Args:
        text: The sentence.
        nums: Spans of its number tokens.
        facts: Its facts, measurements included.

    Returns:
        The facts, each sized lesion replaced by a copy with its size (the others as they are).
    """
    out = list(facts)
    for k, (start, end) in lesion_numbers(text, nums, facts).items():
        m = _LENGTH.search(text, start, end)
        assert m is not None
        scale = 0.1 if m.group(3).lower() == "mm" else 1.0
        dims = sorted(float(x) * scale for x in m.groups()[:2] if x)
        out[k] = with_changes(out[k], value=round(dims[0], 3),
                              value_max=round(dims[-1], 3) if len(dims) > 1 else None, unit="cm")
    return out


def measure(name: str, raw: str, start: int, end: int) -> Fact | None:
    """A ``measurement`` fact from a number's text ("55-60 %", "14 mm", "<30%"), canonical unit.

    Returns None when the unit does not fit the field or a bare number is implausible for it.
    """
    m = _NUM.match(raw.strip())
    if not m:
        return None
    spec = units.spec(name)
    unit = (m.group("u") or "").strip().rstrip(".") or None
    if (unit and unit.lower() == "percent") or (unit is None and "%" in raw):
        unit = "%"
    try:
        lo = units.convert(name, float(m.group("a")), unit)
        upper = m.group("b") or m.group("c")
        hi = units.convert(name, float(upper), unit) if upper else lo
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
    return Fact(concept="measurement", location=name, value=round(lo, 4),
                value_max=round(hi, 4) if hi != lo else None, unit=spec.unit or None,
                source="text", start=start, end=end, rule=f"number:{name}")


_LINE = re.compile(r"[^\n]+")
# the kinds of token that state something of a finding (a grade, a number, a negation or a hedge)
STATING = frozenset({"grade", "num", "neg", "negsig", "negpost", "hedge", "hedgepost"})


def headings(text: str) -> list[tuple[int, int]]:
    """Spans of a text's headings: a line in capitals alone, in a text that is not all capitals, with
    no number, bullet, grade or negation, names a section or a clinic ("THROMBUS", "PULMONARY
    HYPERTENSION SCREENING CLINIC - TRANSTHORACIC ECHO"), not a finding; it still names the subject of
    the lines below it ("MITRAL VALVE" then "Regurgitation: moderate")."""
    if not any(c.islower() for c in text):
        return []
    out = []
    for m in _LINE.finditer(text):
        line = m.group().strip()
        if (not any(c.isalpha() for c in line) or any(c.islower() or c.isdigit() for c in line)
                or line[0] in "-*•+>" or any(t.kind in STATING for t in tokens(line))):
            continue
        out.append(m.span())
    return out
