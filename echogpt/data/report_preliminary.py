"""Two-stage reports: a sonographer's preliminary findings followed by the cardiologist's final report
("Preliminary (sonographer): ... Final report (cardiologist): ...",
"WORKSHEET (sonographer) ... PHYSICIAN INTERPRETATION ...").

The final report's values are this study's: a value read in the preliminary block is kept only where
the final block neither reads the same field nor names it again (a value re-measured where the
importer cannot read it: "Ascending aorta re-measured at its widest point ...: 4.4 cm"); the one it
supersedes is named in a note, never stored. A final-report heading the sections took for the
impression ("Cardiologist's report:", "PHYSICIAN INTERPRETATION") is findings when the impression
follows under its own heading; an agreement line ("I agree with the preliminary findings.") is no
statement of the impression.

    stages = two_stages(text, sections)
    readings, notes = final_first(readings, stages, amended)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from echogpt.data.report_addenda import superseded_out
from echogpt.data.report_measurements import Reading, norm, read_measurements
from echogpt.data.report_sections import Section, heading_kind

# "Preliminary findings (sonographer):", "SONOGRAPHER PRELIMINARY FINDINGS",
# "Sonographer (preliminary):", "WORKSHEET (sonographer)", "Sonographer prelim: AR mild"
_PRELIM = re.compile(r"^\s*(?:sonographer(?:'?s)?\s*\(?\s*)?(?:preliminary|prelim|worksheet)\b[^:\n]{0,45}?"
                     r"(?::|\s*$)", re.IGNORECASE)
# "Final report (cardiologist):", "CARDIOLOGIST FINAL REPORT", "Cardiologist (final):",
# "FINAL (CARDIOLOGIST)", "PHYSICIAN INTERPRETATION", "Cardiologist's report: ..."; never "Final impression:"
_FINAL = re.compile(r"^\s*(?:(?:reporting\s+)?(?:cardiologist|physician)(?:'?s)?"
                    r"(?:\s*\(?\s*(?:final|report|interpretation|read)\)?)*"
                    r"|final\s*(?:report|read)?\s*\(\s*(?:cardiologist|physician)[^)]*\))\s*(?::|$)",
                    re.IGNORECASE)
# the reader's agreement with the preliminary report: a closing line, no finding
_AGREE = re.compile(r"^\s*(?:i\s+)?(?:fully\s+)?agree(?:d|s)?\s+with\s+(?:the\s+)?(?:preliminary|prelim|"
                    r"sonographer'?s?)\b[^.]*\.?\s*$", re.IGNORECASE)


@dataclass
class Stages:
    """Line numbers (1-based) of the preliminary block and of the final block after it."""

    preliminary: set[int] = field(default_factory=set)
    final: set[int] = field(default_factory=set)
    final_text: str = ""
    rows: list[tuple[int, str]] = field(default_factory=list)  # the preliminary block, set aside


def two_stages(text: str, sections: list[Section]) -> Stages:
    """The preliminary and final blocks of a two-stage report (empty without both), in order; in place,
    a block the sections took for a header line, or a final-report heading taken for an impression heading
    before the impression, turns findings, and agreement lines leave the impression."""
    _agreement_out(sections)
    lines = text.split("\n")
    start = next((n for n, line in enumerate(lines, 1) if _PRELIM.match(line)), None)
    end = next((n for n, line in enumerate(lines, 1) if start and n > start and _FINAL.match(line)), None)
    if start is None or end is None:
        return Stages()
    stop = next((n for n, line in enumerate(lines, 1) if n > end and (heading_kind(line) or ("",))[0]
                 == "impression"), len(lines) + 1)
    stages = Stages(set(range(start, end)), set(range(end, stop)))
    impressions = [s for s in sections if s.kind == "impression" and s.rows]
    for s in sections:
        first = s.rows[0][0] if s.rows else 0
        if (s.kind == "header" and (first in stages.final or first in stages.preliminary)) or (
                s in impressions[:-1] and (first in stages.final or first - 1 in stages.final)):
            s.kind = "findings"  # "Cardiologist (final): ...", "PHYSICIAN INTERPRETATION" over findings
    for s in sections:  # "TR is moderate, not severe": the corrected grade, as in an addendum
        if s.kind not in ("impression", "comparison", "closing"):
            s.rows = [(n, superseded_out(ln) if n in stages.final else ln) for n, ln in s.rows]
    stages.final_text = norm(" ".join(_FINAL.sub("", ln) for s in sections
                                      if s.kind not in ("comparison", "closing", "impression")
                                      for n, ln in s.rows if n in stages.final))
    if stages.final_text:  # the final report gives findings of its own, not only its agreement
        _set_aside(sections, stages)
    return stages


def _set_aside(sections: list[Section], stages: Stages) -> None:
    """The preliminary block leaves the findings (its grades are not the study's where the final report
    differs) for a section of its own, superseded, whose values ``final_first`` still weighs."""
    for s in sections:
        if s.kind in ("impression", "comparison", "closing", "indication", "history"):
            continue
        stages.rows += [(n, ln) for n, ln in s.rows if n in stages.preliminary]
        s.rows = [(n, ln) for n, ln in s.rows if n not in stages.preliminary]
    sections.append(Section("preliminary", "Preliminary findings", sorted(stages.rows)))


def preliminary_note(stages: Stages) -> list[str]:
    """The preliminary block the final report replaced, quoted (``Study.superseded``): kept for the
    record, never evidence, never text the import could not read."""
    rows = [line.strip() for _, line in sorted(stages.rows) if line.strip()]
    if not rows:
        return []
    quote = " / ".join(rows).replace('"', "'")
    return [f"the preliminary findings, replaced by the final report: \"{quote}\""]


def _agreement_out(sections: list[Section]) -> None:
    """An impression's agreement line ("I agree with the preliminary findings.") moves aside."""
    for s in [s for s in sections if s.kind == "impression"]:
        kept = [(n, ln) for n, ln in s.rows if not _AGREE.match(ln)]
        if len(kept) != len(s.rows):
            sections.append(Section("closing", "agreement", [r for r in s.rows if r not in kept]))
            s.rows = kept


def final_first(readings: list[Reading], stages: Stages, amended: set[int]
                ) -> tuple[list[Reading], list[str]]:
    """Readings in the order their values win (an addendum's, then the final report's, then the rest),
    without the preliminary values the final report supersedes; notes name the ones left out."""
    readings = readings + read_measurements(stages.rows, table=False)
    ordered = sorted(readings, key=lambda r: (r.line not in amended, r.line not in stages.final, r.line))
    if not stages.final:
        return ordered, []
    fields = {r.field for r in readings if r.line in stages.final}
    kept, notes = [], []
    for r in ordered:
        named = re.search(rf"(?<![a-z0-9]){re.escape(_name(r))}(?![a-z0-9])", stages.final_text)
        if r.line in stages.preliminary and (r.field in fields or named):
            notes.append(f"'{r.quote}' (preliminary findings): superseded by the final report; not stored")
        else:
            kept.append(r)
    return kept, notes


def _name(reading: Reading) -> str:
    """The name a reading was written with ("Vmax 3.7 m/s" -> "vmax")."""
    return norm(re.split(r"[\d:(]", reading.quote, maxsplit=1)[0])
