"""Earlier studies named in the history or the header lines of a report: their values become
comparison lines, never this study's measurements.

    prior_from_history(sections)
"""

from __future__ import annotations

import re

from echogpt.data.report_sections import SENTENCE_BREAK, Section, prior_label

# "(echo 2024: AV Vmax 3.1 m/s, mean gradient 21 mmHg)": an earlier study named by its year, in brackets
_DATED_ASIDE = re.compile(r"\(\s*((?:echo\w*|tte|tee|toe|study|scan)\s+(?:in\s+)?(?:\d{1,2}/)?(?:19|20)\d{2}"
                          r"\s*:[^()]*\d[^()]*)\)", re.IGNORECASE)


def prior_from_history(sections: list[Section]) -> None:
    """A sentence of the history that gives an earlier study's values ("Mechanical AVR 2019.
    Baseline post-op study 2019: Vmax 2.6 m/s, MG 14 mmHg.") is a comparison line: the checker
    compares with it, and its numbers are never this study's."""
    for i in range(len(sections) - 1, -1, -1):
        s = sections[i]
        if s.kind not in ("history", "indication"):
            continue
        moved = [(n, p) for n, line in s.rows for p in SENTENCE_BREAK.split(line) if prior_label().match(p)]
        if moved:
            s.rows = [(n, " ".join(p for p in SENTENCE_BREAK.split(line) if not prior_label().match(p)))
                      for n, line in s.rows]
            sections.insert(i + 1, Section("comparison", "", moved))




def prior_asides(sections: list[Section]) -> None:
    """An earlier study's values in brackets in a line under no heading or in the history ("known
    aortic stenosis (echo 2024: AV Vmax 3.1 m/s)") become a comparison line of their own."""
    for i in range(len(sections) - 1, -1, -1):
        s = sections[i]
        if s.kind not in ("preamble", "history", "indication", "measurements"):
            continue
        found = [(n, m.group(1).strip()) for n, line in s.rows for m in _DATED_ASIDE.finditer(line)]
        if found:
            sections.insert(i + 1, Section("comparison", "", found))
