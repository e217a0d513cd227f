"""What a statement of an impression says of an earlier study: the words that follow a prior-study
cue up to the end of their clause ("LVEF 32%, compared with baseline of 58%", "Mild MR (previously
moderate)"). What comes before the cue is this study's ("New large effusion since the prior study").

    spans = earlier_spans("LVEF 32%, compared with baseline of 58%.")  # [(10, 39)]
"""

from __future__ import annotations

import re

from echogpt.checker.study_facts import _NOW, _prior_rx

# a prior's words end at the clause: a comma, semicolon, colon, a closing parenthesis or "but"
_END = re.compile(r"[,;:)]|\s(?:but|whereas|while)\s|\.(?!\d)")


def earlier_spans(text: str) -> list[tuple[int, int]]:
    """Spans of a statement that give an earlier study's findings or values.

    Args:
        text: One statement.

    Returns:
        (start, end) per prior-study cue ("compared with", "previously", "prior", "from", a year), from
        the cue to its clause's end; a parenthesis that follows the span ("compared with 2024 (EF
        50%)") belongs to it, and "now" ends it ("previously moderate, now mild").
    """
    cues, exceptions, _ = _prior_rx()
    # "the previously seen thrombus" is this study's; "compared with the prior study of 2024 (MG 31
    # mmHg)", an exception in the findings, opens the prior's words in a statement
    blanked = exceptions.sub(lambda x: x.group() if x.group().lower().startswith("compared")
                             else " " * len(x.group()), text)
    spans = []
    for m in cues.finditer(blanked):
        end = _END.search(blanked, m.end())
        stop = end.start() if end is not None else len(text)
        now = _NOW.search(blanked, m.end(), stop)
        stop = now.start() if now is not None else stop
        after = re.match(r"\s*\(", blanked[stop:]) if now is None else None
        if after is not None:  # "compared with 2024 (EF 50%)": the parenthesis says what it showed
            close = blanked.find(")", stop)
            stop = close if close >= 0 else len(text)
        spans.append((m.start(), stop))
    return spans
