"""No line of a report vanishes on import: every line that is not a title, identity or sign-off line
ends up in some field of its Study (findings, impression, indication, a comparison line, or quoted in
``unread``), over every report set but the newest held-out one.

A line counts as kept when its first words (after a list marker and a short "Label:") stand in the
Study's text in that order; a table row when each of its cells does (a pipe table's first row, when it
only names the columns, need not).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from echogpt.data.report_identity import labelled_date, labelled_patient_id
from echogpt.data.report_text import parse_report
from echogpt.data.reports import decode_report, read_reports
from echogpt.schemas import Study

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SETS = ["reports", "reports_heldout", "reports_heldout2", "reports_heldout3", "reports_heldout4",
        "reports_heldout5", "reports_heldout6"]
_MARKER = re.compile(r"^\s*(?:\(?\d{1,2}[.)]|[-*•])\s*")
_LABEL = re.compile(r"^[^:]{1,40}:\s+(?=\S)")  # "Clinical details: ", "Plan: "
_CELLS = re.compile(r"\s{2,}|\t|\s*\|\s*")


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)] if value is not None else []


def kept(line: str, blob: str) -> bool:
    """Whether the line's words stand in ``blob`` (the Study's text, as ``_words`` gives it): each
    sentence's first six words in order, or for a table row (reworded into "Name value" lines and a
    comparison line) every word of its values and of a first cell that holds a number."""
    cells = [c for c in _CELLS.split(_LABEL.sub("", line.strip(), count=1)) if c.strip()]
    if _piped(line):  # "| IVSd / LVPWd | 1.1 / 1.0 cm |", reworded into "IVSd: 1.1; LVPWd: 1.0 cm"
        return set(_words(" ".join(cells)).split()) <= set(blob.split())
    if len(cells) >= 3:
        cells = cells if re.search(r"\d", cells[0]) else cells[1:]  # "Parameter", a row's name
        return set(_words(" ".join(cells)).split()) <= set(blob.split())
    for sentence in re.split(r"(?<=[.;])\s+", _MARKER.sub("", line.strip())):
        key = " ".join(_words(_LABEL.sub("", sentence, count=1)).split()[:6]) or _words(sentence)
        if key and f" {key} " not in blob:
            return False
    return True


def _piped(line: str) -> bool:
    return line.strip().startswith("|") and line.count("|") >= 2


def _column_names(lines: list[str], i: int) -> bool:
    """The first row of a pipe table when it holds no number: it names the columns ("| Measurement |
    Value |")."""
    first = i == 0 or not _piped(lines[i - 1])
    return _piped(lines[i]) and first and not re.search(r"\d", lines[i]) and i + 1 < len(lines) \
        and _piped(lines[i + 1])


def _heading_only(line: str) -> bool:
    """A label over the lines below ("Wall motion (17-segment model):", "Worksheet (urgent)")."""
    return line.rstrip().endswith(":") or len(re.sub(r"\(.*?\)", "", line).split()) <= 2


def lost_lines(text: str, study: Study) -> list[str]:
    """The lines of a report found in no field of its Study, titles, identity lines and sign-off apart.

    Args:
        text: the report.
        study: its imported Study.
    """
    blob = f" {_words(' '.join(_strings(study.model_dump(mode='json'))))} "
    apart = {n for s in parse_report(text).sections if s.kind in ("header", "closing") for n, _ in s.rows}
    lost = []
    lines = text.splitlines()
    for n, line in enumerate(lines, start=1):
        if len(line.split()) < 4 or n in apart or not re.search(r"[a-z]", line) or _heading_only(line) \
                or _column_names(lines, n - 1):
            continue  # short lines, header and sign-off lines, titles in capitals, bare headings, the
            # column names of a table
        if labelled_patient_id(line) or labelled_date(line):
            continue  # who and when: read into the Study's identifiers
        if not kept(line, blob):
            lost.append(f"{study.study_id} line {n}: {line.strip()[:120]}")
    return lost


@pytest.mark.parametrize("name", SETS)
def test_no_report_line_is_lost(name: str) -> None:
    lost: list[str] = []
    for folder in sorted(p for p in (FIXTURES / name).iterdir() if p.is_dir()):
        if not list(folder.glob("*.txt")):
            continue
        for study in read_reports(folder).studies:
            text = decode_report((folder / f"{study.study_id}.txt").read_bytes())
            lost += lost_lines(text, study)
    assert not lost, f"{len(lost)} lines in no field:\n" + "\n".join(lost)


def test_a_line_the_sections_drop_is_quoted_in_unread_at_runtime() -> None:
    text = ("Findings: LV normal, LVEF 60 %.\n\nImpression:\nNormal study.\n\n"
            "Electronically signed by Dr A. Bell, MD\n"
            "Small mobile echodensity on the aortic valve seen on review of the loops.\n")
    study = read_reports_text(text)
    assert any("Small mobile echodensity on the aortic valve" in note for note in study.unread or [])
    assert not lost_lines(text, study)


def read_reports_text(text: str) -> Study:
    from echogpt.data.reports import build_study

    study, _ = build_study(parse_report(text), "net", {})
    assert study is not None
    return study
