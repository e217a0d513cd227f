"""Notes of what the import of a report did not read as findings: values in a section about how the
study was done, lines under no heading. Each note quotes its lines, so that only a claim about what they
name is left unchecked (``Study.unread``).

    notes = values_outside(sections) + unplaced_lines(sections, chosen)
"""

from __future__ import annotations

from echogpt.data.report_identity import labelled_date, labelled_patient_id
from echogpt.data.report_measurements import read_measurements
from echogpt.data.report_sections import TITLE, Section

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
