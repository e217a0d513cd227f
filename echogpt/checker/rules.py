"""The prose fact-extraction rules (``resources/fact_rules.json``), validated and compiled once.

Owns the rule models (unknown keys are errors), the single compiled token pattern that the
extractor scans text with, grade resolution onto the fact vocabulary and the checker's scales
and numeric tolerances.

    lex = lexicon(); lex.by_first["m"].match("Mild MR.")
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
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
    field: str | dict[str, str] | None = Field(None, description="measurement the next number belongs to "
                                               "(by the subject named before it; '': none of the rules')")
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
    significant_after: list[str] = Field(default_factory=list, description="a grade word written after "
                                         "a negated finding that limits the negation to a significant one")


class DerivedFact(_Model):
    """A fact that follows from another by a guideline rule (grade II diastolic -> elevated LAP)."""

    if_: dict[str, str] = Field(alias="if")
    min_value: float | None = Field(None, description="the 'if' fact's value must reach this")
    then: dict[str, str]
    source: str


class SupportRule(_Model):
    """A claim the study supports through what the guideline derives it from (``supported_by``)."""

    claim: dict[str, Any]
    if_: dict[str, Any] = Field(alias="if")
    unless: dict[str, Any] | None = None
    source: str


class SupportRules(_Model):
    """The clinical syntheses."""

    about: str = Field(alias="_about")
    rules: list[SupportRule]


class NotCheckedTopic(_Model):
    """Cues of a clinical topic the rules cannot verify; ``flags``: a would-be flag becomes not_checked."""

    cues: list[str]
    flags: bool = False


class NotChecked(_Model):
    """Topics outside the rules (``not_checked`` verdicts)."""

    about: str = Field(alias="_about")
    topics: dict[str, NotCheckedTopic]


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
    prior_cue_exceptions: list[str]
    prior_section: str
    prior_mentioned: list[str] = Field(default_factory=list, description="words of an indication that "
                                       "say an earlier study exists ('last study 2 years ago', 'follow-up')")
    ungraded_means_abnormal: list[str]
    bubble_study_cues: list[str]
    evidence_required: list[str]
    lenient_normal_concepts: list[str]
    walls: Walls
    scales: dict[str, Scale | str]
    tolerances: Tolerances
    normal_study_allows: dict[str, float]
    structure_only_ignores: list[str] = Field(description="function findings a 'structurally normal heart' "
                                              "says nothing about (a hyperdynamic LV)")
    derived_facts: list[DerivedFact]
    families: dict[str, list[str] | str]
    comparison_direction: dict[str, list[str]]
    direction_ef_only: list[str] = Field(description="direction words that decide only for LVEF (a decreased "
                                         "effusion is better, a decreased EF worse)")
    not_checked: NotChecked
    stress_phase_cues: dict[str, str | list[str]]
    not_factual_cues: list[str] = Field(description="a recommendation or plan: no finding of this study")
    graded_properties: list[str] = Field(
        default_factory=list,
        description="words for a part or property no rule reads: a grade written right before one grades "
                    "that property, not the chamber or valve named before it ('Aortic valve: trileaflet, "
                    "normal opening' says nothing of regurgitation or the aorta)")
    supported_by: SupportRules
    not_describing: list[str] = Field(
        default_factory=list, description="a chamber's name that describes something else: a rhythm "
        "('atrial fibrillation'), a device or contrast in it ('lead in the RA', 'RA opacification'), a view "
        "that did not show it")
    graded_from: dict[str, list[str] | str] = Field(
        description="the measurement fields a concept's grade is derived from: findings that name one of "
                    "them speak of the concept even where the rules read no value")


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
    for concept in data.graded_from:
        if concept != "_about" and concept not in vocab:
            raise ValueError(f"fact_rules.json graded_from: unknown concept {concept}")
    return data


def _rx(pattern: str) -> str:
    """A rule pattern as regex source: spaces match runs of spaces or hyphens."""
    return pattern.replace(" ", r"[\s\-]+")


def rule_regex(patterns: list[str]) -> re.Pattern[str]:
    """Rule patterns as one case-insensitive regex of whole words (spaces match spaces or hyphens)."""
    alternatives = "|".join(_rx(x) for x in patterns)
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.I)


@dataclass
class Lexicon:
    """Everything the extractor needs, compiled: one token pattern and lookup tables."""

    by_first: dict[str, re.Pattern[str]]  # ASCII character (lower case) -> the rules that may start so
    others: re.Pattern[str]  # the rules whose first characters are not plain (``first_letters``)
    payloads: dict[str, tuple[str, Any]]
    parts: tuple[str, ...]  # every rule as a named group (in the order the alternations try them)
    sentence_end: re.Pattern[str]
    filler: re.Pattern[str]
    comparison: re.Pattern[str]
    wall_parse: re.Pattern[str]
    bubble: re.Pattern[str] | None = None
    direction: dict[str, re.Pattern[str]] = field(default_factory=dict)
    ef_only_direction: re.Pattern[str] = re.compile(r"(?!)")
    plan: re.Pattern[str] = re.compile(r"(?!)")
    property: re.Pattern[str] = re.compile(r"(?!)")  # a graded property right after a grade word
    outside_rules: re.Pattern[str] = re.compile(r"(?!)")  # any plan or not_checked cue (a quick test)
    unchecked: dict[str, tuple[re.Pattern[str], bool]] = field(default_factory=dict)  # topic -> (cues, flags)
    scale_of: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)

    @cached_property
    def every(self) -> re.Pattern[str]:
        """All the rules in one alternation, for a word that starts with a character outside ASCII (one
        that ignoring case matches an ASCII letter, "ſ" for "s", is rare enough not to sort out)."""
        return re.compile("|".join(self.parts), re.IGNORECASE)


_NUM = (r"(?:(?:<|>|≤|≥|<=|>=|less than|greater than|more than|above|below|under|over|up to|at least"
        r"|approximately|approx\.?|about|around|~|≈)\s*)?\d+(?:\.\d+)?(?:\s*%)?"
        r"(?:\s*(?:-|–|—|to)\s*\d+(?:\.\d+)?)?(?:\s*(?:x|×|by)\s*\d+(?:\.\d+)?)?"
        r"(?:\s*(?:mm\s?hg|cm2|cm²|cm\^2|sq\.?\s?cm|cm/sec|cm/s|m/sec|m/s|ml/m2|ml/m²|g/m2|g/m²|ml|cc"
        r"|mm|cm|msec|ms|%|percent|bpm))?")


_SYNTAX = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*\]|[()|]")  # an escape, a class, a parenthesis, a bar
_PLAIN = re.compile(r"[^\\^$.|?*+()\[\]{}\s](?![?*{])")  # a character standing for itself, not optional
_GROUP = re.compile(r"\(\?(?:-i)?:")  # "(?:" or "(?-i:" (a case-sensitive rule)
_OPTIONAL = re.compile(r"(?:[?*]|\{0?,\d*\}|\{0\})[?+]?")  # a quantifier that allows none


def first_letters(src: str) -> frozenset[str] | None:
    """The characters (lower case) a match of a rule pattern can start with, when that is plain to see.

    Plain: each alternative starts with a character that stands for itself, "\\d", or a group
    "(?:...)" of such alternatives (a group made optional adds what follows it). Anything else
    (a class, a look-around, an escape) gives None: the rule is then tried at every word start.

    Args:
        src: A rule pattern ("(?:mild|moderate)(?:ly)? dilated").

    Returns:
        The first characters ({"m"}), or None.
    """
    alternatives = _alternatives(src)
    if alternatives is None:
        return None
    out: set[str] = set()
    for alternative in alternatives:
        starts = _starts(alternative)
        if starts is None:
            return None
        out |= starts
    return frozenset(out)


def _alternatives(src: str) -> list[str] | None:
    """The pattern split at its bars outside parentheses; None when its parentheses do not balance."""
    parts, depth, last = [], 0, 0
    for m in _SYNTAX.finditer(src):
        depth += (m.group() == "(") - (m.group() == ")")
        if depth < 0:
            return None
        if m.group() == "|" and depth == 0:
            parts.append(src[last:m.start()])
            last = m.end()
    return [*parts, src[last:]] if depth == 0 else None


def _starts(alternative: str) -> set[str] | None:
    if _PLAIN.match(alternative):
        return {alternative[0].lower()}
    if alternative.startswith("\\d") and not _OPTIONAL.match(alternative, 2):
        return set("0123456789")
    group = _GROUP.match(alternative)
    if group is None:
        return None
    depth = 0
    for m in _SYNTAX.finditer(alternative):  # the group's closing parenthesis
        depth += (m.group() == "(") - (m.group() == ")")
        if depth == 0:
            break
    inner = first_letters(alternative[group.end():m.start()])
    optional = _OPTIONAL.match(alternative, m.end())
    if inner is None or optional is None:
        return None if inner is None else set(inner)
    after = _starts(alternative[optional.end():]) if alternative[optional.end():] else None
    return None if after is None else inner | after


@cache
def lexicon() -> Lexicon:
    """Compile the rules into one alternation (longest pattern first, then walls, numbers last)."""
    r = rules()
    w = r.walls
    levels = "|".join(_rx(x) for x in sorted(w.levels, key=len, reverse=True))
    names = "|".join(_rx(x) for x in sorted(w.names, key=len, reverse=True))
    alts = sorted(_word_rules(r), key=lambda a: len(a[0]), reverse=True)
    # Wall names come after every other word so that "septal thickness" stays a measurement name.
    alts += _wall_rules(w, levels, names)
    alts.append((_NUM, "num", None))
    payloads, parts, by_first, others = _compiled(alts)
    fill = "|".join(_rx(x) for x in sorted(r.fillers + r.separators, key=len, reverse=True))
    cmp_src = "|".join(_rx(x) for x in r.comparison_cues)
    lex = Lexicon(
        by_first=by_first, others=others, payloads=payloads, parts=parts,
        # a full stop ends a sentence unless it is a decimal point ("2.5") or one of a row of leader
        # dots ("AV Vmax ....... 2.8 m/s": a table's name and value), a question mark unless it
        # asks of the word it is joined to ("?aortic dissection": a hedge, ``tokens``); the leading
        # character class lets the regex engine skip ahead to candidate characters
        sentence_end=re.compile(r"[;!\n]|\?(?![A-Za-z])|(?<!\.)\.(?!\.)(?:(?<!\d\.)(?!\d)|(?<=\d\.)(?=\s|$))"),
        filler=re.compile(rf"(?<![A-Za-z0-9])(?:{fill})(?![A-Za-z0-9])|[\s,:()\-–/.]+", re.IGNORECASE),
        comparison=re.compile(rf"(?<![A-Za-z0-9])(?:{cmp_src})(?![A-Za-z0-9])", re.IGNORECASE),
        wall_parse=re.compile(rf"(?P<lv>{levels})|(?P<nm>{names})", re.IGNORECASE))
    lex.bubble = re.compile("|".join(_rx(x) for x in r.bubble_study_cues), re.IGNORECASE)
    lex.direction = {k: re.compile("|".join(rf"(?<![A-Za-z0-9])(?:{_rx(x)})(?![A-Za-z0-9])" for x in v),
                                   re.IGNORECASE) for k, v in r.comparison_direction.items()}
    lex.ef_only_direction = rule_regex(r.direction_ef_only)
    lex.plan = rule_regex(r.not_factual_cues)
    properties = "|".join(_rx(x) for x in r.graded_properties) or "(?!)"
    lex.property = re.compile(rf"[ \t]+(?:{properties})(?![A-Za-z0-9])", re.IGNORECASE)
    lex.unchecked = {k: (rule_regex(t.cues), t.flags) for k, t in r.not_checked.topics.items()}
    every_cue = [c for t in r.not_checked.topics.values() for c in t.cues]
    lex.outside_rules = rule_regex(every_cue + r.not_factual_cues)
    for scale in r.scales.values():
        if isinstance(scale, Scale):
            for concept in scale.concepts:
                lex.scale_of[concept] = scale.grades
    return lex


Rule = tuple[str, str, Any]  # (regex source, token kind, payload)


def _word_rules(r: FactRules) -> list[Rule]:
    """Subjects, terms, case-sensitive abbreviations, grade words and cue words, in file order."""
    alts: list[Rule] = []
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
    return alts


def _wall_rules(w: Walls, levels: str, names: str) -> list[Rule]:
    """Wall phrases ("basal and mid inferior wall"), coronary territories, global and basal words."""
    # "basal and mid", "mid/apical", "mid-to-apical": the levels of one wall
    wall = (rf"(?:(?:{levels})(?:\s*(?:,|and|/|-\s*to\s*-|-|to|&)\s*(?:{levels}))*[\s\-]+)?(?:{names})"
            r"(?:[\s\-]+(?:walls?|segments?|regions?))?")
    walls: list[Rule] = [(wall, "wall", None),
                         (r"apical(?:[\s\-]+(?:walls?|segments?|regions?))?", "wall", None)]
    for terr, pats in w.territories.items():
        src = "|".join(_rx(p) for p in pats)
        walls.append((rf"(?:{src})(?:[\s\-]+(?:territory|distribution|region|infarct))?", "wallterr", terr))
    walls += [(_rx(p), "wallterr", "global") for p in w.global_]
    walls += [(_rx(p), "wallterr", "basal") for p in w.basal]
    return walls


def _compiled(alts: list[Rule]) -> tuple[dict[str, tuple[str, Any]], tuple[str, ...],
                                         dict[str, re.Pattern[str]], re.Pattern[str]]:
    """Each rule as a named group, and the alternations a word start chooses from by its first
    character (``Lexicon.by_first``, ``Lexicon.others``)."""
    payloads: dict[str, tuple[str, Any]] = {}
    parts: list[str] = []
    firsts: list[frozenset[str] | None] = []
    for i, (src, kind, payload) in enumerate(alts):
        name = f"g{i}"
        payloads[name] = (kind, payload)
        # Symbols may follow a match; letters and digits may not (whole words only).
        parts.append(rf"(?P<{name}>(?:{src})(?![A-Za-z0-9]))")
        firsts.append(first_letters(src))
    # A word start tries only the rules that can start with its first character, in rule order.
    by_first = {}
    for ch in sorted({ch for chars in firsts if chars is not None for ch in chars if ch.isascii()}):
        chosen = [part for part, chars in zip(parts, firsts, strict=True) if chars is None or ch in chars]
        by_first[ch] = re.compile("|".join(chosen), re.IGNORECASE)
    others = re.compile("|".join(p for p, chars in zip(parts, firsts, strict=True) if chars is None)
                        or "(?!)", re.IGNORECASE)
    return payloads, tuple(parts), by_first, others


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
