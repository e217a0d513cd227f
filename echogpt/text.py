"""Splitting impression text into statements with character offsets.

The checker, the metrics and the app's highlighting all split with this one function.

    [s.text for s in split_statements("1. Normal LV size.\n2. Mild MR.")]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A list marker at the start of a line: "1.", "2)", "(3)", "-", "*", "•".
_MARKER = re.compile(r"^\s*(?:\(?\d{1,2}[.)](?!\d)|[-*•·‣▪])\s*")
# An inline list marker "... 2. Next" after a sentence end.
_INLINE = re.compile(r"(?<=[.;:!?])\s+\(?\d{1,2}[.)]\s+(?=[A-Z(])")
# Sentence end: ., ! or ? followed by space and a capital letter or digit, or (dictation written in
# lower case) a period followed by space and a lower-case word; never after a common abbreviation,
# inside decimals (the period must be followed by whitespace) or inside brackets ("(max. 16 mm)").
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])|(?<=\.)\s+(?=[a-z])")
# Titles keep their case ("Mr." is a title, "MR." mitral regurgitation at a sentence end); the other
# abbreviations are read in any case.
_ABBREV = re.compile(r"(?:\b(?:Dr|Mr|Mrs|Ms|St|(?i:vs|approx|e\.g|i\.e|etc|cf|no|est|ca|sq|fig|max|min|"
                     r"incl|resp|pt|pts))\.)$")
# Struck-out text ("~~Severe~~ Moderate"): the words a reviewer struck are no part of what is said.
STRUCK = re.compile(r"~~[^~\n]+?~~")


def mask_struck(text: str) -> str:
    """The text with its struck-out words blanked, offsets kept ("~~Severe~~ Moderate AS" ->
    "           Moderate AS")."""
    return STRUCK.sub(lambda m: " " * len(m.group()), text)


@dataclass(frozen=True)
class Statement:
    """One statement of an impression and its [start, end) span in the original text."""

    text: str
    start: int
    end: int


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split text[start:end] at inline list markers and sentence ends."""
    cuts = [start]
    segment = text[start:end]
    for m in list(_INLINE.finditer(segment)) + list(_SENT_END.finditer(segment)):
        # an abbreviation just before the cut ("approx."): the last few characters are enough
        before = segment[max(0, m.start() - 16): m.start()]
        if _ABBREV.search(before) or segment.count("(", 0, m.start()) > segment.count(")", 0, m.start()):
            continue
        if not any(ch.isalnum() for ch in segment[:m.start()]):
            continue  # a leading "?" ("4. ? Tubercular effusion") is a hedge, not a sentence end
        cuts.append(start + m.start())
    cuts = sorted(set(cuts)) + [end]
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if a < b]


def split_statements(text: str) -> list[Statement]:
    """Split an impression (numbered, bulleted or plain sentences) into statements.

    Args:
        text: The impression text.

    Returns:
        Statements in order; each ``text`` is ``original[start:end]`` with list markers and
        surrounding whitespace excluded from the span.
    """
    out: list[Statement] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        line_start, line_end = pos, pos + len(line)
        pos = line_end
        body = line.rstrip("\r\n")
        if not body.strip():
            continue
        m = _MARKER.match(body)
        s = line_start + (m.end() if m else 0)
        for a, b in _pieces(text, s, line_start + len(body)):
            # strip whitespace and a leading inline marker from each piece
            piece = text[a:b]
            lead = len(piece) - len(piece.lstrip())
            a += lead
            m2 = _MARKER.match(text[a:b])
            if m2:
                if not text[a + m2.end():b].strip():
                    continue  # the piece is only a list marker ("2.") cut off a sentence end
                a += m2.end()
            while b > a and text[b - 1].isspace():
                b -= 1
            if b > a and any(ch.isalnum() for ch in text[a:b]):
                out.append(Statement(text[a:b], a, b))
    return out


def number_statements(statements: list[str]) -> str:
    """Join statements into the house impression format: one per line, numbered ``1. …``."""
    return "\n".join(f"{i}. {s.strip()}" for i, s in enumerate(statements, 1))
