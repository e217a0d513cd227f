"""Which parts of a findings text speak of another time than this study at rest: an earlier study
("previously 35 %", a "Comparison:" line) and, in a stress echo, the stress images. ``study_facts.py``
reads the facts of each part apart.

    spans = about_prior("LVEF 55 % (was 35 % in 2024).")
"""

from __future__ import annotations

import re
from functools import cache

from echogpt.checker.lexicon import SENTENCE_END
from echogpt.checker.rules import rule_regex, rules
from echogpt.checker.tokens import STATING, tokens


@cache
def prior_cues() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The prior-study cues, the phrases that look like cues and are not ("the previously seen
    thrombus" is a finding of this study), and a comparison section's heading."""
    r = rules()
    return (rule_regex(r.prior_sentence_cues), rule_regex(r.prior_cue_exceptions),
            re.compile(r.prior_section, re.I | re.M))


NOW_WORDS = re.compile(r"\b(?:now|today|currently|at present)\b", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[,;()]|\s(?:but|whereas|while)\s")
_SEGMENT_END = re.compile(SENTENCE_END.pattern + "|$")  # a sentence's end, or the text's


def about_prior(text: str) -> list[tuple[int, int]]:
    """Spans of a findings text that describe the prior study: a comparison section's lines
    ("Comparison: prior TTE 2023: moderate AS"), else the clauses of a sentence that hold a cue
    ("Mild MR (previously moderate)", "LVEF 45%, previously 50%"); the rest of the sentence is this
    study's."""
    cues, exceptions, section = prior_cues()
    if cues.search(text) is None:  # most texts: no cue anywhere
        return []
    spans, start = [], 0
    for m in _SEGMENT_END.finditer(text):
        seg_end = m.start()
        line_start = text.rfind("\n", 0, start) + 1
        if section.match(text, line_start) and text.find("\n", line_start) in (-1, text.find("\n", start)):
            spans.append((start, seg_end))  # a sentence of a comparison section
        elif cues.search(text, start, m.end()):
            a, was_prior, opened, inside = start, False, False, False
            for c in [*_CLAUSE_END.finditer(text, start, seg_end), None]:
                b = c.start() if c is not None else seg_end
                clause = exceptions.sub(lambda x: " " * len(x.group()), text[a:b])
                cued = bool(cues.search(clause))
                # "(was 3.1 m/s, RAP 8, RVSP 46 mmHg)": a parenthesis that opens with a cue is the
                # prior's to its end
                inside = (inside or (opened and cued)) and not NOW_WORDS.search(clause)
                # "Compared with 2024 (EF 50%)", "the vegetation seen previously (1.2 cm)": the
                # parenthesis says what the prior study showed
                was_prior = cued or inside or (opened and was_prior)
                if not was_prior and c is not None and c.group() == "(" and cues.search(text, a, b):
                    was_prior = True  # a parenthesis follows: mark it below, not this clause
                    spans.append((b, b))
                    opened, a = True, c.end()
                    continue
                if was_prior:
                    spans.append((a, b))
                inside = inside and c is not None and c.group() != ")"
                opened = c is not None and c.group() == "("
                a = c.end() if c is not None else b
        if m.end() >= len(text):
            break
        start = m.end()
    return spans


def blanked(text: str, spans: list[tuple[int, int]], keep: bool) -> str:
    """The text with the spans (``keep`` False) or everything but them blanked, offsets unchanged
    (line breaks and full stops that end a sentence stay)."""
    blank = _NOT_BOUNDARY.sub(" ", text)
    if "." in text:
        chars = list(blank)
        for m in _DECIMAL.finditer(text):
            chars[m.start()] = " "
        blank = "".join(chars)
    inside, outside = (text, blank) if keep else (blank, text)
    out, at = [], 0
    for a, b in sorted(spans):
        if b <= at:
            continue
        a = max(a, at)
        out += [outside[at:a], inside[a:b]]
        at = b
    out.append(outside[at:])
    return "".join(out)


_NOT_BOUNDARY = re.compile(r"[^\n.]")
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")


def prior_view(text: str, spans: list[tuple[int, int]]) -> str:
    """The prior clauses with the subject of their sentence: a sentence that holds a prior span keeps
    its words but the grades, numbers and cues outside the span ("Mild MR (previously moderate)"
    reads "     MR (previously moderate)"); the other sentences are blanked."""

    keep: list[tuple[int, int]] = []
    start = 0
    for m in _SEGMENT_END.finditer(text):
        end = m.end()
        inner = [sp for sp in spans if start <= sp[0] < end]
        if inner:
            a = start
            for t in tokens(text[start:end]):
                x, y = start + t.start, start + t.end
                if t.kind in STATING and not any(p <= x < q for p, q in inner):
                    keep.append((a, x))
                    a = y
            keep.append((a, end))
        if end >= len(text):
            break
        start = end
    return blanked(text, keep, keep=True)


@cache
def _stress_cues() -> re.Pattern[str]:
    cues = rules().stress_phase_cues["cues"]
    return rule_regex(list(cues))


# A line labelled with its stage: "Peak stress: ...", "Post exercise images: ...", "Stress: ...".
_STAGE_LABEL = re.compile(r"^([^:\n]{1,40}):[^\n]*", re.MULTILINE)
_STRESS_WORD = re.compile(r"\b(?:stress|peak)\b", re.IGNORECASE)


def stress_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of a stress echo's findings sentences about low-dose, peak or recovery images: those
    with a stage cue, and every sentence of a line labelled with a stage other than rest."""
    cues = _stress_cues()
    labelled = [(m.start(), m.end()) for m in _STAGE_LABEL.finditer(text)
                if cues.search(m.group(1)) or _STRESS_WORD.search(m.group(1))]
    if cues.search(text) is None and not labelled:
        return []
    spans, start = [], 0
    for m in _SEGMENT_END.finditer(text):
        if cues.search(text, start, m.end()) or any(a <= start < b for a, b in labelled):
            spans.append((start, m.start()))
        if m.end() >= len(text):
            break
        start = m.end()
    return spans
