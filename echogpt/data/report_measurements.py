"""Measurements named in the text of a report ("LVIDd 5.2 cm", "EF: 55-60%", "Ao root 3.4").

Names and valve-context names are data (``resources/measurement_names.json``); a value keeps its
written unit for the Study model to convert and range-check.

    readings = read_measurements([(12, "LVIDd 5.2 cm  IVSd 1.1")], table=True)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from echogpt import units

_PRIMES = str.maketrans({"′": "'", "’": "'"})


def norm(text: str) -> str:
    """A name or heading as looked up: lower case, spaces, dots, hyphens and underscores as one space,
    a prime (e′, e’) as an apostrophe."""
    return re.sub(r"[\s._-]+", " ", text.strip().lower().translate(_PRIMES)).strip()


class NameTable(BaseModel):
    """``measurement_names.json``: measurement names, valve-context names and unstored names."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    about: str = Field(alias="_about")
    names: dict[str, list[str]]
    in_context: dict[str, dict[str, Any]]
    not_stored: list[str]
    table_only: list[str]
    table_only_in_context: dict[str, list[str]]
    siblings: dict[str, dict[str, str]]


@cache
def name_table() -> NameTable:
    """The validated measurement-name table; every field must be a measurement field."""
    text = resources.files("echogpt.resources").joinpath("measurement_names.json").read_text("utf-8")
    tbl = NameTable.model_validate(json.loads(text))
    fields = set(units.table().fields)
    targets = set(tbl.names) | {f for m in tbl.in_context["names"].values() for f in m.values()}
    targets |= {f for m in tbl.siblings.values() for pair in m.items() for f in pair}
    if targets - fields:
        raise ValueError(f"measurement_names.json: unknown fields {sorted(targets - fields)}")
    return tbl


_UNIT = (r"(?:square centimet(?:re|er)s?|sq\.? ?cm|met(?:re|er)s per second|centimet(?:re|er)s per second|"
         r"centimet(?:re|er)s|millimet(?:re|er)s|percent|ml/m²|ml/m2|ml/m\^2|g/m²|g/m2|cm²|cm2|cm\^2|"
         r"mm²|mm2|mm\s?hg|m/sec|cm/sec|m/s|cm/s|msec|ms|bpm|/min|cm|mm|ml|cc|%)(?![a-z0-9])")
_VALUE = re.compile(
    r"(?P<cmp>[<>≤≥~]\s*)?(?P<a>\d+(?:\.\d+)?)(?!\d|[.,]\d)(?:\s*%?\s*(?:-|–|to)\s*(?P<b>\d+(?:\.\d+)?)(?!\d|[.,]\d))?"
    r"\s*(?P<unit>" + _UNIT + r")?", re.IGNORECASE)
_LABEL_UNIT = re.compile(r"\((" + _UNIT + r")\)", re.IGNORECASE)  # "TAPSE (mm) 20": the label's unit
# between a name and its value: "LVEF: 60 %", "measured at", a dotted leader ("AV Vmax .... 2.8 m/s"), a
# translator's gloss of words alone ("FEVG (left ventricular ejection fraction) 45 %")
_LINK = re.compile(r"(?:\s*(?:\([a-z0-9'%/², ]{1,20}\)|\([a-z, ]{21,40}\)|[:=]|\.{3,}|is|was|of|at|now|"
                   # a size word and a comma before the value: "IVC plethoric, 2.3 cm"
                   r"(?:(?:mildly|moderately|severely)\s+)?(?:plethoric|dilated|enlarged|collapsing),|"
                   r"measures?|measured|biplane|"
                   r"measuring|estimated|est\b\.?|visually|calculated|approximately|approx\.?|about|"
                   r"by (?:biplane|simpson'?s?|visual|eyeball|3d|m-mode|pressure half[- ]time|pht|planimetry|"
                   r"continuity(?: equation)?|vti)"
                   r"(?: method)?)\s*)*\s*", re.IGNORECASE)


_UNIT_WORDS = {"square centimetre": "cm2", "square centimeter": "cm2", "sq cm": "cm2", "sqcm": "cm2",
               "sq. cm": "cm2", "metres per second": "m/s", "meters per second": "m/s",
               "centimetres per second": "cm/s", "centimeters per second": "cm/s", "centimetre": "cm",
               "centimeter": "cm", "millimetre": "mm", "millimeter": "mm", "percent": "%"}


def _unit(text: str) -> str:
    key = re.sub(r"\s+", " ", text.strip().lower())
    return _UNIT_WORDS.get(key) or _UNIT_WORDS.get(key.rstrip("s"), text)


@dataclass
class Reading:
    """One measurement read from text: field, raw value text, its line and the text read."""

    field: str
    raw: str
    line: int
    quote: str


@cache
def _name_pattern() -> re.Pattern[str]:
    tbl = name_table()
    names = {n for ns in tbl.names.values() for n in ns} | set(tbl.in_context["names"]) | set(tbl.not_stored)
    names |= set(tbl.siblings)
    alts = (re.escape(n).replace(r"\ ", r"[\s._-]*").replace("'", "['′’]")
            for n in sorted(names, key=len, reverse=True))
    return re.compile(r"(?<![A-Za-z0-9'′’/])(" + "|".join(alts) + r")(?![A-Za-z0-9'′’])", re.IGNORECASE)


@cache
def _lookup() -> tuple[dict[str, str], dict[str, dict[str, str]], dict[str, str]]:
    tbl = name_table()
    plain = {norm(n): f for f, ns in tbl.names.items() for n in ns}
    contextual = {norm(n): m for n, m in tbl.in_context["names"].items()}
    contexts = {norm(w): c for c, ws in tbl.in_context["contexts"].items() for w in ws}
    return plain, contextual, contexts


@cache
def _passed_over(name: str) -> frozenset[str] | None:
    """The contexts a valve-context name reads past: chambers it has no meaning in
    (``in_context.chambers``: "Tricuspid valve: RA dilated. Peak velocity 2.8 m/s" is the TR velocity)."""
    _, contextual, contexts = _lookup()
    chambers = set(name_table().in_context.get("chambers", {}).get("names", [])) - set(contextual[name])
    return frozenset(set(contexts.values()) - chambers) if chambers else None


@cache
def _table_only() -> frozenset[str]:
    return frozenset(norm(n) for n in name_table().table_only)


# "Aortic valve: tricuspid, calcified": the aortic valve's three cusps, no word about the tricuspid valve
_CUSPS = re.compile(r"\b(aortic valve|aortic|av)(\s*:?\s*(?:is\s+)?)tricuspid\b", re.IGNORECASE)


def _context(text: str, among: frozenset[str] | None = None) -> str | None:
    """The valve, tract or chamber a piece of text last names ("Aortic valve: ..." -> aortic), of those
    in ``among`` when given (the ones a name has a meaning for: "Tricuspid valve: RA dilated. Peak
    velocity 2.8 m/s" is the tricuspid velocity); an aside in parentheses names none when the text
    outside them names one ("Mitral (systemic AV) valve:" -> mitral); "tricuspid" right after the
    aortic valve's name is its cusps ("Aortic valve: tricuspid, ...")."""
    text = _CUSPS.sub(r"\1\2trileaflet", text)
    outside = re.sub(r"\([^()]*\)", " ", text)
    found = _last_context(outside, among) if outside != text else None
    return found or _last_context(text, among)


def _label_context(label: str) -> str | None:
    """The context a line's label opens with a word that names it only there ("Diastolic (AF): E 0.72
    m/s", "Diastolic assessment in AF: ..." are about mitral inflow; ``in_context.label_contexts``)."""
    lowered = re.sub(r"\([^()]*\)", " ", label).lower().strip()
    for ctx, words in name_table().in_context.get("label_contexts", {}).items():
        if ctx == "_about":
            continue
        if any(re.match(rf"{re.escape(w)}(?![a-z])", lowered) for w in words):
            return ctx
    return None


def _last_context(text: str, among: frozenset[str] | None = None) -> str | None:
    _, _, contexts = _lookup()
    best: tuple[int, str] | None = None
    lowered = text.lower().replace("-", " ")
    for word, ctx in contexts.items():
        if among is not None and ctx not in among:
            continue
        for m in re.finditer(rf"(?<![a-z]){re.escape(word)}(?![a-z])", lowered):
            if best is None or m.start() >= best[0]:
                best = (m.start(), ctx)
    return best[1] if best else None


# Words that make a clause about the prior study: "previously dilated with TAPSE 1.2 cm", "pre-TAVI LVEF 40%".
_PRIOR = re.compile(r"\b(?:previous(?:ly)?|prior|before|baseline|pre-?operative(?:ly)?|pre-[a-z]+|pre(?=:)|"
                    r"earlier|ago|last (?:study|echo\w*|year|month|time|visit|review|scan)|"
                    r"compared (?:with|to)|"
                    # a past month or year in the clause: "In 08/2026 screening found IVS 13 mm",
                    # "(echo 2024: ..."
                    r"in (?:\d{1,2}/)?(?:19|20)\d{2}(?![./-]?\d)|"
                    r"(?:echo\w*|study|scan|tte) (?:19|20)\d{2}(?![./-]?\d))\b",
                    re.IGNORECASE)


# Words that make a clause another reader's value of the same images: "Site-reported LVEF 35 %" (a trial
# core laboratory's report, where the core lab's read is the value of record)
_OTHER_READER = re.compile(r"\bsite(?:[- ]reported|[- ]read| value| measured)|\bper site\b|\bsite:",
                           re.IGNORECASE)


def _clause_start(line: str, at: int) -> int:
    """Where the clause holding offset ``at`` begins: after the last sentence stop, semicolon or
    opening parenthesis; a decimal point ("Vmax 3.1 m/s, AVA 1.25") ends no clause."""
    stops = [m.end() for m in re.finditer(r"\.(?!\d)|[;(]", line[:at])]
    return stops[-1] if stops else 0


def _in_was(line: str, at: int) -> bool:
    """The name at ``at`` is inside a parenthesis that gives the earlier value: "(was 3.1 m/s, RAP 8)"."""
    opened = line.rfind("(", 0, at)
    return opened > line.rfind(")", 0, at) and re.match(r"\s*was\b", line[opened + 1:], re.I) is not None


# "EDV / ESV  100 / 42 mL", "LV EDV / ESV (Biplane): 90 / 27 mL": two names, then their two values in
# the same order and one unit for both
_PAIRED = re.compile(r"(?<![\w/])(?P<n1>[A-Za-z][A-Za-z0-9' ]{0,30}?)\s*/\s*"
                     r"(?P<n2>[A-Za-z][A-Za-z0-9']{0,15})(?P<mid>\s*(?:\([^()/]*\))?\s*:?\s*)(?P<v1>\d+(?:\.\d+)?)\s*/\s*(?P<v2>\d+(?:\.\d+)?)"
                     r"(?![\d/.])(?P<unit>\s*[A-Za-z%][\w/²]*)?")


def unpair(line: str) -> str:
    """Paired names with paired values written as one name and value each, in order
    ("LV EDV / ESV (Biplane): 90 / 27 mL" -> "LV EDV (Biplane): 90 mL, ESV (Biplane): 27 mL")."""

    def split(m: re.Match[str]) -> str:
        mid, unit = m.group("mid"), m.group("unit") or ""
        return f"{m.group('n1')}{mid}{m.group('v1')}{unit}, {m.group('n2')}{mid}{m.group('v2')}{unit}"

    return _PAIRED.sub(split, line)


def read_measurements(lines: list[tuple[int, str]], table: bool) -> list[Reading]:
    """Measurements named in text: "LVIDd 5.2 cm", "EF: 55-60%", "Aortic valve: mean gradient 42".

    Args:
        lines: (line number in the report, line text) of the findings and measurement sections.
        table: True for a measurements section, where table-only names ("LA 3.9") are read too.

    Returns:
        One reading per name followed by a number. "~60%" and "est 40-45%" are the estimate as
        written (a range stays a range); a bound (">70%") is no value and stays in the text; a name in a
        clause about the prior study ("previously ... TAPSE 1.2 cm") is not this study's; names that
        no field stores ("E/e' 14") take their number so that it binds to nothing else.
    """
    out: list[Reading] = []
    block: str | None = None
    for number, line in lines:
        if not line.strip():
            block = None
            continue
        line = unpair(line)
        label = line.split(":", 1)[0] if ":" in line else line
        if len(label) <= 40 and not _VALUE.search(label) and (_context(label) or _label_context(label)):
            block = _context(label) or _label_context(label)
        taken = 0  # the text up to here belongs to a name already read
        last: tuple[int, str | None] = (-1, None)  # where the last name read began, and its field
        for m in _name_pattern().finditer(line):
            if m.start() < taken:
                continue
            start = _clause_start(line, m.start())
            found = _reading(line, m, block, table, last[1] if last[0] >= start else None)
            if found is None:
                continue
            end, target, raw = found
            taken, last = end, (m.start(), target)
            clause = line[start:m.start()]
            if target and not _PRIOR.search(clause) and not _OTHER_READER.search(clause) \
                    and not _in_was(line, m.start()):
                out.append(Reading(target, raw, number, line[m.start():end].strip()))
    return out


def _fits(field: str, unit: str | None) -> bool:
    """Whether a value's written unit is one of the field's dimension ("8 cm/s" for an e')."""
    dimension = units.spec(field).dimension
    return unit is not None and units.normalise_unit(_unit(unit)) in units.table().units[dimension]


def _reading(line: str, m: re.Match[str], block: str | None, table: bool, after: str | None
             ) -> tuple[int, str | None, str] | None:
    """The value after the name ``m`` matched: (its end, the field or None, raw value text), or None
    when no value follows the name. ``after``: the field read last in the same clause, which a
    sibling name ("e' septal 6 cm/s, lateral 8 cm/s") needs."""
    plain, contextual, _ = _lookup()
    name = norm(m.group(1))
    tbl = name_table()
    link = _LINK.match(line, m.end())
    value = _VALUE.match(line, link.end() if link else m.end())
    between = line[m.end():value.start()] if value else ""
    if not value or between.count("(") > between.count(")"):
        return None
    if value.group("cmp") and value.group("cmp").strip() != "~":
        return None  # a bound (">70%") is no value a field can hold; "~60%" is the estimate 60
    # "TAPSE (mm) 20": the unit in the row's label is the unit of a value written without one
    labelled = _LABEL_UNIT.search(between)
    unit = value.group("unit") or (labelled.group(1) if labelled else None)
    sibling = tbl.siblings.get(name, {}).get(after or "")
    if sibling and not (unit and not _fits(sibling, unit)):
        target = sibling  # "IVS 10 mm, PW 10 mm": the posterior wall beside the septum
    elif name in tbl.siblings and name not in plain:
        return None  # "lateral wall", "basal septal 1.3 cm": no sibling of the last reading
    elif name in _table_only() and not table and ":" not in between:
        ctx = _context(line[:m.start()]) or block
        field = plain.get(name)
        if not (field and ctx in tbl.table_only_in_context.get(name, []) and _fits(field, unit)):
            return None  # "a 1.2 cm mass", "E 80" in prose: such a name needs a table, a colon, or
            # its context and a unit ("Mitral inflow: E 1.1 m/s, A 0.69 m/s")
        target = field
    else:
        target = plain.get(name)
    if name in contextual and not sibling:
        target = contextual[name].get(_context(line[:m.start()], _passed_over(name)) or block or "")
    if re.search(r"\s/\s*(?:[A-Za-z']+\s+)?$", line[:m.start()]):
        target = None  # "VTI prosthesis / VTI LVOT: 1.9": the value of a ratio, not the LVOT's
    if target and units.indexed_for_raw(target, line[m.end():value.end() + 6]):
        target = None  # "LVESD index 1.9 cm/m2" is the indexed value, not the LVESD: it binds to nothing
    raw = value.group("a")  # a decimal comma is a point by now (report_numbers); "1,95" left is unread
    if value.group("b"):
        raw += "-" + value.group("b")
    raw += (" " + _unit(unit)) if unit else ""
    return value.end(), target, raw
