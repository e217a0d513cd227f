"""The sections of one free-text echo report: the cut into sections by its headings
(``report_headings``), signature lines, plans and earlier-study lines.

Headings, sign-off patterns and prior-study labels are data (``resources/report_sections.json``).

    sections = split_sections(text); [(s.kind, s.heading) for s in sections]
"""

from __future__ import annotations

import re

from echogpt.data.report_columns import pipe_table
from echogpt.data.report_headings import (
    SECTION_KINDS,
    Section,
    SectionTable,
    closing_line,
    heading_kind,
    heading_names,
    prior_label,
    section_table,
    sentence_patterns,
    split_inline,
)
from echogpt.data.report_measurements import norm
from echogpt.data.report_sbar import sbar_sections

__all__ = ["MARKER", "RULE", "SECTION_KINDS", "SENTENCE_BREAK", "TITLE", "Section", "SectionTable",
           "heading_kind", "prior_label", "section_table", "sentence_patterns", "split_sections"]

# ---------------------------------------------------------------- sections

ONE_LINE = ("indication", "history", "technique", "header")
TITLE = re.compile(r"^\s*[A-Z][A-Z0-9 /&()'-]{2,60}\s*$")
RULE = re.compile(r"^\s*[-=_*~]{3,}\s*$")
# where a sentence of prose ends: after . ! ? before a capital or a parenthesis
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
_DATE_ONLY = re.compile(r"^(?:\d{1,4}[./-]\d{1,2}(?:[./-]\d{2,4})?|\d{1,2} [A-Za-z]{3,9},? \d{4}|"
                        r"[A-Za-z]{3,9} \d{1,2},? \d{4}|[A-Za-z]{3,9} \d{4})\.?$")
_AFTER_FINDINGS = ("impression", "recommendations", "closing", "letter")
# sections that a label opens on its line ("hx: ...", "Procedure: ..."): they cover that paragraph only
_PARAGRAPH = ("indication", "history", "technique", "procedure", "sedation")
# an e-mail quote prefix; a lone ">" before a number is a comparison ("> 50 % collapse")
_QUOTED_LINE = re.compile(r"^\s*(?!>[ \t]*[\d.=])(?:>[ \t]*)+")
_QUOTE_ONLY = re.compile(r"^\s*(?:>\s*)+$")
MARKER = re.compile(r"^\s*(?:\(?\d{1,2}[.)](?!\d)|[-*•·‣▪])\s*")



def split_sections(text: str) -> list[Section]:
    """Cut a report into sections by its headings; text before the first heading is 'preamble'.

    A header line ("MRN: 123") is a one-line section; an anatomy heading ("Mitral valve:") opens
    findings unless the report is already in its findings, measurements or impression. Text after
    a blank line that ends a one-line section ("Views: A4C, subcostal." then a paragraph) is
    unlabelled 'body'; so is text after the blank line that ends a comparison opened on one line
    ("Comparison: echo 14/03/2026 - effusion 12 mm." then today's findings paragraph), unless that
    line ends in a colon and introduces the earlier values. After the impression, a sign-off line
    ("Electronically signed by ...", "Sincerely,", "Dr. A. Reddy, DM") opens a 'closing' section,
    never impression. The plan written after a numbered impression ("Cath lab activated.") stays in
    the impression, where the checker reads it as a plan (not_factual), so that no line of the
    summary is lost.
    """
    sections = [Section("preamble", "")]
    inline = False  # the current section was opened by "Heading: text" on one line
    open_comparison = False  # ... and it is a comparison, which ends at the next blank line
    paragraph = False  # ... and it is history or procedure, which ends at the next blank line
    concluded = False  # the report has had its impression
    depth = 0  # how deep the last heading's line was quoted in an e-mail ('>> IMPRESSION:': 2)
    # a quoted blank line (">>") is a blank line
    lines = [(n, "" if _QUOTE_ONLY.match(line) else piece)
             for n, line in enumerate(text.splitlines(), start=1) for piece in split_inline(line).split("\n")]
    for i, (number, line) in enumerate(lines):
        if RULE.match(line):
            continue
        current = sections[-1]
        if depth and current.kind == "impression" and line.strip() and _quote_depth(line) != depth:
            # "> Could you let me know tonight ...?" under a ">> IMPRESSION:": another message's text
            # (under an unquoted heading, "> Severe TR." is a bullet)
            sections.append(Section("closing", "", [(number, line)]))
            continue
        if concluded and current.kind != "closing" and closing_line(line):
            sections.append(Section("closing", "", [(number, line)]))
            continue
        if concluded and current.kind not in ("closing", "letter") \
                and sentence_patterns("letter").search(line.strip()):
            # "Dear Dr Patel, ..." after the impression: a letter to the referrer, kept with the plan
            sections.append(Section("letter", "Letter", [(number, line)]))
            continue
        found = heading_kind(line, paragraph_start=i > 0 and not lines[i - 1][1].strip())
        if found is not None and found[0] == "impression" and _title_line(line, lines[:i]):
            found = None  # "REMOTE INTERPRETATION - Portable TTE" over the report: its title
        # "Baseline (02/2026): LVEF 62%": a dated earlier study, not the resting stage of a stress echo
        earlier = found is None or found[0] == "stage"
        if earlier and current.kind not in _AFTER_FINDINGS and prior_label().match(line):
            # "Pre-BMV (10-05-2025): MVA 0.8 cm2": the earlier study's numbers, a line of their own;
            # after it the report goes on where it was (unlabelled text after a one-line section)
            resume = ("preamble", "") if current.kind in ONE_LINE else (current.kind, current.heading)
            sections += [Section("comparison", "", [(number, line.strip())]), Section(*resume)]
            inline = False
            continue
        if found is None and current.kind not in (*_AFTER_FINDINGS, *section_table().findings_kinds) \
                and _block_heading(line, lines[i + 1:i + 2]):
            # "Aortic prosthesis:" over indented lines: a findings block, whatever came before it
            sections.append(Section("findings", line.split(":", 1)[0].strip(), [(number, line.strip())]))
            inline = False
            continue
        if found is None and current.kind == "impression" and _anatomy_title(line) \
                and _summary_ended(current, sections):
            # "Interpretation Summary" first, then "Left Ventricle" alone on its line: the findings begin
            sections.append(Section("findings", line.strip(), [(number, line.strip())]))
            inline = False
            continue
        if found is None and not line.strip() and current.kind == "impression" and current.text \
                and _impression_at_top(sections):
            # "IMPRESSION: ..." first, then a blank line: what follows is the report, not more summary
            sections.append(Section("findings", ""))
            inline = False
            continue
        if found is None:
            wrapped = (line[:1].islower() or line[:1].isspace()) and not _new_paragraph(line, current)
            if open_comparison and current.kind == "comparison" and not line.strip() \
                    and not current.text.endswith(":"):
                # "Comparison: echo 14/03/2026 - effusion 12 mm." then a blank line: the earlier study
                # was that paragraph; what follows is this study's report again (unless the line
                # ended in a colon and introduced a list of the earlier values)
                sections.append(Section("body", ""))
                current = sections[-1]
                open_comparison = False
            elif paragraph and current.kind in _PARAGRAPH and not line.strip():
                # "hx: fibrotic NSIP ..." over its wrapped lines, then a blank line: the label covered
                # its paragraph; what follows is the report again
                sections.append(Section("body", ""))
                current = sections[-1]
                paragraph = False
            elif inline and current.kind in ("procedure", "sedation") and not line.strip():
                # "Symptoms: dyspnoea." then a blank line: what follows is the report again
                sections.append(Section("body", ""))
                current = sections[-1]
            elif inline and current.kind in ONE_LINE and not wrapped:
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
        elif found[0] == "impression" and _plan_after_impression(found[1], sections):
            found = ("recommendations", *found[1:])
        concluded = concluded or found[0] == "impression"
        depth = _quote_depth(line)  # the quote depth of the message a section is written in
        inline = bool(found[2])
        open_comparison = inline and found[0] == "comparison"
        paragraph = (inline and found[0] in _PARAGRAPH) or (paragraph and found[0] == "header")
        kind, name, rest = found
        if kind == "header" and current.kind in (*section_table().findings_kinds, "impression"):
            current.rows.append((number, line))  # "Rhythm: AF" inside the findings is a finding
            continue
        if kind == "technique" and rest and current.kind in section_table().findings_kinds:
            current.rows.append((number, line))  # "Contrast (SonoVue): no apical thrombus." is a finding
            continue
        if kind == "comparison" and _DATE_ONLY.match(rest) and current.kind not in _AFTER_FINDINGS:
            # "Previous echo: 11-14-2025": the date of the earlier study; the report goes on after it
            resume = ("preamble", "") if current.kind in ONE_LINE else (current.kind, current.heading)
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
        # "Regional wall motion: Abnormal": the label is what the word is said of; it stays in the text
        said_of = kind == "findings" and "wall motion" in norm(name)
        sections.append(Section(kind, name, [(number, line.strip() if said_of else rest)] if rest else []))
    sections = sbar_sections([s for s in sections if s.text or s.kind not in ("preamble", "body")])
    _one_impression(sections)
    kinds = set(section_table().findings_kinds)
    if not any(s.kind in kinds or (s.kind == "preamble" and s.text) for s in sections):
        _split_first_sentence(sections)
    return sections


_BLOCK_LABEL = re.compile(r"^(?=[^:]*[A-Za-z]{3})[A-Za-z][^:]{1,48}:(?:\s|$)")


def _quote_depth(line: str) -> int:
    """How many e-mail quote marks open a line: '>> > text' is 3."""
    quoted = _QUOTED_LINE.match(line)
    return quoted.group(0).count(">") if quoted else 0


def _title_line(line: str, before: list[tuple[int, str]]) -> bool:
    """The report's first line, a title joined by a dash ("TELE-ECHO - remote interpretation",
    "REMOTE INTERPRETATION - Portable TTE"): it names the kind of report, it opens no summary."""
    return not any(text.strip() for _, text in before) and re.search(r"\s[-–—]\s+\S", line) is not None \
        and ":" not in line


def _block_heading(line: str, following: list[tuple[int, str]]) -> bool:
    """A label line ("Aortic prosthesis: well seated.", "At ECMO flow 3.5 L/min:") followed by an
    indented line heads a block of findings; a label naming an earlier study does not."""
    indented = bool(following) and following[0][1][:1] in (" ", "\t") and bool(following[0][1].strip())
    return indented and _BLOCK_LABEL.match(line) is not None and prior_label().match(f"{line} x") is None


def _anatomy_title(line: str) -> bool:
    """A line that is only an anatomy heading in any case ("Left Ventricle", "Mitral Valve"): a heading of
    the findings in exports that write their sections so."""
    return heading_names().get(norm(line.strip().rstrip(":"))) == "anatomy"


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


def _impression_at_top(sections: list[Section]) -> bool:
    """The impression opened before the findings: above it only title, identity, demographic and
    indication lines (a few short lines under no heading, no findings section, no second impression)."""
    before = sections[:-1]
    if any(s.kind not in ("preamble", "body", "header", "indication", "history") for s in before):
        return False
    loose = [line for s in before if s.kind in ("preamble", "body") for line in s.lines if line.strip()]
    return len(loose) <= 4 and all(len(line) < 120 for line in loose)


def _one_impression(sections: list[Section]) -> None:
    """A "Comments", "Interpretation" or "Key findings" block after the findings is the impression only
    in a report with no impression heading of its own, and then only the last such block; beside an
    impression heading, or before a later such block, it is more findings."""
    summaries = [s for s in sections if s.kind == "impression" and _weak_summary(s.heading)]
    if any(s.kind == "impression" and not _weak_summary(s.heading) for s in sections):
        keep = None
    else:
        keep = summaries[-1] if summaries else None
    for s in summaries:
        if s is not keep:
            s.kind = "findings"


def _weak_summary(heading: str) -> bool:
    """'Comments', 'Interpretation', 'Key findings', or a comment qualified ('Core-lab comments',
    'Reporting comment'): a summary only where the report has no impression heading of its own."""
    name = norm(heading)
    return (name in section_table().impression_after_findings
            or name.split()[-1:] in (["comment"], ["comments"]))


def _history_at_top(name: str, number: int, count: int, sections: list[Section]) -> bool:
    """A 'Diagnosis:' line in the header block, before any findings, is the patient's history."""
    kinds = section_table().findings_kinds
    return (norm(name) in section_table().history_at_top and number <= max(3, count // 3)
            and not any(s.kind in kinds for s in sections))


def _impression_after_findings(name: str, sections: list[Section]) -> bool:
    """An 'Interpretation' heading after the findings opens the summary, not more findings. Findings
    written under no heading count when they give values ("LV normal, EF 60 %, TAPSE 21 mm." or a
    pipe table, then "Comment:" over the summary)."""
    kinds = section_table().findings_kinds
    return norm(name) in section_table().impression_after_findings and any(
        (s.kind in kinds and s.text) or (s.kind in ("preamble", "body") and _gives_values(s.rows))
        for s in sections)


def _plan_after_impression(name: str, sections: list[Section]) -> bool:
    """'Assessment/Plan:' after the echo's own impression ("Echo impression:" in a consult note) opens
    the consultant's plan: the plan is no part of the echo's impression."""
    bare = re.sub(r"\s*&\s*", " and ", norm(name))
    after = set(section_table().impression_after_findings)  # "Comments" over findings is no summary
    return bare in section_table().plan_after_impression and any(
        s.kind == "impression" and s.text and norm(s.heading) not in after for s in sections)


def _gives_values(rows: list[tuple[int, str]]) -> bool:
    """Text that gives measurements: two values or more, or a pipe table of names and values."""
    from echogpt.data.report_measurements import read_measurements

    return len(read_measurements(rows, table=True)) >= 2 or pipe_table(rows) is not None


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
