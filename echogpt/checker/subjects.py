"""The subjects a findings text names: what it talks about, whether or not the rules read what it says.

A claim is ``unsupported`` only when the study is silent about its subject (concept and location);
when the findings name the subject in words whose grade or value the rules cannot read ("LVEF
(Simpson's biplane) 62 %", "MR: see comment"), the claim is ``not_checked``. This module answers the
first question from the same word tables the fact extraction uses (``fact_rules.json`` terms,
subjects, ``head_concepts``, ``implied_heads``), without binding grades or polarity.

    ("measurement", "lvef") in named_subjects("LVEF (Simpson's biplane) 62 %")  # True
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from echogpt.checker.rules import rule_regex, rules
from echogpt.checker.tokens import Tok, subject_list, tokens
from echogpt.schemas import Fact

Subject = tuple[str, str | None]  # (concept, location); ("measurement", field) for a value
_SENTENCE = re.compile(r"[^.;\n]+")
_CLAUSE = re.compile(r"[,:;()]")


def _fields(tok: Tok) -> list[str]:
    """The measurement fields a token names (a valve-dependent name: every valve's)."""
    f = tok.payload[1] if tok.kind == "subj" else tok.payload.field if tok.kind == "term" else None
    if f is None:
        return []
    return [f] if isinstance(f, str) else [x for x in f.values() if x]


def _heads(tok: Tok) -> list[str]:
    """The heads (regurgitation, size, function ...) a term or a grade word implies."""
    if tok.kind == "term":
        return [tok.payload.head] if tok.payload.head else []
    if tok.kind == "grade" and tok.direction:
        return list(rules().implied_heads.get(tok.direction, []))
    return []


def _clause(text: str, toks: list[Tok], i: int) -> list[Tok]:
    """The other tokens of token ``i``'s clause (no comma, colon or bracket between them)."""
    out = []
    for j, t in enumerate(toks):
        a, b = (toks[i].end, t.start) if j > i else (t.end, toks[i].start)
        if j != i and not _CLAUSE.search(text[a:b]):
            out.append(t)
    return out


def _sentence_subjects(text: str, toks: list[Tok]) -> set[Subject]:
    """A head term names its concept at every subject of its sentence; a grade word ("dilated",
    "normal") only at the subjects of its own clause."""
    named: set[Subject] = set()
    around = {s for t in toks for s in subject_list(t)}
    for i, t in enumerate(toks):
        named.update(("measurement", f) for f in _fields(t))
        if t.kind == "term":
            for fact in t.payload.facts:
                named.add((fact["concept"], fact.get("location")))
        if t.kind == "term" and t.payload.subject:
            subjects = {(t.payload.subject, None)}
        elif t.kind == "term":
            subjects = around | {("*", None)}
        else:  # a grade word names its own head only where its clause has none ("normal function")
            clause = _clause(text, toks, i)
            named_head = any(c.kind == "term" and c.payload.head for c in clause)
            subjects = set() if named_head else {s for c in clause for s in subject_list(c)}
        for head in _heads(t):
            table = rules().head_concepts.get(head, {})
            for subject, wall in subjects:
                if subject in table:
                    concept, loc = table[subject]
                    named.add((concept, wall if loc == "@wall" else loc))
    return named


@lru_cache(maxsize=256)
def named_subjects(text: str) -> frozenset[Subject]:
    """Every (concept, location) the text names, sentence by sentence, plus (concept, None) for each.

    Args:
        text: Findings prose.

    Returns:
        The subjects named, whatever the text says of them (present, absent, a grade the rules do not
        read); measurement names as ("measurement", field), and the concept a named measurement grades
        (``graded_from``: "LA volume index 38" names the LA's size).
    """
    named: set[Subject] = set()
    for m in _SENTENCE.finditer(text):
        named |= _sentence_subjects(m.group(), tokens(m.group()))
    measured = {loc for c, loc in named if c == "measurement"}
    named |= {(concept, None) for concept, fields in rules().graded_from.items()
              if concept != "_about" and measured.intersection(fields)}
    return frozenset(named | {(c, None) for c, _ in named})


@lru_cache(maxsize=256)
def named_structures(text: str) -> frozenset[str]:
    """The chambers and vessels a findings text names ("lv", "la", "ivc"), whatever it says of them."""
    return frozenset(s for m in _SENTENCE.finditer(text)
                     for t in tokens(m.group()) for s, _ in subject_list(t))


@lru_cache(maxsize=256)
def described_structures(text: str) -> frozenset[str]:
    """The chambers a findings text describes: those it names less the mentions that describe
    something else (``fact_rules.json`` ``not_describing``: "atrial fibrillation", "lead in the RA")."""
    blank = rule_regex(rules().not_describing).sub(lambda m: " " * len(m.group()), text)
    return named_structures(blank)


@cache
def graded_structures() -> dict[str, frozenset[str]]:
    """The chambers each ``graded_from`` concept grades ("la_size": {"la"}), from ``head_concepts``."""
    out: dict[str, set[str]] = {}
    for table in rules().head_concepts.values():
        for subject, (concept, _loc) in table.items():
            if subject != "*" and concept in rules().graded_from:
                out.setdefault(concept, set()).add(subject)
    return {c: frozenset(s) for c, s in out.items()}


def names_subject(text: str, concept: str, location: str | None) -> bool:
    """Whether the text names the subject (a location-less claim: the concept anywhere)."""
    return (concept, location) in named_subjects(text)


_QUOTED = re.compile(r'"(.+)"\s*$')


def unread_note(unread: list[str] | None, facts: list[Fact]) -> str | None:
    """The first note of what the import could not read that may hold one of the claims.

    Args:
        unread: ``Study.unread``.
        facts: The claims of a statement.

    Returns:
        A note that quotes text ("... not read as findings: \"RAP 15 mmHg\"") holds the claims whose
        subject the quote names; a note without a quote (a suspect cut) may hold any claim; None.
    """
    for note in unread or []:
        m = _QUOTED.search(note)
        if m is None or any(names_subject(m.group(1), f.concept, f.location) for f in facts):
            return note
    return None
