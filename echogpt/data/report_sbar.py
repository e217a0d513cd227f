"""SBAR handover notes (Situation / Background / Assessment / Recommendation, NHS Institute for
Innovation and Improvement SBAR tool): which blocks of such a note are the echo's own impression.

In an SBAR handover the 'Assessment' block answers the referrer's focused questions ("LV function?
Severely impaired."); the echo's own impression heading, where there is one, is the impression, and
the Assessment is then what the echo saw (findings). 'S' and 'B' are history; 'R' is the plan.
"""

from __future__ import annotations

import re

from echogpt.data.report_headings import LETTER_PREFIX, Section
from echogpt.data.report_measurements import norm

_WORDS = {"s": "situation", "b": "background", "a": "assessment", "r": "recommendation"}
# "S - Situation:", "A - Assessment (focused questions):", "SITUATION:", "R - Recommendation:"
_WORD_LINE = re.compile(r"^\s*(?:([SBAR])\s*[-–:]\s*)?(situation|background|assessment|recommendations?)\b",
                        re.IGNORECASE)
# "S: 34-year-old man ...", "R: Further fluid ...": the letters alone
_LETTER_LINE = re.compile(r"^\s*([SBAR])\s*:\s+\S")


def _letters(lines: list[str]) -> set[str]:
    """The SBAR letters a note's lines open with, written as words or as letters."""
    found = set()
    for line in lines:
        word = _WORD_LINE.match(line)
        letter = _LETTER_LINE.match(line)
        if word:
            found.add(word.group(2)[0].lower())
        elif letter:
            found.add(letter.group(1).lower())
    return found


def is_sbar(lines: list[str]) -> bool:
    """A note framed as SBAR: three of its four blocks open a line."""
    return len(_letters(lines)) >= 3


def _block(line: str) -> str | None:
    """The SBAR block a line opens ('situation' ... 'recommendation'), or None."""
    word = _WORD_LINE.match(line)
    if word:
        return word.group(2).lower().rstrip("s")
    letter = _LETTER_LINE.match(line)
    return _WORDS[letter.group(1).lower()] if letter else None


def sbar_sections(sections: list[Section]) -> list[Section]:
    """Re-read an SBAR note's blocks: 'S:' / 'B:' lines as history, an 'R:' paragraph inside the
    impression as the plan, and the Assessment as findings where the echo has its own impression."""
    if not is_sbar([line for s in sections for _, line in s.rows] + [s.heading for s in sections]):
        return sections
    out: list[Section] = []
    for s in sections:
        current = Section(s.kind, s.heading, [])
        out.append(current)
        for number, line in s.rows:
            block = _block(line) if s.kind in ("preamble", "body", "impression", "findings") else None
            if block in ("situation", "background") and s.kind in ("preamble", "body"):
                current = Section("history", block.title(), [(number, line)])
                out.append(current)
            elif block == "assessment" and current.kind == "history" and s.kind in ("preamble", "body"):
                current = Section(s.kind, s.heading, [(number, line)])
                out.append(current)
            elif block == "recommendation" and s.kind == "impression":
                current = Section("recommendations", "Recommendation", [(number, line)])
                out.append(current)
            elif current.kind == "history" and s.kind in ("preamble", "body") and not line.strip():
                current = Section(s.kind, s.heading, [(number, line)])
                out.append(current)
            else:
                current.rows.append((number, line))
    own = any(s.kind == "impression" and s.text and not _assessment(s.heading) for s in out)
    for s in out:
        if s.kind == "impression" and own and _assessment(s.heading):
            s.kind = "findings"
    return [s for s in out if s.rows or s.kind not in ("preamble", "body")]


def _assessment(heading: str) -> bool:
    """'Assessment', 'A - Assessment (focused questions)', 'ASSESSMENT - questions from ...'."""
    return norm(LETTER_PREFIX.sub("", heading)).startswith("assessment")
