"""The operative phases of an intraoperative TEE's findings: the lines from a phase heading
("PRE-BYPASS", "Post-CPB (sinus rhythm 80, ...)", "Post-bypass, after graft revision: ...") to the next,
and each phase's own view of the study, in which a claim about that phase is judged.

    views = phase_views(study)  # [] unless the findings head a phase before and one after bypass
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from echogpt.checker.rules import rules
from echogpt.checker.timeframes import blanked
from echogpt.schemas import StatementCheck, Study


@cache
def _cue(kind: str, heading: bool) -> re.Pattern[str]:
    """The words of one kind of phase, ``before`` or ``after`` bypass (``fact_rules.json``
    ``operative_phases``): at a line's start (``heading``) or anywhere."""
    words = "|".join(rules().operative_phases.get(kind, [])) or "(?!)"
    return re.compile((r"^[ \t]*" if heading else r"\b") + f"(?:{words})\\b", re.IGNORECASE | re.MULTILINE)


def phase_spans(text: str) -> list[tuple[int, int, str]]:
    """Spans of each operative phase of a findings text, from its heading line to the next heading.

    Args:
        text: The findings text.

    Returns:
        One (start, end, kind) per phase in text order, kind ``before`` or ``after`` bypass; [] unless
        a phase before bypass and one after are both headed (one "Post-bypass" line is no phase to
        read apart).
    """
    heads = sorted((m.start(), kind) for kind in ("before", "after") for m in _cue(kind, True).finditer(text))
    if len({kind for _, kind in heads}) < 2:
        return []
    ends = [start for start, _ in heads[1:]] + [len(text)]
    return [(start, end, kind) for (start, kind), end in zip(heads, ends, strict=True)]


def phases_named(statement: str) -> set[str]:
    """The kinds of phase a statement names ("Pre-CPB: severe MR" -> {"before"})."""
    return {kind for kind in ("before", "after") if _cue(kind, False).search(statement)}


def phase_views(study: Study) -> list[tuple[str, Study]]:
    """One copy of the study per operative phase: the text before the first phase (the header) and
    that phase's lines, the other phases blanked (offsets kept); the structured measurements, read
    from every phase together (the first value of a twice-given one), are left out of each view.

    Args:
        study: The study.

    Returns:
        (kind, view) per phase, in phase order; [] for a study without operative phases.
    """
    text = study.findings_text
    phases = phase_spans(text)
    spans = [(a, b) for a, b, _ in phases]
    views = []
    for k, (_, _, kind) in enumerate(phases):
        own = blanked(text, spans[:k] + spans[k + 1:], keep=False)
        views.append((kind, study.model_copy(update={"findings_text": own, "measurements": None})))
    return views


def in_a_phase(flagged: StatementCheck, views: list[tuple[str, Study]],
               judge: Callable[[int], StatementCheck]) -> StatementCheck:
    """A flagged statement of an intraoperative study judged on each operative phase alone, of the
    phases it names where it names one: the first phase whose findings support it decides ("Pre-bypass
    severe MR" beside a post-bypass "trace MR"). A statement that denies a finding and names no phase is
    not: one phase's silence (the other phases blanked) is no absence from the whole operation.

    Args:
        flagged: The statement's check on the whole study (contradicted or unsupported).
        views: ``phase_views(study)``.
        judge: Checks the statement on the view of that index.

    Returns:
        The first phase's supported check, its reason naming the phase; else ``flagged``.
    """
    named = phases_named(flagged.text)
    if not named and any(f.polarity == "absent" for f in flagged.facts):
        return flagged
    named = named or {kind for kind, _ in views}
    for k, (kind, _) in enumerate(views, 1):
        if kind not in named:
            continue
        again = judge(k - 1)
        if again.verdict == "supported":
            reason = f"{again.reason} (operative phase {k} of {len(views)})"
            return again.model_copy(update={"reason": reason})
    return flagged
