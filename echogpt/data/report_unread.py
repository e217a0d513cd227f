"""Notes of what the import of a report did not read as findings: values in a section about how the
study was done, lines under no heading. Each note quotes its lines, so that only a claim about what they
name is left unchecked (``Study.unread``).

    notes = values_outside(sections) + unplaced_lines(sections, chosen)
"""

from __future__ import annotations

from echogpt.data.report_headings import closing_line
from echogpt.data.report_identity import labelled_date, labelled_patient_id
from echogpt.data.report_measurements import read_measurements
from echogpt.data.report_sections import RULE, TITLE, Section, heading_kind

# sections about how the study was done: a value of the heart there is out of place, and not read
_CONDUCT = ("procedure", "technique", "sedation")


def values_outside(sections: list[Section]) -> list[str]:
    """Notes of the values the findings do not hold because they stand in a section about how the study
    was done ("Haemodynamics: IVC 23 mm, RAP 15 mmHg" read as a procedure heading), each quoting its
    lines so that only a claim about what they name is left unchecked."""
    notes = []
    for s in sections:
        rows = [line.strip() for n, line in s.rows if s.kind in _CONDUCT
                and read_measurements([(n, line)], table=False)]
        if rows:
            quote = " / ".join(rows).replace('"', "'")
            notes.append(f"values under '{s.heading or s.kind}' were not read as findings: \"{quote}\"")
    return notes


def unplaced_lines(sections: list[Section], chosen: list[Section]) -> list[str]:
    """Notes of the lines no section claims and the findings leave out (text under no heading in a
    report with a findings heading, title lines and the patient number and date lines apart), each
    quoting its lines."""
    notes = []
    for s in sections:
        rows = [line.strip() for line in s.lines if line.strip() and not TITLE.match(line)
                and not (labelled_patient_id(line) or labelled_date(line))]  # who and when: read
        if s.kind == "preamble" and not any(s is c for c in chosen) and rows:
            quote = " / ".join(rows).replace('"', "'")
            notes.append(f"lines under no heading were not read as findings: \"{quote}\"")
    return notes


# sections whose lines the Study keeps (findings apart, which are the chosen sections)
_PLACED = ("superseded", "preliminary", "impression", "indication", "history", "procedure", "technique",
           "sedation", "header", "comparison", "recommendations", "letter", "preamble")


def dropped_lines(text: str, sections: list[Section], chosen: list[Section]) -> list[str]:
    """A note quoting every non-blank line of the report that no kept section holds (the safety net:
    no line vanishes on import). Sign-off lines of the closing are the report's own end, not findings;
    any other line after them is quoted."""
    placed = {n for s in sections if s.kind in _PLACED or any(s is c for c in chosen) for n, _ in s.rows}
    placed |= {n for s in sections if s.kind == "closing" for n, line in s.rows
               if closing_line(line) or _sign_off(line) or s.heading == "addendum"}
    rows = [line.strip() for n, line in enumerate(text.split("\n"), start=1)
            if n not in placed and line.strip() and not RULE.match(line) and not TITLE.match(line)
            and not _bare_heading(line) and not _column_names(line)
            and not (labelled_patient_id(line) or labelled_date(line))]
    if not rows:
        return []
    quote = " / ".join(rows).replace('"', "'")
    return [f"lines no section of the import kept were not read as findings: \"{quote}\""]


def _bare_heading(line: str) -> bool:
    """A heading alone on its line ("Findings:", "Conclusion"): its section holds what it names."""
    found = heading_kind(line)
    return found is not None and not found[2]


def _sign_off(line: str) -> bool:
    """A short line of a signature block ("Senior Resident", "Director, Heart Valve Clinic")."""
    return len(line.split()) <= 4 and not any(c.isdigit() for c in line)


def _column_names(line: str) -> bool:
    """The row of a pipe table that names its columns ("| Parameter | Value |") or rules it off."""
    return line.strip().startswith("|") and not any(c.isdigit() for c in line)
