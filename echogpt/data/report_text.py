"""Reading one free-text echo report: its sections, study type, header fields and measurement tables.

Headings and measurement names are data (``resources/report_sections.json``,
``resources/measurement_names.json``); only findings-kind sections become findings text.

    parsed = parse_report(text); parsed.findings_text, parsed.impression, parsed.measurements
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from echogpt.data.report_columns import split_columns
from echogpt.data.report_measurements import Reading, norm, read_measurements

SECTION_KINDS = ("indication", "history", "procedure", "technique", "sedation", "findings", "stage",
                 "anatomy", "measurements", "comparison", "impression", "recommendations", "header")


class SectionTable(BaseModel):
    """``report_sections.json``: heading synonyms per section kind and study-type words."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    about: str = Field(alias="_about")
    findings_kinds: list[str]
    headings: dict[str, list[str]]
    study_types: dict[str, Any]
    narrative_sentences: dict[str, Any]
    history_at_top: list[str] = Field(default_factory=list, description="impression headings that open "
                                      "history when they come before the findings ('Diagnosis:')")
    impression_after_findings: list[str] = Field(default_factory=list, description="findings headings "
                                                 "that open the impression after the findings")
    prior_labels: list[str] = Field(default_factory=list, description="patterns of a line that opens with "
                                    "a label naming an earlier study ('Pre-BMV (10-05-2025): ...')")


def _load(name: str) -> Any:
    return json.loads(resources.files("echogpt.resources").joinpath(name).read_text("utf-8"))


@cache
def section_table() -> SectionTable:
    """The validated heading table; every kind must be one of SECTION_KINDS."""
    tbl = SectionTable.model_validate(_load("report_sections.json"))
    unknown = set(tbl.headings) - set(SECTION_KINDS)
    if unknown:
        raise ValueError(f"report_sections.json: unknown section kinds {sorted(unknown)}; allowed: "
                         f"{', '.join(SECTION_KINDS)}")
    kinds_of: dict[str, set[str]] = {}
    for kind, hs in tbl.headings.items():
        for h in hs:
            kinds_of.setdefault(norm(h), set()).add(kind)
    twice = sorted(n for n, ks in kinds_of.items() if len(ks) > 1)
    if twice:
        raise ValueError(f"report_sections.json: headings under two kinds: {', '.join(twice)}")
    return tbl


@cache
def _headings() -> dict[str, str]:
    """Normalised heading -> section kind."""
    return {norm(h): kind for kind, names in section_table().headings.items() for h in names}


@cache
def _prior_label() -> re.Pattern[str]:
    """One pattern of the labels that open a line about an earlier study ("Index echo 28/09/2026:")."""
    return re.compile("|".join(f"(?:{p})" for p in section_table().prior_labels) or r"(?!)", re.IGNORECASE)


@cache
def _sentence_patterns(kind: str) -> re.Pattern[str]:
    """One pattern of the sentences of ``kind`` ('procedure', 'indication') that are no finding."""
    return re.compile("|".join(f"(?:{p})" for p in section_table().narrative_sentences[kind]), re.IGNORECASE)


# ---------------------------------------------------------------- sections

# A heading line: "FINDINGS", "Findings:", "FINDINGS: text", "1. Impression:", "== Summary ==".
_HEAD = re.compile(r"^\s*(?:\d{1,2}[.)]\s+)?[=*#\s]*([A-Za-z0-9][A-Za-z0-9 /&'()+-]{0,48}?)\s*[=*#]*\s*"
                   r"(?::|\s-\s|$)\s*(.*)$")
# A capitalised heading inside a line: "... normal. IMPRESSION: Normal study."
_INLINE_HEAD = re.compile(r"(?<=[.!?;])\s+([A-Z][A-Z /&]{2,40}):\s*")
_ONE_LINE = ("indication", "history", "technique", "header")
_TITLE = re.compile(r"^\s*[A-Z][A-Z0-9 /&()'-]{2,60}\s*$")
_RULE = re.compile(r"^\s*[-=_*~]{3,}\s*$")
_DATE_ONLY = re.compile(r"^(?:\d{1,4}[./-]\d{1,2}(?:[./-]\d{2,4})?|\d{1,2} [A-Za-z]{3,9},? \d{4}|"
                        r"[A-Za-z]{3,9} \d{1,2},? \d{4}|[A-Za-z]{3,9} \d{4})\.?$")
_AFTER_FINDINGS = ("impression", "recommendations", "closing")
_MARKER = re.compile(r"^\s*(?:\(?\d{1,2}[.)](?!\d)|[-*•·‣▪])\s*")


@dataclass
class Section:
    """One section of a report: its kind, heading as written and its lines (heading excluded),
    each with its line number in the report."""

    kind: str
    heading: str
    rows: list[tuple[int, str]] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return [line for _, line in self.rows]

    @property
    def text(self) -> str:
        return "\n".join(self.lines).strip()


def heading_kind(line: str) -> tuple[str, str, str] | None:
    """The section a line opens, as (kind, heading, rest of the line), or None for a body line.

    A heading is a known name (``report_sections.json``) written in capitals with or without a
    colon, or in any case with a colon, or alone on its line: "IMPRESSION", "Findings:",
    "Reason for exam: chest pain".
    """
    m = _HEAD.match(line)
    if not m:
        return None
    name, rest = m.group(1).strip(), m.group(2).strip()
    bare = re.sub(r"\s*\(.*\)\s*$", "", name)  # "Findings (post-bypass)", "Peak (20 mcg/kg/min)"
    kind = next((_headings()[k] for k in (norm(name), norm(bare), norm(bare).rstrip("s"))
                 if k in _headings()), None)
    if kind is None:
        return None
    sep = line[m.end(1):m.start(2)]
    has_colon = ":" in sep or " - " in sep
    if not (has_colon or not rest):
        return None  # "LV normal in size" is a sentence, not the heading "LV"
    if not has_colon and not (name.isupper() or len(line.strip()) <= 40):
        return None
    if not has_colon and kind in ("header", "anatomy") and not name.isupper():
        return None  # "Left ventricle" alone is a heading only in capitals
    return kind, name, rest


def _split_inline(text: str) -> str:
    """Put capitalised headings that follow a sentence on a line of their own."""

    def cut(m: re.Match[str]) -> str:
        return f"\n{m.group(1)}: " if norm(m.group(1)) in _headings() else m.group(0)

    return _INLINE_HEAD.sub(cut, text)


def split_sections(text: str) -> list[Section]:
    """Cut a report into sections by its headings; text before the first heading is 'preamble'.

    A header line ("MRN: 123") is a one-line section; an anatomy heading ("Mitral valve:") opens
    findings unless the report is already in its findings, measurements or impression. Text after
    a blank line that ends a one-line section ("Views: A4C, subcostal." then a paragraph) is
    unlabelled 'body'. After the impression, a sign-off line ("Electronically signed by ...",
    "Sincerely,", "Dr. A. Reddy, DM") opens a 'closing' section, never impression. The plan written
    after a numbered impression ("Cath lab activated.") stays in the impression, where the checker
    reads it as a plan (not_factual), so that no line of the summary is lost.
    """
    sections = [Section("preamble", "")]
    inline = False  # the current section was opened by "Heading: text" on one line
    concluded = False  # the report has had its impression
    lines = [(n, piece) for n, line in enumerate(text.splitlines(), start=1)
             for piece in _split_inline(line).split("\n")]
    for number, line in lines:
        if _RULE.match(line):
            continue
        current = sections[-1]
        if concluded and current.kind != "closing" and _sentence_patterns("closing").search(line.strip()):
            sections.append(Section("closing", "", [(number, line)]))
            continue
        found = heading_kind(line)
        if found is None and current.kind not in _AFTER_FINDINGS and _prior_label().match(line):
            # "Pre-BMV (10-05-2025): MVA 0.8 cm2": the earlier study's numbers, a line of their own;
            # after it the report goes on where it was (unlabelled text after a one-line section)
            resume = ("preamble", "") if current.kind in _ONE_LINE else (current.kind, current.heading)
            sections += [Section("comparison", "", [(number, line.strip())]), Section(*resume)]
            inline = False
            continue
        if found is None:
            wrapped = (line[:1].islower() or line[:1].isspace()) and not _new_paragraph(line, current)
            if inline and current.kind in ("procedure", "sedation") and not line.strip():
                # "Symptoms: dyspnoea." then a blank line: what follows is the report again
                sections.append(Section("body", ""))
                current = sections[-1]
            elif inline and current.kind in _ONE_LINE and not wrapped:
                # "Reason: chest pain." on one line: the next line is no longer the reason; after
                # a blank line, what follows is unlabelled text of the report
                sections.append(Section("body" if not line.strip() else "preamble", ""))
                current = sections[-1]
            inline = False
            current.rows.append((number, line))
            continue
        if found[0] == "impression" and _history_at_top(found[1], number, len(lines), sections):
            found = ("history", *found[1:])
        elif found[0] == "findings" and _impression_after_findings(found[1], sections):
            found = ("impression", *found[1:])
        concluded = concluded or found[0] == "impression"
        inline = bool(found[2])
        kind, name, rest = found
        if kind == "header" and current.kind in (*section_table().findings_kinds, "impression"):
            current.rows.append((number, line))  # "Rhythm: AF" inside the findings is a finding
            continue
        if kind == "technique" and rest and current.kind in section_table().findings_kinds:
            current.rows.append((number, line))  # "Contrast (SonoVue): no apical thrombus." is a finding
            continue
        if kind == "comparison" and _DATE_ONLY.match(rest) and current.kind not in _AFTER_FINDINGS:
            # "Previous echo: 11-14-2025": the date of the earlier study; the report goes on after it
            resume = ("preamble", "") if current.kind in _ONE_LINE else (current.kind, current.heading)
            sections += [Section("comparison", name, [(number, rest)]), Section(*resume)]
            inline = False
            continue
        if kind == "header":
            sections.append(Section("header", name, [(number, rest)] if rest else []))
            sections.append(Section(current.kind, current.heading))
            continue
        if kind == "anatomy":
            if current.kind == "impression" and _summary_ended(current, sections):
                sections.append(Section("findings", name, [(number, line.strip())]))
                continue
            if current.kind in ("findings", "stage", "measurements", "impression", "comparison"):
                current.rows.append((number, line))  # a sub-heading: the label stays in the text
                continue
            sections.append(Section("findings", name, [(number, line.strip())]))
            continue
        sections.append(Section(kind, name, [(number, rest)] if rest else []))
    sections = [s for s in sections if s.text or s.kind not in ("preamble", "body")]
    kinds = set(section_table().findings_kinds)
    if not any(s.kind in kinds or (s.kind == "preamble" and s.text) for s in sections):
        _split_first_sentence(sections)
    return sections


def _new_paragraph(line: str, current: Section) -> bool:
    """A lower-case line under a one-line section ("indication: fever") is a paragraph of its own,
    not the section's wrapped tail, when it is long and far longer than what it would continue."""
    before = current.rows[-1][1] if current.rows else ""
    return len(line.strip()) >= 100 and len(line.strip()) > 2 * len(before.strip())


def _summary_ended(current: Section, sections: list[Section]) -> bool:
    """A summary at the top of a report ends at a blank line: an anatomy line after it
    ("Left Ventricle: The left ventricle is normal in size.") opens the findings, which such
    reports write without a findings heading. A comparison line before the summary ("Prior Study:
    05/2025 (moderate MR)") is no findings."""
    filled = [line for _, line in current.rows if line.strip()]
    return bool(filled) and not current.rows[-1][1].strip() and not any(
        s.kind in ("findings", "anatomy", "stage") and s.text for s in sections)


def _history_at_top(name: str, number: int, count: int, sections: list[Section]) -> bool:
    """A 'Diagnosis:' line in the header block, before any findings, is the patient's history."""
    kinds = section_table().findings_kinds
    return (norm(name) in section_table().history_at_top and number <= max(3, count // 3)
            and not any(s.kind in kinds for s in sections))


def _impression_after_findings(name: str, sections: list[Section]) -> bool:
    """An 'Interpretation' heading after the findings opens the summary, not more findings."""
    kinds = section_table().findings_kinds
    return norm(name) in section_table().impression_after_findings and any(
        s.kind in kinds and s.text for s in sections)


def _split_first_sentence(sections: list[Section]) -> None:
    """A report with no findings heading and no unlabelled text, written as one paragraph after
    "Clinical history: ...": the first sentence is the history, the rest the findings."""
    for i, s in enumerate(sections):
        if s.kind in ("indication", "history") and s.rows:
            number, first = s.rows[0]
            head, _, rest = first.partition(". ")
            if rest.strip():
                sections.insert(i + 1, Section("preamble", "", [(number, rest), *s.rows[1:]]))
                s.rows = [(number, head + ".")]
                return


# ---------------------------------------------------------------- study type and header


def detect_study_type(sections: list[Section], title: str = "") -> str:
    """TEE, stress or TTE, from the title, header, procedure and technique lines.

    The indication, impression and recommendations are not read ("consider TEE" is no TEE);
    findings are read only when nothing else names the type ("dobutamine was infused").
    """
    words = section_table().study_types
    named = [title] + [s.heading + " " + s.text for s in sections
                       if s.kind in ("preamble", "header", "procedure", "technique", "sedation")]
    later = [s.text for s in sections if s.kind in ("findings", "stage", "anatomy")]
    for texts in (named, later):
        blob = " ".join(texts).lower()
        for kind in ("stress", "TEE"):
            if any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", blob) for w in words[kind]):
                return kind
    return "TTE"


_HEADER_KEYS = {"mrn": "patient_id", "patient id": "patient_id", "hospital number": "patient_id",
                "nhs number": "patient_id", "id": "patient_id", "date": "study_date",
                "study date": "study_date", "exam date": "study_date", "date of study": "study_date",
                "date of exam": "study_date", "age": "patient.age", "sex": "patient.sex",
                "gender": "patient.sex", "height": "patient.height_cm", "weight": "patient.weight_kg",
                "bsa": "patient.bsa_m2", "accession": "study_id", "accession number": "study_id",
                "study id": "study_id", "hr": "measurements.heart_rate",
                "heart rate": "measurements.heart_rate"}


def header_fields(sections: list[Section]) -> dict[str, str]:
    """Identifiers and patient fields from header lines, as Study field path -> raw text.

    Several fields on one line ("Age: 67  Sex: F") are read; the first value of a field wins.
    """
    out: dict[str, str] = {}
    for s in sections:
        if s.kind != "header":
            continue
        pairs = [(s.heading, s.text)]
        # "Age: 67   Sex: F   BSA: 1.9 m2": further "Key: value" pairs on the same line
        parts = re.split(r"\s{2,}|\t|\s[|;,]\s", s.text)
        if len(parts) > 1:
            pairs = [(s.heading, parts[0])] + [tuple(p.split(":", 1)) for p in parts[1:] if ":" in p]
        for key, value in pairs:
            target = _HEADER_KEYS.get(norm(key))
            value = value.strip().rstrip(".")
            if target and value and target not in out:
                out[target] = value
    return out


# ---------------------------------------------------------------- the whole report


_SALINE = r"(?:agitated[- ]saline|bubble (?:study|contrast)|saline contrast)"
# "Date 28.10.2026", "Study date 29/10/2026", "Date of examination: 14.10.2026 | ..." (a colon is
# optional; "Date of birth" is no study date)
_DATED = re.compile(r"\b(?:(?:study|exam(?:ination)?|echo)\s+date|date(?:\s+of\s+(?:study|exam(?:ination)?|"
                    r"echo))?)\s*:?\s*(\d{4}-\d{2}-\d{2}|\d{1,2}([./-])\d{1,2}\2\d{4})\b", re.IGNORECASE)


def labelled_date(text: str, lines: int = 15) -> str | None:
    """The study date after a date label in the report's first lines, as written; None if none."""
    m = _DATED.search("\n".join(text.splitlines()[:lines]))
    return m.group(1) if m else None


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
    summary_heading: str | None = None  # no impression found: the heading of a last block like one
    unread: list[str] = field(default_factory=list)  # parts of the findings the import could not read


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


def _move_procedure(sections: list[Section]) -> list[tuple[int, str]]:
    """Take procedure sentences (sedation doses, consent, cardioversion energies) out of findings
    sections; returns them with their line numbers."""
    moved: list[tuple[int, str]] = []
    pattern = _sentence_patterns("procedure")
    for s in sections:
        kept = []
        for number, line in s.rows:
            parts = _SENTENCE.split(line)
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
            first, *rest = _SENTENCE.split(line.strip(), maxsplit=1)
            if not _sentence_patterns("indication").search(first):
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
            if starts and _sentence_patterns("study_opening").search(line.strip()):
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
        lines = _unwrap([_MARKER.sub("", ln).strip() for ln in section.lines if ln.strip()])
    text = "\n".join(ln for ln in lines if ln.strip())
    if section.kind == "stage" and text:  # "Peak stress: ...": one line that names its stage
        return f"{section.heading}: {' '.join(lines)}"
    if section.kind == "comparison" and text:
        return f"Comparison with prior study: {text}"
    return text


def _prior_from_history(sections: list[Section]) -> None:
    """A sentence of the history that gives an earlier study's values ("Mechanical AVR 2019.
    Baseline post-op study 2019: Vmax 2.6 m/s, MG 14 mmHg.") is a comparison line: the checker
    compares with it, and its numbers are never this study's."""
    for i in range(len(sections) - 1, -1, -1):
        s = sections[i]
        if s.kind not in ("history", "indication"):
            continue
        moved = [(n, p) for n, line in s.rows for p in _SENTENCE.split(line) if _prior_label().match(p)]
        if moved:
            s.rows = [(n, " ".join(p for p in _SENTENCE.split(line) if not _prior_label().match(p)))
                      for n, line in s.rows]
            sections.insert(i + 1, Section("comparison", "", moved))


def _read_columns(sections: list[Section], study_date: str | None) -> list[str]:
    """A comparison table ("IVSd  1.8 cm  1.7 cm" under "11-20-2026  11-14-2025"): this study's
    column becomes a measurements block, the other columns one comparison line (report_columns).
    Returns what could not be read: tables whose study's values could not be told apart."""
    kinds = {"preamble", "body", *section_table().findings_kinds}
    unread = []
    for i in range(len(sections) - 1, -1, -1):
        s = sections[i]
        split = split_columns(s.rows, study_date) if s.kind in kinds else None
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


def unnamed_summary(text: str) -> str | None:
    """The heading of a report's last block when it looks like an unrecognised summary heading: a
    short title line ("REPORT", "Cardiologist report:") over a block that is under half the report."""
    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    if len(blocks) < 2:
        return None
    for block in blocks[-2:][::-1]:  # the last block, or the one before a sign-off
        lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
        head = lines[0].rstrip(":").strip()
        titled = _TITLE.match(head) is not None or (lines[0].endswith(":") and len(head.split()) <= 4)
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
    sections = split_sections(text.replace("\r\n", "\n").replace("\r", "\n"))
    kinds = set(section_table().findings_kinds)
    # a line about an earlier study is no findings section of this one: without a findings heading
    # the unlabelled text is still the findings
    has_findings = any(s.kind in kinds and (s.kind != "comparison" or s.heading) for s in sections)
    for s in sections:
        # an unlabelled block of measurements ("LVIDd: 6.6 cm / IVSd: 0.8 cm") is a measurements table
        if s.kind == "preamble" and has_findings and len(read_measurements(s.rows, table=True)) >= 2:
            s.kind = "measurements"
    header = header_fields(sections)
    dated = labelled_date(text)
    if dated:  # the date alone, not the rest of "Date: 07.10.2026 - 81 y, male"
        header["study_date"] = dated
    unread = _read_columns(sections, header.get("study_date"))
    _prior_from_history(sections)
    impression_at = next((i for i, s in enumerate(sections) if s.kind == "impression"), len(sections))
    chosen = [s for i, s in enumerate(sections) if s.kind in kinds or (
        s.kind in ("preamble", "body") and not has_findings) or (s.kind == "body" and i < impression_at)]
    if not has_findings:
        history = _history_before_the_echo(chosen)
        if history:
            sections.append(Section("history", "", history))
    for s in chosen:
        if s.kind == "preamble":  # a title line ("TRANSTHORACIC ECHOCARDIOGRAM") is no finding
            s.rows = [(n, ln) for n, ln in s.rows if not _TITLE.match(ln)]
    opening = _move_reason(chosen[:1])
    moved = _move_procedure(chosen)
    if moved:
        sections.append(Section("procedure", "", moved))
    findings_text = "\n".join(t for t in (_body(s) for s in chosen) if t)
    impression = "\n".join(t for t in (_body(s) for s in sections if s.kind == "impression") if t) or None
    indication = " ".join(s.text for s in sections if s.kind == "indication").strip() or opening
    lines: list[tuple[int, str]] = []
    table_lines: list[tuple[int, str]] = []
    for s in chosen:
        if s.kind == "comparison":
            continue  # a prior study's numbers are not this study's measurements
        (table_lines if s.kind == "measurements" else lines).extend(s.rows + [(0, "")])
    readings = sorted(read_measurements(lines, table=False) + read_measurements(table_lines, table=True),
                      key=lambda r: r.line)
    evidence = " ".join(s.text for s in sections if s.kind in kinds | {"procedure", "technique"}).lower()
    saline = bool(re.search(_SALINE, evidence)) and not re.search(
        _SALINE + r"[^.]{0,20}\b(?:not (?:performed|done|given)|declined|deferred)", evidence)
    return ParsedReport(sections, findings_text, impression, indication,
                        detect_study_type(sections, title), header, readings, saline,
                        None if impression else unnamed_summary(text), unread)
