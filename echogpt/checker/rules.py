"""The prose fact-extraction rules (``resources/fact_rules.json``), validated and compiled once.

Owns the rule models (unknown keys are errors), the single compiled token pattern that the
extractor scans text with, grade resolution onto the fact vocabulary and the checker's scales
and numeric tolerances.

    lex = lexicon(); lex.by_pair["mi"].match("Mild MR.")
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from echogpt import units
from echogpt.schemas import concept_vocabulary


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Term(_Model):
    """A word or phrase: a head (concept resolved with a subject), a measurement name or fixed facts."""

    p: list[str]
    head: str | None = None
    subject: str | None = None
    direction: str | None = None
    degree: str | None = None
    field: str | dict[str, str] | None = Field(None, description="measurement the next number belongs to")
    facts: list[dict[str, Any]] = Field(default_factory=list)
    drop_ungraded: bool = Field(False, description="an ungraded mention only names a measurement")
    ignore: bool = Field(False, description="matched only to hide words from other rules")
    modifier: bool = Field(False, description="an adjective that never takes a grade (rheumatic)")


class Tolerance(_Model):
    abs: float = Field(0.0, ge=0)
    rel: float = Field(0.0, ge=0)


class Tolerances(_Model):
    about: str = Field(alias="_about")
    fields: dict[str, Tolerance]
    dimensions: dict[str, Tolerance]


class Scale(_Model):
    concepts: list[str]
    grades: dict[str, tuple[float, float]]


class Walls(_Model):
    levels: dict[str, str]
    names: dict[str, str]
    global_: list[str] = Field(alias="global")
    basal: list[str]
    territories: dict[str, list[str]]
    segments: dict[str, list[int]]
    source: str = Field(alias="_source")


class Grades(_Model):
    degree: dict[str, list[str]]
    direction: dict[str, list[str]]
    adverb: dict[str, str]


class CueLists(_Model):
    pre: list[str]
    post: list[str]
    not_significant: list[str] = Field(default_factory=list)


class DerivedFact(_Model):
    """A fact that follows from another by a guideline rule (grade II diastolic -> elevated LAP)."""

    if_: dict[str, str] = Field(alias="if")
    min_value: float | None = Field(None, description="the 'if' fact's value must reach this")
    then: dict[str, str]
    source: str


class FactRules(_Model):
    """The whole rule file. Allowed keys are exactly the fields below."""

    about: str = Field(alias="_about")
    subjects: dict[str, list[str]]
    subject_expansion: dict[str, list[str]]
    subject_fields: dict[str, str]
    terms: list[Term]
    case_sensitive: dict[str, Term | dict[str, Any]]
    grades: Grades
    head_concepts: dict[str, dict[str, tuple[str, str | None]]]
    implied_heads: dict[str, list[str]]
    default_direction: dict[str, str]
    grade_aliases: dict[str, dict[str, str]]
    negation: CueLists
    hedge: CueLists
    terminators: list[str]
    separators: list[str]
    fillers: list[str]
    comparison_cues: list[str]
    tee_only_locations: list[str]
    prior_sentence_cues: list[str]
    ungraded_means_abnormal: list[str]
    bubble_study_cues: list[str]
    evidence_required: list[str]
    lenient_normal_concepts: list[str]
    walls: Walls
    scales: dict[str, Scale | str]
    tolerances: Tolerances
    normal_study_allows: dict[str, float]
    derived_facts: list[DerivedFact]
    families: dict[str, list[str] | str]
    comparison_direction: dict[str, list[str]]


@cache
def rules() -> FactRules:
    """The validated rule file (cached)."""
    text = resources.files("echogpt.resources").joinpath("fact_rules.json").read_text("utf-8")
    data = FactRules.model_validate(json.loads(text))
    vocab = concept_vocabulary()
    for head, table in data.head_concepts.items():
        for subject, (concept, _loc) in table.items():
            if concept not in vocab:
                raise ValueError(f"fact_rules.json head_concepts.{head}.{subject}: unknown concept {concept}")
    return data


def _rx(pattern: str) -> str:
    """A rule pattern as regex source: spaces match runs of spaces or hyphens."""
    return pattern.replace(" ", r"[\s\-]+")


class _Lazy(dict):  # type: ignore[type-arg]
    """Character -> compiled alternation, compiled when first asked (non-ASCII text is rare)."""

    def __init__(self, sources: dict[str, str]) -> None:
        super().__init__()
        self.sources = sources

    def get(self, key: str, default: Any = None) -> re.Pattern[str] | None:  # type: ignore[override]
        rx = dict.get(self, key)
        if rx is None and key in self.sources:
            rx = self[key] = re.compile(self.sources[key], re.IGNORECASE)
        return default if rx is None else rx


@dataclass
class Lexicon:
    """Everything the extractor needs, compiled: one token pattern and lookup tables."""

    by_char: _Lazy  # any word start: the rules for its first character (compiled on first use)
    by_pair: dict[str, re.Pattern[str] | None]  # ASCII word starts: the rules for its first two letters
    payloads: dict[str, tuple[str, Any]]
    parts: tuple[str, ...]  # every rule as a named group (in the order the alternations try them)
    sentence_end: re.Pattern[str]
    filler: re.Pattern[str]
    comparison: re.Pattern[str]
    wall_parse: re.Pattern[str]
    bubble: re.Pattern[str] | None = None
    direction: dict[str, re.Pattern[str]] = field(default_factory=dict)
    scale_of: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)


_NUM = (r"(?:(?:<|>|≤|≥|<=|>=|less than|greater than|more than|above|below|under|over|up to|at least"
        r"|approximately|approx\.?|about|around|~|≈)\s*)?\d+(?:\.\d+)?(?:\s*%)?"
        r"(?:\s*(?:-|–|—|to)\s*\d+(?:\.\d+)?)?(?:\s*(?:x|×|by)\s*\d+(?:\.\d+)?)?"
        r"(?:\s*(?:mm\s?hg|cm2|cm²|cm\^2|sq\.?\s?cm|cm/sec|cm/s|m/sec|m/s|ml/m2|ml/m²|g/m2|g/m²|ml|cc"
        r"|mm|cm|msec|ms|%|percent|bpm))?")


def first_chars(src: str) -> set[str]:
    """Lower-case characters a pattern can start with (every character when that is unknowable)."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]

    every = set("abcdefghijklmnopqrstuvwxyz0123456789<>~≈≤≥+&/%-–") | {"*"}

    def first(seq: Any) -> tuple[set[str], bool]:  # (chars, can be empty)
        out: set[str] = set()
        for op, av in seq:
            if op is c.LITERAL:
                return out | {chr(av).lower()}, False
            if op is c.IN:
                chars: set[str] = set()
                for iop, iav in av:
                    if iop is c.LITERAL:
                        chars.add(chr(iav).lower())
                    elif iop is c.RANGE:
                        chars |= {chr(x).lower() for x in range(iav[0], iav[1] + 1)}
                    else:
                        return out | every, False
                return out | chars, False
            if op is c.SUBPATTERN:
                got, empty = first(av[3])
            elif op is c.BRANCH:
                got, empty = set(), False
                for b in av[1]:
                    g, e = first(b)
                    got, empty = got | g, empty or e
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
                got, empty = first(av[2])
                empty = empty or av[0] == 0
            elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
                continue
            else:
                return out | every, False
            out |= got
            if not empty:
                return out, False
        return out, True

    chars, _ = first(_parser.parse(src, re.IGNORECASE))
    return chars


REGEX_CATEGORIES = {f"CATEGORY_{name}": re.compile(rx) for name, rx in (
    ("DIGIT", r"\d"), ("NOT_DIGIT", r"\D"), ("SPACE", r"\s"), ("NOT_SPACE", r"\S"), ("WORD", r"\w"),
    ("NOT_WORD", r"\W"))}


def first_pairs(src: str) -> set[str] | None:
    """Lower-case two-character starts a pattern can match; a one-character string where a match may
    end after one character; None when that is unknowable. Over-approximates, never misses a start."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]

    class Unknown(Exception):
        pass

    def step(open_: set[str], seq: Any) -> set[str]:  # open starts -> starts after the sequence
        for op, av in seq:
            short = {x for x in open_ if len(x) < 2}
            if not short:
                return open_
            done = open_ - short
            if op is c.LITERAL:
                short = {x + chr(av).lower() for x in short}
            elif op is c.IN:
                chars: set[str] = set()
                for iop, iav in av:
                    if iop is c.LITERAL:
                        chars.add(chr(iav).lower())
                    elif iop is c.RANGE and iav[1] - iav[0] < 128:
                        chars |= {chr(x).lower() for x in range(iav[0], iav[1] + 1)}
                    elif iop is c.CATEGORY and str(iav) in REGEX_CATEGORIES:
                        # \d, \s, \w: only the ASCII characters count, as pairs are looked up for
                        # ASCII text alone (numbers would otherwise be tried at every word start)
                        category = REGEX_CATEGORIES[str(iav)]
                        chars |= {chr(x).lower() for x in range(128) if category.match(chr(x))}
                    else:
                        raise Unknown
                short = {x + ch for x in short for ch in chars}
            elif op is c.SUBPATTERN:
                short = step(short, av[3])
            elif op is c.BRANCH:
                short = set().union(*(step(short, b) for b in av[1]))
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
                reach, cur = set(short) if av[0] == 0 else set(), short
                for _ in range(3):  # any count from the least (over-approximates the upper bound)
                    cur = step(cur, av[2])
                    reach |= cur
                short = reach
            elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
                continue
            else:
                raise Unknown
            open_ = done | short
        return open_

    try:
        return step({""}, _parser.parse(src, re.IGNORECASE))
    except Unknown:
        return None


@cache
def lexicon() -> Lexicon:
    """Compile the rules into one alternation (longest pattern first, numbers last)."""
    r = rules()
    alts: list[tuple[str, str, Any]] = []  # (regex source, kind, payload)
    for code, pats in r.subjects.items():
        expanded = r.subject_expansion.get(code, [code])
        for p in pats:
            alts.append((_rx(p), "subj", (expanded, r.subject_fields.get(code))))
    for term in r.terms:
        for p in term.p:
            alts.append((_rx(p), "term", term))
    for word, spec in r.case_sensitive.items():
        term = spec if isinstance(spec, Term) else Term(p=[word], **spec)
        if term.head is None and term.subject and not term.direction:
            alts.append((f"(?-i:{word})", "subj", ([term.subject], None)))
        elif term.head is None and term.direction:
            alts.append((f"(?-i:{word})", "grade", (None, term.direction)))
        else:
            alts.append((f"(?-i:{word})", "term", term))
    for degree, pats in r.grades.degree.items():
        alts += [(_rx(p), "grade", (degree, None)) for p in pats]
    for direction, pats in r.grades.direction.items():
        alts += [(_rx(p), "grade", (None, direction)) for p in pats]
    alts += [(_rx(p), "negsig", None) for p in r.negation.not_significant]
    alts += [(_rx(p), "neg", None) for p in r.negation.pre]
    alts += [(_rx(p), "negpost", None) for p in r.negation.post]
    alts += [(_rx(p), "hedge", None) for p in r.hedge.pre]
    alts += [(_rx(p), "hedgepost", None) for p in r.hedge.post]
    alts += [(_rx(p), "stop", None) for p in r.terminators]
    alts += [(_rx(p), "sep", None) for p in r.separators]
    w = r.walls
    levels = "|".join(_rx(x) for x in sorted(w.levels, key=len, reverse=True))
    names = "|".join(_rx(x) for x in sorted(w.names, key=len, reverse=True))
    wall = (rf"(?:(?:{levels})(?:\s*(?:,|and|/|-|to|&)\s*(?:{levels}))*[\s\-]+)?(?:{names})"
            r"(?:[\s\-]+(?:walls?|segments?|regions?))?")
    alts.sort(key=lambda a: len(a[0]), reverse=True)
    # Wall names come after every other word so that "septal thickness" stays a measurement name.
    walls = [(wall, "wall", None), (r"apical(?:[\s\-]+(?:walls?|segments?|regions?))?", "wall", None)]
    for terr, pats in w.territories.items():
        src = "|".join(_rx(p) for p in pats)
        walls.append((rf"(?:{src})(?:[\s\-]+(?:territory|distribution|region|infarct))?", "wallterr", terr))
    walls += [(_rx(p), "wallterr", "global") for p in w.global_]
    walls += [(_rx(p), "wallterr", "basal") for p in w.basal]
    alts += walls
    alts.append((_NUM, "num", None))
    payloads: dict[str, tuple[str, Any]] = {}
    buckets: dict[str, list[str]] = {}
    pair_buckets: dict[str, list[str]] = {}
    wild: dict[str, list[str]] = {}  # per first character: rules whose second character is open
    parts = []
    for i, (src, kind, payload) in enumerate(alts):
        name = f"g{i}"
        payloads[name] = (kind, payload)
        # Symbols may follow a match; letters and digits may not (whole words only).
        part = rf"(?P<{name}>(?:{src})(?![A-Za-z0-9]))"
        parts.append(part)
        firsts = first_chars(src)
        for ch in firsts:
            buckets.setdefault(ch, []).append(part)
        pairs = first_pairs(src)
        pairs = None if pairs is None or "" in pairs else pairs
        for ch in firsts if pairs is None else {x[0] for x in pairs if len(x) == 1}:
            wild.setdefault(ch, []).append(part)
        for pair in pairs or ():
            if len(pair) == 2:
                pair_buckets.setdefault(pair, []).append(part)
    # One small alternation per first character: a token start tries only the rules that can match.
    by_char = _Lazy({ch: "|".join(parts) for ch, parts in buckets.items()})
    # Finer still for ASCII text: one per first two characters (in rule order).
    rank = {part: i for i, part in enumerate(parts)}
    compiled: dict[str, re.Pattern[str]] = {}
    by_pair: dict[str, re.Pattern[str] | None] = {}
    for first in set(wild) | {pair[0] for pair in pair_buckets}:
        for second in map(chr, range(128)):
            key = first + second
            if not key.isascii() or key != key.lower():
                continue
            chosen = sorted({*pair_buckets.get(key, ()), *wild.get(first, ())}, key=rank.__getitem__)
            src = "|".join(chosen)
            if src and src not in compiled:
                compiled[src] = re.compile(src, re.IGNORECASE)
            by_pair[key] = compiled[src] if src else None
    fill = "|".join(_rx(x) for x in sorted(r.fillers + r.separators, key=len, reverse=True))
    cmp_src = "|".join(_rx(x) for x in r.comparison_cues)
    wall_parse = re.compile(rf"(?P<lv>{levels})|(?P<nm>{names})", re.IGNORECASE)
    lex = Lexicon(
        by_char=by_char, by_pair=by_pair, payloads=payloads, parts=tuple(parts),
        # a full stop ends a sentence unless it is a decimal point ("2.5"); the leading character
        # class lets the regex engine skip ahead to candidate characters
        sentence_end=re.compile(r"[;!?\n]|\.(?:(?<!\d\.)(?!\d)|(?<=\d\.)(?=\s|$))"),
        filler=re.compile(rf"(?<![A-Za-z0-9])(?:{fill})(?![A-Za-z0-9])|[\s,:()\-–/.]+", re.IGNORECASE),
        comparison=re.compile(rf"(?<![A-Za-z0-9])(?:{cmp_src})(?![A-Za-z0-9])", re.IGNORECASE),
        wall_parse=wall_parse)
    lex.bubble = re.compile("|".join(_rx(x) for x in r.bubble_study_cues), re.IGNORECASE)
    lex.direction = {k: re.compile("|".join(rf"(?<![A-Za-z0-9])(?:{_rx(x)})(?![A-Za-z0-9])" for x in v),
                                   re.IGNORECASE) for k, v in r.comparison_direction.items()}
    for scale in r.scales.values():
        if isinstance(scale, Scale):
            for concept in scale.concepts:
                lex.scale_of[concept] = scale.grades
    return lex


def wall_locations(text: str) -> list[str]:
    """Wall-motion locations named by a wall phrase ("basal and mid inferior wall" -> two segments)."""
    w, lex = rules().walls, lexicon()
    levels, name = [], None
    for m in lex.wall_parse.finditer(text):
        if m.group("lv"):
            levels.append(w.levels[_norm(m.group("lv"))])
        elif m.group("nm"):
            name = w.names[_norm(m.group("nm"))]
    if name is None:
        return ["apical"]
    if not levels or name == "apex":
        return [name]
    out: list[str] = []
    for level in dict.fromkeys(levels):
        out += _segment_names(level, name)
    return out


_SPACES = re.compile(r"[\s\-]+")


def _norm(s: str) -> str:
    return _SPACES.sub(" ", s.strip().lower())


def _segment_names(level: str, wall: str) -> list[str]:
    """17-segment names for a level and wall (apical level has only 4 walls; ASE15)."""
    if level == "apical":
        if wall in ("anteroseptal", "inferoseptal", "septal"):
            return ["apical_septal"]
        if wall in ("anterolateral", "inferolateral", "lateral"):
            return ["apical_lateral"]
        return [f"apical_{wall}"]
    if wall == "septal":
        return [f"{level}_anteroseptal", f"{level}_inferoseptal"]
    if wall == "lateral":
        return [f"{level}_anterolateral", f"{level}_inferolateral"]
    return [f"{level}_{wall}"]


@lru_cache(maxsize=4096)  # locations are a small vocabulary, asked for again and again
def segments_of(location: str | None) -> frozenset[int]:
    """The 17-segment numbers a wall-motion location covers (all 17 for None or 'global')."""
    seg = rules().walls.segments
    if location is None:
        return frozenset(seg["global"])
    if location in seg:
        return frozenset(seg[location])
    from echogpt.schemas import segment_number

    return frozenset([segment_number(location.replace("_", " "))])


@cache
def family_of() -> dict[str, frozenset[str]]:
    """Concept (or "concept:location") -> the members describing the same structure (``families``)."""
    out: dict[str, frozenset[str]] = {}
    for members in rules().families.values():
        if isinstance(members, list):
            for c in members:  # "concept" or "concept:location"
                out[c] = frozenset(members)
    return out


@cache  # few keys: concepts x grade words
def resolve_grade(concept: str, degree: str | None, direction: str | None) -> str | None:
    """The vocabulary grade of ``concept`` for a degree word and/or a direction word.

    "mildly" + "dilated" on lv_size gives "mildly_dilated"; "moderate" alone on valve_regurgitation
    gives "moderate"; "mild" alone on lv_size uses the concept's default direction.
    """
    r = rules()
    allowed = concept_vocabulary()[concept]["grades"]
    if not allowed:
        return None
    aliases = r.grade_aliases.get(concept, {})
    d = aliases.get(direction, direction) if direction else None
    cands: list[str] = []
    if degree:
        adv = r.grades.adverb.get(degree, degree)
        if d:
            cands.append(f"{adv}_{d}")
        elif concept in r.default_direction:
            cands.append(f"{adv}_{r.default_direction[concept]}")
    if d:
        cands.append(d)
    if degree:
        cands.append(aliases.get(degree, degree))
    for c in cands:
        c = aliases.get(c, c)
        if c in allowed:
            return c
    return None


def tolerance(field_name: str, value: float) -> float:
    """How far a stated number may sit from the study's value (canonical unit)."""
    tol = _tolerance_of(field_name)
    return max(tol.abs, tol.rel * abs(value))


@cache  # fields are a fixed table
def _tolerance_of(field_name: str) -> Tolerance:
    t = rules().tolerances
    return t.fields.get(field_name) or t.dimensions.get(units.spec(field_name).dimension) or Tolerance()
