"""The headings of free-text echo reports: the heading table (``resources/report_sections.json``) and
which section a line opens.

    heading_kind("Impression (02:31):")   # ("impression", "Impression (02:31)", "")
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from echogpt.data.report_measurements import norm

SECTION_KINDS = ("indication", "history", "procedure", "technique", "sedation", "findings", "stage",
                 "anatomy", "measurements", "comparison", "impression", "recommendations", "header")
# an SBAR block's letter before its word ("A - Assessment:"), taken off so that the word is the
# heading looked up (report_sbar.py reads the blocks)
LETTER_PREFIX = re.compile(r"^\s*[SBAR]\s*[-–:]\s*(?=(?:situation|background|assessment|recommendations?)\b)",
                           re.IGNORECASE)


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
    alone_only: list[str] = Field(default_factory=list, description="headings that open a section only "
                                  "on a line of their own ('Comment' over a paragraph, not 'Comment: ...')")
    personnel: list[str] = Field(default_factory=list, description="procedure headings naming who did or "
                                 "read the study ('Fellow:'); kept out of the indication")
    prior_labels: list[str] = Field(default_factory=list, description="patterns of a line that opens with "
                                    "a label naming an earlier study ('Pre-BMV (10-05-2025): ...')")
    plan_after_impression: list[str] = Field(default_factory=list, description="impression headings that "
                                             "open the plan after an impression ('Assessment/Plan:' after "
                                             "'Echo impression:' in a consult note)")
    qualified_impression: QualifiedImpression = Field(default_factory=lambda: QualifiedImpression())


class QualifiedImpression(BaseModel):
    """Unknown headings read as the impression: a few words before a summary noun, or a slash pair."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    about: str = Field("", alias="_about")
    nouns: list[str] = Field(default_factory=list, description="the summary nouns a heading ends with")
    max_qualifiers: int = Field(3, description="at most this many words before the noun")
    not_qualifiers: list[str] = Field(default_factory=list, description="words that make the heading "
                                      "no impression ('Previous conclusion', 'Stress summary')")


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
def heading_names() -> dict[str, str]:
    """Normalised heading -> section kind."""
    return {norm(h): kind for kind, names in section_table().headings.items() for h in names}


@cache
def prior_label() -> re.Pattern[str]:
    """One pattern of the labels that open a line about an earlier study ("Index echo 28/09/2026:")."""
    return re.compile("|".join(f"(?:{p})" for p in section_table().prior_labels) or r"(?!)", re.IGNORECASE)


@cache
def sentence_patterns(kind: str) -> re.Pattern[str]:
    """One pattern of the sentences of ``kind`` ('procedure', 'indication') that are no finding."""
    return re.compile("|".join(f"(?:{p})" for p in section_table().narrative_sentences[kind]), re.IGNORECASE)


def closing_line(line: str) -> bool:
    """A sign-off line (``narrative_sentences.closing``), also in Markdown emphasis ("_Dr. M. Esposito_",
    "*Dr R. Kaplan — signed 28/11/2026*")."""
    return sentence_patterns("closing").search(line.strip().strip("_*").strip()) is not None


# A heading line: "FINDINGS", "Findings:", "FINDINGS: text", "1. Impression:", "== Summary ==", a time
# in brackets ("Impression (02:31):"), a dash that ends the line ("Key findings —") or a dictated "colon"
# ("Impression colon")
_HEAD = re.compile(r"^\s*(?:\d{1,2}[.)]\s+)?[=*#\s]*([A-Za-z0-9][A-Za-z0-9À-ÿ /&'()+-]{0,48}?"
                   r"(?:\s*\(\d{1,2}:\d{2}\))?)\s*[=*#]*\s*(?::|\s-\s|\s[-–—]\s*$|\s(?i:colon)(?:\s|$)|$)\s*(.*)$")
# what follows a heading's name when it is said to end there: a colon, a dash or a dictated "colon"
_SAID_END = re.compile(r":|\s-\s|\s[-–—]\s*$|\s(?i:colon)(?:\s|$)")
# "URGENT - Conclusion:", "STAT: Impression": a summary heading marked urgent
_URGENT = re.compile(r"^\s*(?:urgent|stat|critical(?: result)?)\s*(?:[-–—:!]\s*)+(?=[A-Za-z])", re.IGNORECASE)
# "... for the acute team", "... for ED": whom a summary heading is written for
_FOR_WHOM = re.compile(r"\s+for\s+(?:the\s+)?[\w' &/]{1,30}$")
# A capitalised heading inside a line: "... normal. IMPRESSION: Normal study."
_INLINE_HEAD = re.compile(r"(?<=[.!?;])\s+([A-Z][A-Z /&]{2,40}):\s*")
# an e-mail's quote prefix before a line: "> IMPRESSION:", ">> IMPRESSION:"
_QUOTED = re.compile(r"^\s*(?:>[ \t]*)+")
# "Cardiac source of embolism - TTE conclusion:", "Remote read - summary": a topic, a dash, the heading
_TOPIC_DASH = re.compile(r"^\s*[A-Za-z][A-Za-z /'()-]{2,48}?\s[-–—]\s+(?=[A-Za-z])")


def heading_kind(line: str, paragraph_start: bool = False) -> tuple[str, str, str] | None:
    """The section a line opens, as (kind, heading, rest of the line), or None for a body line.

    A heading is a known name (``report_sections.json``) written in capitals with or without a
    colon, or in any case with a colon, or alone on its line: "IMPRESSION", "Findings:",
    "Reason for exam: chest pain". A heading that opens a section only alone on its line
    ('alone_only': "Comment") opens one with text after it too where it starts a paragraph
    (``paragraph_start``: "Comment: Normal study. ..." after a blank line).
    """
    sbar = LETTER_PREFIX.match(line)
    if sbar:  # "A - Assessment (focused questions):": the SBAR block's word is the heading
        return heading_kind(line[sbar.end():], paragraph_start)
    cell = _cell_row(line)
    if cell:  # "Conclusion;Severe AS ...", "Interpretation<TAB>Normal ...": a spreadsheet row
        return cell
    quoted = _QUOTED.match(line)
    if quoted:  # "> IMPRESSION: ...": the heading of a quoted report
        return heading_kind(line[quoted.end():], paragraph_start)
    urgent = _URGENT.match(line)
    if urgent:  # "URGENT - Conclusion: ...": the heading after the mark
        found = heading_kind(line[urgent.end():], paragraph_start)
        return found if found and found[0] == "impression" else None
    m = _HEAD.match(line)
    if not m:
        return None
    name, rest = m.group(1).strip(), m.group(2).strip()
    bare = re.sub(r"\s*\(.*\)\s*$", "", name)  # "Findings (post-bypass)", "Peak (20 mcg/kg/min)"
    names = (norm(name), norm(bare), norm(bare).rstrip("s"))
    # "IMPRESSION & PLAN", "Summary & Conclusion": an ampersand is the 'and' of the heading table
    names += tuple(re.sub(r"\s*&\s*", " and ", k) for k in names)
    kind = next((heading_names()[k] for k in names if k in heading_names()), None)
    if kind is None:  # "Bottom line for the acute team:": a summary said to be for its readers
        whom = heading_names().get(_FOR_WHOM.sub("", norm(bare)))
        kind = whom if whom == "impression" else None
    if kind is None and _qualified_impression(norm(bare)):
        kind = "impression"  # "Physiologist's summary:", "ON-CALL IMPRESSION", "IMPRESSION/SUMMARY:"
    if kind is None:
        return _after_topic(line, paragraph_start)
    alone_only = any(k in section_table().alone_only for k in (norm(name), norm(bare)))
    if rest and alone_only and not paragraph_start:
        return None  # "Comment: the images were reviewed ..." is a line of its section
    has_colon = _SAID_END.search(line[m.end(1):m.start(2)] + (" " if not rest else "")) is not None
    if not (has_colon or not rest):
        return None  # "LV normal in size" is a sentence, not the heading "LV"
    if not has_colon and not (name.isupper() or len(line.strip()) <= 40):
        return None
    if not has_colon and kind in ("header", "anatomy") and not name.isupper():
        return None  # "Left ventricle" alone is a heading only in capitals
    return kind, name, rest


# a spreadsheet row: a label cell, then a tab, a semicolon or a quoted comma, then the value cell
_CELL_ROW = re.compile(r'^\s*"?([A-Za-z][A-Za-z _/\'-]{1,40}?)"?\s*(?:\t|;|",")\s*"?(.*?)"?\s*$')
# a word a spreadsheet adds to the column's name ("Summary_text", "Impression column")
_CELL_SUFFIX = re.compile(r"\s+(?:text|column|field|cell|value)$")
# the sections a label cell may open: the summary, the plan and the reason
_CELL_KINDS = ("impression", "recommendations", "indication")


def _cell_row(line: str) -> tuple[str, str, str] | None:
    """ "Conclusion;Normal study.", "Interpretation<TAB>Normal LV ...", '"Comments","Normally ..."',
    "Summary_text;...", "Impression column<TAB>...": a label cell naming the summary, the plan or the
    reason, with its value cell after it."""
    m = _CELL_ROW.match(line)
    if not m or not m.group(2).strip():
        return None
    name = _CELL_SUFFIX.sub("", norm(m.group(1)))
    kind = heading_names().get(name)
    return (kind, m.group(1).strip(), m.group(2).strip()) if kind in _CELL_KINDS else None


def _qualified_impression(name: str) -> bool:
    """An unknown heading that names the summary: qualifier words before a summary noun ("reporting
    comment", "on call impression"), or a slash pair with an impression heading ("impression/summary")."""
    table = section_table().qualified_impression
    parts = [p.strip() for p in name.split("/")]
    if len(parts) == 2 and all(parts) and any(heading_names().get(p) == "impression" for p in parts):
        return True
    words = name.replace("'s", "").split()
    if not 2 <= len(words) <= table.max_qualifiers + 1 or words[-1] not in table.nouns:
        return False
    qualifiers = words[:-1]
    return all(w.isalpha() for w in qualifiers) and not set(qualifiers) & set(table.not_qualifiers)


def _after_topic(line: str, paragraph_start: bool) -> tuple[str, str, str] | None:
    """ "Cardiac source of embolism - TTE conclusion:" over the summary: a summary heading after its
    topic and a dash ("Remote read - summary"), with nothing after it on the line."""
    topic = _TOPIC_DASH.match(line)
    if not topic:
        return None
    found = heading_kind(line[topic.end():], paragraph_start)
    if found is None or found[0] != "impression" or found[2]:
        return None
    return "impression", line.strip().rstrip(":").strip(), ""


def split_inline(text: str) -> str:
    """Put capitalised headings that follow a sentence on a line of their own."""

    def cut(m: re.Match[str]) -> str:
        return f"\n{m.group(1)}: " if norm(m.group(1)) in heading_names() else m.group(0)

    return _INLINE_HEAD.sub(cut, text)
