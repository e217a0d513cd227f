"""Reading one free-text echo report: its findings, impression, study type, header fields and
measurement tables, from its sections (``report_sections``).

Measurement names are data (``resources/measurement_names.json``); only findings-kind sections
become findings text.

    parsed = parse_report(text); parsed.findings_text, parsed.impression, parsed.measurements
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from echogpt.data.report_addenda import take_addenda
from echogpt.data.report_columns import pipe_table, split_columns
from echogpt.data.report_core_lab import core_values
from echogpt.data.report_demographics import prose_demographics
from echogpt.data.report_flags import bubble_study, study_flags
from echogpt.data.report_header import detect_study_type, header_fields
from echogpt.data.report_hl7 import message_report
from echogpt.data.report_identity import labelled_date, labelled_patient_id
from echogpt.data.report_key_values import key_value_labels
from echogpt.data.report_markup import plain_text
from echogpt.data.report_measurements import Reading, norm, read_measurements
from echogpt.data.report_numbers import decimal_points
from echogpt.data.report_preliminary import final_first, preliminary_note, two_stages
from echogpt.data.report_priors import prior_asides, prior_from_history
from echogpt.data.report_scan import scanned_text
from echogpt.data.report_sections import (
    MARKER,
    SECTION_KINDS,
    SENTENCE_BREAK,
    TITLE,
    Section,
    SectionTable,
    heading_kind,
    section_table,
    sentence_patterns,
    split_sections,
)
from echogpt.data.report_spoken import written_numbers
from echogpt.data.report_struck import drop_struck
from echogpt.data.report_ticks import tick_lines
from echogpt.data.report_unread import dropped_lines, unplaced_lines, values_outside

__all__ = ["SECTION_KINDS", "ParsedReport", "Reading", "Section", "SectionTable", "detect_study_type",
           "header_fields", "heading_kind", "parse_report", "section_table",
           "split_sections", "unnamed_summary"]


# ---------------------------------------------------------------- the whole report


@dataclass
class ParsedReport:
    """A report cut into what a Study needs."""

    sections: list[Section]
    findings_text: str
    impression: str | None
    indication: str | None
    study_type: str
    header: dict[str, str]
    readings: list[Reading]
    agitated_saline: bool
    contrast: bool = False  # an ultrasound-enhancing agent was given
    lbbb: bool = False  # left bundle branch block on the rhythm line
    ventilated: bool = False  # mechanically ventilated at the study
    rhythm: str | None = None  # the rhythm a labelled line states (a Study.rhythm value)
    summary_heading: str | None = None  # no impression found: the heading of a last block like one
    unread: list[str] = field(default_factory=list)  # parts of the findings the import could not read
    recommendations: list[str] = field(default_factory=list)  # the plan outside the impression
    superseded: list[str] = field(default_factory=list)  # what a later part of the report replaces
    furniture: list[str] = field(default_factory=list)  # page headers and footers dropped mid-report
    format_notes: list[str] = field(default_factory=list)  # what the input's format kept from being read


def _move_procedure(sections: list[Section]) -> list[tuple[int, str]]:
    """Take procedure sentences (sedation doses, consent, cardioversion energies) out of findings
    sections; returns them with their line numbers."""
    moved: list[tuple[int, str]] = []
    pattern = sentence_patterns("procedure")
    for s in sections:
        kept = []
        for number, line in s.rows:
            parts = SENTENCE_BREAK.split(line)
            out = [p for p in parts if not pattern.search(p)]
            moved += [(number, p) for p in parts if pattern.search(p)]
            if out or not line.strip():
                kept.append((number, " ".join(out) if len(out) < len(parts) else line))
        s.rows = kept
    return moved


def _move_reason(sections: list[Section]) -> str | None:
    """Take an opening sentence that gives the reason for the study ("Echocardiogram for chest
    pain.", "The study was requested to look for ...") out of the findings; returns it."""
    for s in sections:
        for i, (number, line) in enumerate(s.rows):
            if not line.strip():
                continue
            first, *rest = SENTENCE_BREAK.split(line.strip(), maxsplit=1)
            if not sentence_patterns("indication").search(first):
                return None
            s.rows[i] = (number, rest[0] if rest else "")
            return first
    return None


def _history_before_the_echo(chosen: list[Section]) -> list[tuple[int, str]]:
    """Prose without a findings heading (a clinic letter) turns to the echo with a paragraph such as
    "His echocardiogram today shows ..."; the paragraphs before it (letterhead, history,
    examination) are no findings: they are taken out and returned."""
    for s in chosen:
        for j, (_, line) in enumerate(s.rows):
            starts = j > 0 and not s.rows[j - 1][1].strip() and line.strip()
            if starts and sentence_patterns("study_opening").search(line.strip()):
                before, s.rows = s.rows[:j], s.rows[j:]
                return [row for row in before if row[1].strip()]
    return []


def _unwrap(lines: list[str]) -> list[str]:
    """Join lines a fixed width broke mid-sentence: a line that ends no sentence, followed by one that
    starts in lower case ("Moderate functional mitral" / "regurgitation, centrally directed.")."""
    out: list[str] = []
    for line in lines:
        if out and line[:1].islower() and not out[-1].endswith((".", "!", "?", ":")):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


def _body(section: Section) -> str:
    if section.kind == "impression":
        lines = [ln.rstrip() for ln in section.lines]
    else:
        lines = _unwrap([MARKER.sub("", ln).strip() for ln in section.lines if ln.strip()])
    text = "\n".join(ln for ln in lines if ln.strip())
    if section.kind == "stage" and text:  # "Peak stress: ...": one line that names its stage
        return f"{section.heading}: {' '.join(lines)}"
    if section.kind == "comparison" and text:
        # "Previous echo (November 2025): ...": the heading dates the earlier study; it is kept
        label = f"{section.heading}: " if re.search(r"\d", section.heading) else ""
        return f"Comparison with prior study: {label}{text}"
    return text


def _paragraph_before_findings(sections: list[Section]) -> None:
    """The paragraph under no heading at the top that runs into a findings block opened by a label
    ("Subpulmonary (morphological left) ventricle: normal size." over "Atria: RA normal.") is findings:
    labels the heading table does not know start the findings too. Title, patient-number and date lines
    stay out."""
    for i in range(len(sections) - 2, -1, -1):
        s, nxt = sections[i], sections[i + 1]
        if s.kind != "preamble" or not s.rows or not s.rows[-1][1].strip() \
                or nxt.kind != "findings" or not nxt.rows or not nxt.heading \
                or not nxt.rows[0][1].strip().startswith(nxt.heading) or nxt.rows[0][0] != s.rows[-1][0] + 1:
            continue
        found = heading_kind(f"{nxt.heading}:")
        if found is not None and found[0] == "findings":  # "FINDINGS:": what comes before it is no finding
            continue
        blank = max((j for j, (_, line) in enumerate(s.rows) if not line.strip()), default=-1)
        tail = [(n, line) for n, line in s.rows[blank + 1:] if not (labelled_patient_id(line) or
                                                                    labelled_date(line))]
        while tail and TITLE.match(tail[0][1]):  # a title over the paragraph; sub-headings in it stay
            tail.pop(0)
        if tail:
            s.rows = s.rows[:blank + 1]
            sections.insert(i + 1, Section("findings", "", tail))


# sections the Study keeps in its indication, labelled: what is known of the patient and how the study
# was done ("History: ...", "Procedure: ..."), never findings
_CONTEXT = ("history", "procedure", "technique", "sedation")


def context_lines(sections: list[Section]) -> list[str]:
    """The history and the account of how the study was done, one labelled line per section."""
    out = []
    for s in sections:
        text = " ".join(line.strip() for line in s.lines if line.strip())
        if s.kind in _CONTEXT and text:
            out.append(f"{s.heading or s.kind.capitalize()}: {text}")
    return out


def plan_lines(sections: list[Section]) -> list[str]:
    """The plan outside the impression, one labelled line per section ("Recommendations: Repeat
    study in one year."): kept for the reader (``Study.recommendations``), never read as findings."""
    out = []
    for s in sections:
        text = " ".join(line.strip() for line in s.lines if line.strip())
        if s.kind in ("recommendations", "letter") and text:
            out.append(f"{s.heading or 'Recommendations'}: {text}")
    return out


def _read_columns(sections: list[Section], study_date: str | None) -> list[str]:
    """A comparison table ("IVSd  1.8 cm  1.7 cm" under "11-20-2026  11-14-2025"): this study's
    column becomes a measurements block, the other columns one comparison line (report_columns); a
    pipe table of names and values ("| LVEF | 62 % |") becomes a measurements block of its own.
    Returns what could not be read: tables whose study's values could not be told apart."""
    kinds = {"preamble", "body", *section_table().findings_kinds}
    unread = []
    for i in range(len(sections) - 1, -1, -1):
        s = sections[i]
        split = split_columns(s.rows, study_date) if s.kind in kinds else None
        if split is None and s.kind in kinds:
            _read_pipe_tables(sections, i)
            continue
        if split is None or split.unread:
            unread += [split.unread] if split else []
            continue
        first = min(split.taken)
        rest = [row for row in s.rows if row[0] not in split.taken]
        sections[i:i + 1] = [Section(s.kind, s.heading, [r for r in rest if r[0] < first]),
                             Section("comparison", "", [(first, split.earlier)]),
                             Section("measurements", "", split.current),
                             Section(s.kind, s.heading, [r for r in rest if r[0] > first])]
    return unread


def _read_pipe_tables(sections: list[Section], i: int) -> None:
    """Each pipe table of names and values in section ``i`` ("| LVEF | 62 % |") becomes a measurements
    section of "Name: value" lines in its place (report_columns.pipe_table)."""
    s = sections[i]
    table = pipe_table(s.rows)
    if table is None:
        return
    first = min(table.taken)
    after = Section(s.kind, s.heading, [r for r in s.rows if r[0] > max(table.taken)])
    sections[i:i + 1] = [Section(s.kind, s.heading, [r for r in s.rows if r[0] < first]),
                         Section("measurements", "", table.current), after]
    _read_pipe_tables(sections, i + 2)


def unnamed_summary(text: str) -> str | None:
    """The heading of a report's last block when it looks like an unrecognised summary heading: a
    short title line ("REPORT", "Cardiologist report:") over a block that is under half the report."""
    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    if len(blocks) < 2:
        return None
    for block in blocks[-2:][::-1]:  # the last block, or the one before a sign-off
        lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
        head = lines[0].rstrip(":").strip()
        titled = TITLE.match(head) is not None or (lines[0].endswith(":") and len(head.split()) <= 4)
        if len(lines) >= 2 and titled and not re.search(r"\d", head) and len(block) < len(text) / 2:
            return head
    return None


def parse_report(text: str, title: str = "") -> ParsedReport:
    """Cut a report into findings text, impression, indication, study type, header and measurements.

    Args:
        text: the whole report.
        title: a file name or title that may name the study type.

    Returns:
        The parsed report. Without any findings heading, the preamble (text before the first
        heading) is the findings; with no impression heading the impression is None.
    """
    message = message_report(text)  # an HL7 v2 result message: the report it carries
    if message is not None:
        text, title = message.text, f"{title} {message.title}".strip()
    text = plain_text(text.replace("\r\n", "\n").replace("\r", "\n"))  # an export's HTML markup
    text = written_numbers(text)  # a dictation's "two point two"
    text, furniture = scanned_text(text)  # a scan's page footers, lines broken at a fixed width
    text, commas = decimal_points(text)  # "1,95 m2" -> "1.95 m2"
    text, struck = drop_struck(text)  # "RAP ~~3~~ 15 mmHg": the reviewer's value, not the struck one
    text = tick_lines(key_value_labels(core_values(text)))  # "site 38 % / core 43 %" -> "43 % (site 38 %)"
    sections = split_sections(text)
    staff = set(section_table().personnel)
    for s in sections:  # who did or read the study ("Fellow: Dr X") is its header, never its indication
        if s.kind == "procedure" and norm(s.heading) in staff:
            s.kind = "header"
    kinds = set(section_table().findings_kinds)
    # a line about an earlier study is no findings section of this one: without a findings heading
    # the unlabelled text is still the findings
    has_findings = any(s.kind in kinds and (s.kind != "comparison" or s.heading) for s in sections)
    for s in sections:
        # an unlabelled block of measurements ("LVIDd: 6.6 cm / IVSd: 0.8 cm") is a measurements table
        if s.kind == "preamble" and has_findings and len(read_measurements(s.rows, table=True)) >= 2:
            s.kind = "measurements"
    replaced = take_addenda(sections)
    stages = two_stages(text, sections)  # a sonographer's preliminary findings and the final report
    header = header_fields(sections)
    for key, value in prose_demographics(text, sections).items():  # "Male, 64.   BSA 1.82 m2"
        header.setdefault(key, value)
    dated = labelled_date(text)
    if dated:  # the date alone, not the rest of "Date: 07.10.2026 - 81 y, male"
        header["study_date"] = dated
    if "patient_id" not in header:  # "Hosp no. K123456", "Name: J Doe | MRN 448812 | DOB ..."
        number = labelled_patient_id(text)
        if number:
            header["patient_id"] = number
    header.update(message.header if message is not None else {})  # the message's own fields win
    unread = _read_columns(sections, header.get("study_date"))
    prior_from_history(sections)
    prior_asides(sections, header.get("study_date"))
    _paragraph_before_findings(sections)
    impression_at = next((i for i, s in enumerate(sections) if s.kind == "impression"), len(sections))
    # an impression at the top ("IMPRESSION: ..." over the report): the text after it is the report's
    at_top = all(s.kind in ("preamble", "header", "indication", "history") for s in sections[:impression_at])
    chosen = [s for i, s in enumerate(sections) if s.kind in kinds or (
        s.kind in ("preamble", "body") and not has_findings)
        or (s.kind == "body" and (i < impression_at or at_top))]
    if not has_findings:
        history = _history_before_the_echo(chosen)
        if history:
            sections.append(Section("history", "", history))
    for s in chosen:
        if s.kind == "preamble" or (s.kind == "findings" and not s.heading):
            # a title line ("TRANSTHORACIC ECHOCARDIOGRAM") is no finding, nor who and when
            s.rows = [(n, ln) for n, ln in s.rows if not TITLE.match(ln) and not (
                s.kind == "findings" and (labelled_patient_id(ln) or labelled_date(ln)))]
    opening = _move_reason(chosen[:1])
    moved = _move_procedure(chosen)
    if moved:
        sections.append(Section("procedure", "", moved))
    findings_text = "\n".join(t for t in (_body(s) for s in chosen) if t)
    impression = "\n".join(t for t in (_body(s) for s in sections if s.kind == "impression") if t) or None
    # the reason, an opening sentence that gave it too, then the history and how the study was done
    reasons = [s.text for s in sections if s.kind == "indication" and s.text]
    indication = " ".join([*reasons, *([opening] if opening else []), *context_lines(sections)]) or None
    lines: list[tuple[int, str]] = []
    table_lines: list[tuple[int, str]] = []
    for s in chosen:
        if s.kind == "comparison":
            continue  # a prior study's numbers are not this study's measurements
        (table_lines if s.kind == "measurements" else lines).extend(s.rows + [(0, "")])
    # an addendum's values correct the report's: they come first, and the first value of a field is kept
    amended = {n for s in sections if s.heading == "Addendum" for n, _ in s.rows}
    readings, superseded = final_first(read_measurements(lines, table=False)
                                       + read_measurements(table_lines, table=True), stages, amended)
    # the findings as read (unlabelled text too, when no heading names them), never an earlier study
    saline = bubble_study([s.text for s in chosen if s.kind != "comparison"]
                          + [s.text for s in sections if s.kind in ("procedure", "technique")])
    return ParsedReport(sections, findings_text, impression, indication,
                        detect_study_type(sections, title), header, readings, saline,
                        **study_flags(sections),
                        summary_heading=None if impression else unnamed_summary(text),
                        unread=commas + unread + values_outside(sections)
                        + unplaced_lines(sections, chosen) + dropped_lines(text, sections, chosen),
                        recommendations=plan_lines(sections),
                        superseded=struck + replaced + preliminary_note(stages) + superseded,
                        furniture=furniture, format_notes=message.warnings if message is not None else [])
