"""Questions in clinical prose: a focused question asserts nothing; its answer on the same line does.

Handover and point-of-care notes ask the study's questions and answer each on its line ("Effusion?
None.", "RV dilatation? Yes."); a question left unanswered ("LV function? VSD?") names findings it
does not state. The rewrite keeps every offset, so spans still point into the text as written.

    answered_questions("Effusion? None. VSD?")  # "Effusion: None.     "
"""

from __future__ import annotations

import re

from echogpt.checker.tokens import tokens

# a question mark that closes a clause: after a word or a bracket, before a space or the line's end;
# "?vegetation" (the referral's query, a hedge) has a letter after it and is left as it is
_CLOSING = re.compile(r"(?<=[A-Za-z0-9)])\?(?=[ \t]|$)", re.MULTILINE)
# where a clause begins: after a sentence or label mark, or at the line's start
_CLAUSE_START = re.compile(r"[.;:!?](?=\s|$)|\n")
# a negative answer: "No.", "None seen.", "No echo features." (the words after it name no finding)
_NO = re.compile(r"\s*(?:no|none|nil)\b", re.IGNORECASE)


def _clause_start(text: str, at: int, floor: int) -> int:
    """The start of the clause that ends at ``at``: after the last sentence or label mark before it
    (not before ``floor``, the end of the previous question)."""
    start = floor
    for m in _CLAUSE_START.finditer(text, floor, at):
        start = m.end()
    return start


def answered_questions(text: str) -> str:
    """The text with each question read as its answer says.

    Args:
        text: Prose (a findings section or a statement).

    Returns:
        A text of the same length: an answered question becomes a label with its answer ("Effusion?
        None." reads as "Effusion: None."); an unanswered one, the question mark included, becomes
        spaces.
    """
    marks = [m.start() for m in _CLOSING.finditer(text)]
    if not marks:
        return text
    out = list(text)
    floor = 0
    for k, at in enumerate(marks):
        line_end = text.find("\n", at)
        line_end = len(text) if line_end < 0 else line_end
        start = _clause_start(text, at, floor)
        nxt = marks[k + 1] if k + 1 < len(marks) else None
        answer_end = _clause_start(text, nxt, at + 1) if nxt is not None and nxt < line_end else line_end
        if text[at + 1:answer_end].strip(" \t.;,-"):
            out[at] = ":"
            _bare_no(text, at + 1, answer_end, out)
        else:
            out[start:at + 1] = " " * (at + 1 - start)
        floor = at + 1
    return "".join(out)


def _bare_no(text: str, start: int, end: int, out: list[str]) -> None:
    """A negative answer whose other words name nothing the rules read ("Tamponade? No echo
    features.") is a bare "No": those words become spaces, so that the "No" denies the question."""
    m = _NO.match(text, start, end)
    if m is None:
        return
    stop = _CLAUSE_START.search(text, m.end())
    rest_end = min(stop.start(), end) if stop else end
    if text[m.end():rest_end].strip() and not tokens(text[m.end():rest_end]):
        out[m.end():rest_end] = " " * (rest_end - m.end())
