"""Word order around a grade or a negation: how far each reaches when the words come in an order the
plain head-then-subject reading does not expect (the noun first, a comparative, a cause after "by",
a structure named alone as a label for the next sentence).

    grades_a_comparison("LVEF slightly lower than in March", tok)  # "slightly" grades the change
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from echogpt.checker.rules import rule_regex, rules
from echogpt.checker.tokens import SUBJ, Tok, subject_list, tokens


def head_before_subject(text: str, toks: list[Tok], mentions: Mapping[int, Any], b: int) -> bool:
    """Whether the subject at ``b`` follows, with only spaces between, an ungraded head it names
    ("insufficiency mitral", the noun first as Spanish, French and Italian write it)."""
    m = mentions.get(b - 1)
    term = m.term if m is not None else None
    if term is None or not term.head or term.subject or m.degree is not None or toks[b].kind not in SUBJ:
        return False
    table = rules().head_concepts.get(term.head, {})
    subjects = subject_list(toks[b])
    spaced = text[toks[b - 1].end:toks[b].start].isspace()
    return bool(subjects) and spaced and all(s in table for s, _ in subjects)


# "slightly lower than", "much better than": a degree word before a comparative grades the change
_COMPARATIVE = re.compile(r"\s+(?:[a-z]+er|more|less|worse)\s+than\b", re.IGNORECASE)


def grades_a_comparison(text: str, tok: Tok) -> bool:
    """Whether the degree word ``tok`` grades a comparison after it ("LVEF slightly lower than in
    March"), so that it grades no finding."""
    return tok.direction is None and _COMPARATIVE.match(text, tok.end) is not None


def significant_after(text: str, toks: list[Tok], j: int) -> bool:
    """Whether the token at ``j`` is a grade such as "significant" that, written after a negated
    finding ("absence of valvulopathy significant"), limits the negation as "no significant" does."""
    if j >= len(toks) or toks[j].kind != "grade" or text[toks[j - 1].end:toks[j].start].strip():
        return False
    words = rule_regex(rules().negation.significant_after)
    return words.fullmatch(text, toks[j].start, toks[j].end) is not None


def lone_label(sentence: str) -> str:
    """The structure a sentence names and nothing else ("Right ventricle."), a label for the sentence
    after it; else ""."""
    toks = tokens(sentence)
    if len(toks) != 1 or toks[0].kind != "subj":
        return ""
    name = sentence[toks[0].start:toks[0].end]
    return name if sentence.strip(" \t\n.:") == name else ""


def opens_with_grade(sentence: str) -> bool:
    """Whether a sentence opens with grade words and a colon or comma ("Dilated: basal diameter ...",
    "Mildly enlarged, area 21 cm2")."""
    toks = tokens(sentence)
    k = 0
    while k < len(toks) and toks[k].kind == "grade" \
            and not sentence[toks[k - 1].end if k else 0:toks[k].start].strip():
        k += 1
    return k > 0 and sentence[toks[k - 1].end:].lstrip()[:1] in (":", ",")


# "increased by the MR": what follows "by" after a grade is its cause, never what it grades
_AGENT = re.compile(r"\s+by\s", re.IGNORECASE)


def names_a_cause(text: str, tok: Tok) -> bool:
    """Whether the grade ``tok`` is followed by "by" and its agent ("risk not increased by the MR")."""
    return _AGENT.match(text, tok.end) is not None

