"""The checker's rules compiled for reading prose: one token scanner over every word rule of
``resources/fact_rules.json`` (indexed by the characters a rule may start with), the cue patterns, and
the wall vocabulary (which segments a wall phrase names). ``rules.py`` validates the data; this module
compiles it once.

    toks = lexicon().by_first["m"].match(text, i)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from typing import Any

from echogpt.checker.rules import FactRules, Scale, Term, Walls, rule_regex, rule_source, rules


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


# a full stop ends a sentence unless it is a decimal point ("2.5") or one of a row of leader dots
# ("AV Vmax ....... 2.8 m/s": a table's name and value), a question mark unless it asks of the word it
# is joined to ("?aortic dissection": a hedge, ``tokens``); the leading character class lets the regex
# engine skip ahead to candidate characters
SENTENCE_END = re.compile(r"[;!\n]|\?(?![A-Za-z])|(?<!\.)\.(?!\.)(?:(?<!\d\.)(?!\d)|(?<=\d\.)(?=\s|$))")
# a number joined by a hyphen to a word makes that word ("5-beat average", "4-chamber", "2-D"): no value
_NUM = (r"(?:(?:<|>|≤|≥|<=|>=|less than|greater than|more than|above|below|under|over|up to|at least"
        r"|approximately|approx\.?|about|around|~|≈)\s*)?(?!\d+(?:\.\d+)?[-–][A-Za-z])\d+(?:\.\d+)?(?:\s*%)?"
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
    levels = "|".join(rule_source(x) for x in sorted(w.levels, key=len, reverse=True))
    names = "|".join(rule_source(x) for x in sorted(w.names, key=len, reverse=True))
    alts = sorted(_word_rules(r), key=lambda a: len(a[0]), reverse=True)
    # Wall names come after every other word so that "septal thickness" stays a measurement name.
    alts += _wall_rules(w, levels, names)
    alts.append((_NUM, "num", None))
    payloads, parts, by_first, others = _compiled(alts)
    fill = "|".join(rule_source(x) for x in sorted(r.fillers + r.separators, key=len, reverse=True))
    cmp_src = "|".join(rule_source(x) for x in r.comparison_cues)
    lex = Lexicon(
        by_first=by_first, others=others, payloads=payloads, parts=parts,
        sentence_end=SENTENCE_END,
        filler=re.compile(rf"(?<![A-Za-z0-9])(?:{fill})(?![A-Za-z0-9])|[\s,:()\-–/.]+", re.IGNORECASE),
        comparison=re.compile(rf"(?<![A-Za-z0-9])(?:{cmp_src})(?![A-Za-z0-9])", re.IGNORECASE),
        wall_parse=re.compile(rf"(?P<lv>{levels})|(?P<nm>{names})", re.IGNORECASE))
    lex.bubble = re.compile("|".join(rule_source(x) for x in r.bubble_study_cues), re.IGNORECASE)
    lex.direction = {k: re.compile("|".join(rf"(?<![A-Za-z0-9])(?:{rule_source(x)})(?![A-Za-z0-9])"
                                            for x in v), re.IGNORECASE)
                     for k, v in r.comparison_direction.items()}
    lex.ef_only_direction = rule_regex(r.direction_ef_only)
    lex.plan = rule_regex(r.not_factual_cues)
    properties = "|".join(rule_source(x) for x in r.graded_properties) or "(?!)"
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
            alts.append((rule_source(p), "subj", (expanded, r.subject_fields.get(code))))
    for term in r.terms:
        for p in term.p:
            alts.append((rule_source(p), "term", term))
    for word, spec in r.case_sensitive.items():
        term = spec if isinstance(spec, Term) else Term(p=[word], **spec)
        if term.head is None and term.subject and not term.direction:
            alts.append((f"(?-i:{word})", "subj", ([term.subject], None)))
        elif term.head is None and term.direction:
            alts.append((f"(?-i:{word})", "grade", (None, term.direction)))
        else:
            alts.append((f"(?-i:{word})", "term", term))
    for degree, pats in r.grades.degree.items():
        alts += [(rule_source(p), "grade", (degree, None)) for p in pats]
    for direction, pats in r.grades.direction.items():
        alts += [(rule_source(p), "grade", (None, direction)) for p in pats]
    alts += [(rule_source(p), "negsig", None) for p in r.negation.not_significant]
    alts += [(rule_source(p), "neg", None) for p in r.negation.pre]
    alts += [(rule_source(p), "negpost", None) for p in r.negation.post]
    alts += [(rule_source(p), "hedge", None) for p in r.hedge.pre]
    alts += [(rule_source(p), "hedgepost", None) for p in r.hedge.post]
    alts += [(rule_source(p), "stop", None) for p in r.terminators]
    alts += [(rule_source(p), "sep", None) for p in r.separators]
    return alts


def _wall_rules(w: Walls, levels: str, names: str) -> list[Rule]:
    """Wall phrases ("basal and mid inferior wall"), coronary territories, global and basal words."""
    # "basal and mid", "mid/apical", "mid-to-apical": the levels of one wall
    wall = (rf"(?:(?:{levels})(?:\s*(?:,|and|/|-\s*to\s*-|-|to|&)\s*(?:{levels}))*[\s\-]+)?(?:{names})"
            r"(?:[\s\-]+(?:walls?|segments?|regions?))?")
    walls: list[Rule] = [(wall, "wall", None),
                         (r"apical(?:[\s\-]+(?:walls?|segments?|regions?))?", "wall", None)]
    for terr, pats in w.territories.items():
        src = "|".join(rule_source(p) for p in pats)
        walls.append((rf"(?:{src})(?:[\s\-]+(?:territory|distribution|region|infarct))?", "wallterr", terr))
    walls += [(rule_source(p), "wallterr", "global") for p in w.global_]
    walls += [(rule_source(p), "wallterr", "basal") for p in w.basal]
    walls += [(rule_source(p), "wallterr", "mid") for p in w.mid]
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
