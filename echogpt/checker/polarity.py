"""How far a negation or a hedge reaches in one sentence: a cue before its mentions ("no pericardial
effusion, thrombus or vegetation") reaches up to a stop word or the next grade, a cue after them
("MR and TR, not seen") reaches back over the mentions coordinated before it; a "non-" prefix negates
only its own word, a negation in a parenthesis that names a condition ("(none at rest)") denies
nothing before it, one in a parenthesis nothing after it ("(no inotropes): new hypokinesis"), and
one between two grades ("severe, not moderate") denies only the second grade.

    set_polarity(text, toks, mentions, everything)
"""

from __future__ import annotations

import re
from functools import cache

from echogpt.checker.mentions import SUBJ_SEP, Mention
from echogpt.checker.rules import rule_regex, rules
from echogpt.checker.tokens import Tok
from echogpt.checker.word_order import names_a_cause, significant_after


def _prefix_of_unread_word(text: str, toks: list[Tok], k: int) -> bool:
    """"non-restrictive VSD", "non-obstructive HCM": a "non" prefix negates the word it is joined to;
    when no rule reads that word, it negates nothing the rules know of."""
    t = toks[k]
    if t.kind != "neg" or text[t.start:t.end].lower() != "non":
        return False
    return k + 1 == len(toks) or toks[k + 1].start > t.end + 1


def _alternative(text: str, toks: list[Tok], j: int) -> bool:
    """"No stenosis or significant regurgitation": a grade just after "or"/"nor" opens an alternative
    that the negation before still covers (no A or B = neither A nor B)."""
    prev = toks[j - 1]
    return prev.kind == "sep" and text[prev.start:prev.end].lower() in ("or", "nor")


_CONDITION = re.compile(r"\s+(?:at|with|during|after|before|without|on release|post)\b", re.I)


def _qualifying_aside(text: str, cue: Tok, after: int) -> bool:
    """"Shunt provoked by Valsalva (none at rest)": a negation cue inside a parenthesis opened after
    the finding and followed by a condition denies the finding under that condition only."""
    opened = text.rfind("(", after, cue.start)
    if opened < 0 or ")" in text[opened:cue.start]:
        return False
    closed = text.find(")", cue.end)
    return closed > 0 and _CONDITION.match(text, cue.end, closed) is not None


def _parenthesis_end(text: str, toks: list[Tok], k: int) -> int:
    """"(sinus 84, no inotropes): new hypokinesis": a cue inside a parenthesis reaches no further than
    its closing mark; the index of the first token after it (or the end)."""
    cue = toks[k]
    opened = text.rfind("(", 0, cue.start)
    if opened < 0 or ")" in text[opened:cue.start]:
        return len(toks)
    closed = text.find(")", cue.end)
    if closed < 0:
        return len(toks)
    return next((j for j in range(k + 1, len(toks)) if toks[j].start > closed), len(toks))


@cache
def _contrast_cue() -> re.Pattern[str]:
    return rule_regex(rules().negation.grade_contrast)


def without_grade_contrasts(text: str, toks: list[Tok]) -> list[Tok]:
    """The tokens less each grade that a negation sets against another ("Severe TR [severe, not
    moderate]", "Mild MR, not moderate", "moderate rather than severe AS"): such a cue denies that one
    grade, never the finding, so it and its grade are dropped. A contrast is a cue right after a grade,
    or a cue whose grade closes its clause in a sentence graded before it."""
    drop: set[int] = set()
    for k, t in enumerate(toks[:-1]):
        cue = _contrast_cue().fullmatch(text[t.start:t.end])
        if t.kind != "neg" or toks[k + 1].kind != "grade" or not cue:
            continue
        after = toks[k + 2].start if k + 2 < len(toks) else len(text)
        closes = k + 2 == len(toks) or re.search(r"[,;:)\]]", text[toks[k + 1].end:after]) is not None
        graded = any(x.kind == "grade" for x in toks[:k])
        if (k and toks[k - 1].kind == "grade") or (closes and graded):
            drop |= {k, k + 1}
    return [t for i, t in enumerate(toks) if i not in drop]


def set_polarity(text: str, toks: list[Tok], mentions: dict[int, Mention],
                  everything: list[Mention]) -> None:
    """Negation and hedge cues set the polarity of the mentions in their scope: a cue before reaches
    up to a stop word or the next grade, a cue after reaches back over coordinated mentions."""
    for k, t in enumerate(toks):
        if _prefix_of_unread_word(text, toks, k):
            continue
        if t.kind in ("neg", "negsig", "hedge"):
            pol = "uncertain" if t.kind == "hedge" else "absent"
            end = reach = _parenthesis_end(text, toks, k)
            for j in range(k + 1, reach):
                if toks[j].kind == "stop" or (toks[j].kind == "grade" and j > k + 1
                                               and not _alternative(text, toks, j)) \
                        or (toks[j].kind == "grade" and names_a_cause(text, toks[j])):
                    end = j
                    break
            for m in everything:
                if k < m.anchor < end or (m.anchor == k + 1 < reach and toks[m.anchor].kind == "grade"):
                    m.polarity = pol
                    m.not_significant = t.kind == "negsig" or significant_after(text, toks, end)
        elif t.kind in ("negpost", "hedgepost"):
            pol = "uncertain" if t.kind == "hedgepost" else "absent"
            before = [m for m in everything if m.anchor < k]
            if before and _qualifying_aside(text, t, before[-1].end):
                continue
            if before:
                last_m = before[-1]
                for m in before:
                    if m is last_m or all(toks[x].kind in SUBJ_SEP or x in mentions
                                          for x in range(m.anchor + 1, last_m.anchor)):
                        m.polarity = pol
