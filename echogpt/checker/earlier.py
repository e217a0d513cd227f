"""What a statement of an impression says beyond this study's findings: the words that follow a
prior-study cue up to the end of their clause ("LVEF 32%, compared with baseline of 58%", "Mild MR
(previously moderate)"; what comes before the cue is this study's), a change over time ("+0.3 m/s
per year") and a finding that could not be ruled out ("LV thrombus cannot be excluded").

    spans = earlier_spans("LVEF 32%, compared with baseline of 58%.")  # [(10, 39)]
"""

from __future__ import annotations

import re
from functools import cache

from echogpt.checker.rules import rule_regex, rules
from echogpt.checker.study_facts import NOW_WORDS, prior_cues

# a prior's words end at the clause: a comma, semicolon, colon, a closing parenthesis, a full stop or "but"
_END = re.compile(r"[,;:)]|\s(?:but|whereas|while)\s|\.(?!\d)")


def earlier_spans(text: str) -> list[tuple[int, int]]:
    """Spans of a statement that give an earlier study's findings or values.

    Args:
        text: One statement.

    Returns:
        (start, end) per prior-study cue ("compared with", "previously", "prior", "from", a year), from
        the cue to its clause's end; a parenthesis opened in the span ("compared with 2024 (EF 50%)")
        belongs to it, and "now" ends it ("previously moderate, now mild").
    """
    cues, exceptions, _ = prior_cues()
    # "the previously seen thrombus" is this study's; "compared with the prior study of 2024 (MG 31
    # mmHg)", an exception in the findings, opens the prior's words in a statement
    blanked = exceptions.sub(lambda x: x.group() if x.group().lower().startswith("compared")
                             else " " * len(x.group()), text)
    spans = []
    for m in cues.finditer(blanked):
        if spans and m.start() < spans[-1][1]:
            continue  # "the prior study of 2024": one span, whatever cues it holds
        end = _END.search(blanked, m.end())
        stop = end.start() if end is not None else len(text)
        now = NOW_WORDS.search(blanked, m.end(), stop)
        spans.append((m.start(), now.start() if now is not None else stop))
    return spans


# "+0.3 m/s", "-5 points": a signed number is a change; "0.3 m/s/year", "per year": a rate of change
_SIGNED = re.compile(r"[+±]\s*\d|(?<![\w/])[-−–]\s*\d+(?:\.\d+)?\s*(?:points?|%-?points?)\b")
_RATE = re.compile(r"\s*(?:/\s*(?:year|yr|y|annum)|per\s+(?:year|annum)|a\s+year)\b", re.IGNORECASE)


def is_change(text: str, start: int, end: int) -> bool:
    """Whether the value of a measurement claim at ``text[start:end]`` is a change over time, not a
    value of either study ("Vmax +0.3 m/s/year", "a fall of -15 points"): no study holds it.

    Args:
        text: The statement.
        start: The claim's start in ``text``.
        end: Its end in ``text``.
    """
    return _SIGNED.search(text, start, end) is not None or _RATE.match(text, end) is not None


@cache
def _exclusion() -> re.Pattern[str]:
    """The hedges of ``fact_rules.json`` that say a finding could not be ruled out ("cannot be
    excluded", "cannot rule out"), as opposed to those that say it is likely ("probable")."""
    r = rules()
    return rule_regex([h for h in r.hedge.pre + r.hedge.post if re.search(r"exclud|rule", h)])


def cannot_exclude(text: str) -> bool:
    """Whether a statement says that something could not be ruled out ("LV thrombus cannot be
    excluded"): a claim a study silent about it does not refute (it saw nothing either way)."""
    return _exclusion().search(text) is not None
