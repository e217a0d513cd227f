"""Earlier studies named in the history or the header lines of a report: their values become
comparison lines, never this study's measurements.

    prior_from_history(sections)
"""

from __future__ import annotations

import re

from echogpt.data.report_sections import SENTENCE_BREAK, Section, prior_label

# the date of an earlier study: "2024", "05/2024", "14/05/2025", "2025-05-14", "May 2025", "14 May 2025"
_DATE = (r"(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)?\d{2}|(?:19|20)\d{2}-\d{2}-\d{2}|"
         r"(?:\d{1,2}\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?:19|20)\d{2}|"
         r"(?:\d{1,2}/)?(?:19|20)\d{2})")
# "(echo 2024: AV Vmax 3.1 m/s, mean gradient 21 mmHg)", "(TTE 14/05/2025: Vmax 4.1 m/s)": an earlier
# study named by its date, in brackets, with its values
_DATED_ASIDE = re.compile(rf"\(\s*((?:echo\w*|tte|tee|toe|study|scan)\s+(?:in\s+|on\s+|of\s+)?"
                          rf"(?P<date>{_DATE})\s*:[^()]*\d[^()]*)\)", re.IGNORECASE)


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


def prior_asides(sections: list[Section], study_date: str | None = None) -> None:
    """An earlier study's values in brackets in a line under no heading or in the history ("known
    aortic stenosis (echo 2024: AV Vmax 3.1 m/s)") become a comparison line of their own and leave the
    line, so that they are never read as this study's. An aside dated as the study itself
    (``study_date``, the header's date as written) is this study's and stays."""
    for i in range(len(sections) - 1, -1, -1):
        s = sections[i]
        if s.kind not in ("preamble", "history", "indication", "measurements"):
            continue
        found: list[tuple[int, str]] = []
        for j, (n, line) in enumerate(s.rows):
            asides = [m for m in _DATED_ASIDE.finditer(line)
                      if not (study_date and m.group("date").strip() in study_date)]
            found += [(n, m.group(1).strip()) for m in asides]
            for m in reversed(asides):  # "known AS (echo 2024: ...)." -> "known AS."
                line = line[:m.start()].rstrip() + line[m.end():]
            s.rows[j] = (n, line)
        if found:
            sections.insert(i + 1, Section("comparison", "", found))
