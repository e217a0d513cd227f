"""Tables in a report: side-by-side comparison tables (a header row of column labels: dates,
"today", "prior", over rows "Name  value  value" or "Name | value | value"; which column is this
study's), and pipe tables of names and values ("| LVEF | 62 % | 52-72 % |").

A report that compares with an earlier study often puts both in columns. The current study's column
becomes "Name value" lines that are read like any finding; the other columns become one comparison
line that the checker reads as the prior study. When the columns cannot be told apart (two dates that
read either way and no study date to match), the table is left as written.

    split = split_columns(rows, study_date="2026-12-01")  # None: no table in these rows
    table = pipe_table(rows)  # "| LVEF | 62 % |" rows as "LVEF: 62 %" lines
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

_CURRENT = re.compile(r"^(?:today|current|now|present|this (?:study|echo\w*)|latest)\b", re.IGNORECASE)
_EARLIER = re.compile(r"^(?:prior|previous|baseline|index|pre\b|pre-\w+|before|last|earlier|initial|old)\b",
                      re.IGNORECASE)
_NUMERIC = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})$")
_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y", "%Y/%m/%d")


def dates_of(text: str) -> set[date]:
    """Every date a label can mean: "06/02/2026" is 6 Feb or 2 Jun; "2026-11-20" is one date."""
    raw = text.strip().rstrip(":")
    m = _NUMERIC.match(raw)
    if m:
        a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        out = set()
        for day, month in ((a, b), (b, a)):
            try:
                out.add(date(year, month, day))
            except ValueError:
                pass
        return out
    for fmt in _FORMATS:
        try:
            return {datetime.strptime(raw, fmt).date()}
        except ValueError:
            pass
    return set()


def _cells(line: str, piped: bool) -> list[str]:
    parts = line.split("|") if piped else re.split(r"\s{2,}|\t", line)
    cells = [c.strip() for c in parts]
    while cells and not cells[0]:
        cells.pop(0)
    while cells and not cells[-1]:
        cells.pop()
    return cells


_NOW_WORD = re.compile(r"\((?:today|current|now|this study)\)", re.IGNORECASE)
_YEAR = re.compile(r"^(?:19|20)\d\d\b")
# a trial core laboratory's column and the enrolling site's: the core lab's read is the value of record
_CORE = re.compile(r"\bcore(?:[- ]?lab(?:oratory)?)?\b", re.IGNORECASE)
# a trial visit after baseline ("12 months", "Month 6", "Week 24", "Year 1", "30-day"): this study's column
# beside a baseline one
_VISIT = re.compile(r"^(?:(?:month|week|year|day)\s*\d+|\d+[- ]?(?:months?|weeks?|years?|days?)\b"
                    r"|follow[- ]?up\b)", re.IGNORECASE)
_SITE = re.compile(r"\b(?:site|local|investigator)\b", re.IGNORECASE)


def _label(cell: str) -> str | None:
    """'current', 'earlier', 'date', 'core' or 'site' for a column label ("11-20-2026", "today",
    "Measurements (today)", "2024 (same lab)", "Core lab", "Month 6 (site)"); None for anything else."""
    if _CURRENT.match(cell) or (len(cell) <= 30 and _NOW_WORD.search(cell)):
        return "current"
    if _YEAR.match(cell) and not dates_of(cell):
        return "earlier"  # a year alone beside this study's column
    if _EARLIER.match(cell):
        return "earlier"
    if len(cell) <= 30 and _SITE.search(cell):
        return "site"  # the enrolling site's read of the same images: not the study's value of record
    if len(cell) <= 30 and _CORE.search(cell):
        return "core"
    if _VISIT.match(cell):
        return "visit"
    return "date" if dates_of(cell) else None


def _current_column(labels: list[str], study_date: str | None) -> int | None:
    """The index of this study's column, or None when it cannot be told."""
    kinds = [_label(c) for c in labels]
    if kinds.count("current") == 1:
        return kinds.index("current")
    if kinds.count("core") == 1:
        return kinds.index("core")  # "Site  Core lab", "Baseline (core)  Month 6 (core)  Month 6 (site)"
    if kinds.count("visit") == 1 and set(kinds) <= {"visit", "earlier", "site"}:
        return kinds.index("visit")  # "Baseline  12 months"
    if "date" not in kinds:
        return None
    when = [dates_of(c) for c in labels]
    studied = dates_of(study_date) if study_date else set()
    if len(studied) == 1:
        hits = [i for i, ds in enumerate(when) if studied & ds]
        if len(hits) == 1:
            return hits[0]
    # the latest column, when every reading of the dates agrees on which it is
    latest = {max(range(len(when)), key=lambda i, pick=pick: pick[i])  # type: ignore[misc]
              for pick in _readings(when)}
    return latest.pop() if len(latest) == 1 else None


def _readings(when: list[set[date]]) -> list[list[date]]:
    """Each column's dates read the same way (all day-first or all month-first), for every way."""
    if any(not ds for ds in when):
        return []
    ways = []
    for pick in (min, max):
        ways.append([pick(ds) for ds in when])
    return ways


@dataclass
class ColumnSplit:
    """A comparison table split: this study's rows (line number, "Name value"), the earlier study's
    row as one line, and the line numbers the table took."""

    current: list[tuple[int, str]] = field(default_factory=list)
    earlier: str = ""
    taken: set[int] = field(default_factory=set)
    unread: str = ""  # a table left as written because its study's values could not be told apart


def _expand(name: str, value: str) -> list[tuple[str, str]]:
    """ "TR Vmax / RVSP" with "3.0 m/s / 44" -> [("TR Vmax", "3.0 m/s"), ("RVSP", "44")]."""
    names, values = [n.strip() for n in name.split(" / ")], [v.strip() for v in value.split(" / ")]
    if len(names) > 1 and len(names) == len(values):
        return list(zip(names, values, strict=True))
    return [(name, value)]


def split_columns(rows: list[tuple[int, str]], study_date: str | None) -> ColumnSplit | None:
    """The first comparison table in ``rows``, split into this study's values and the earlier ones.

    Args:
        rows: (line number, line) of one section.
        study_date: the study date as written in the header, to tell two date columns apart.

    Returns:
        The split; one with only ``unread`` set for a table whose current values cannot be told (date
        columns that read either way, one row per study); None when the rows hold no such table.
    """
    for i, (number, line) in enumerate(rows):
        piped = line.count("|") >= 2
        cells = _cells(line, piped)
        # "| Date | LVEF | ... |" heads one row per study; "| Date | 28/11/2026 |" is one field's value
        if piped and cells and cells[0].lower() in ("date", "study date", "echo date", "study") \
                and not any(dates_of(c) for c in cells[1:]):
            return ColumnSplit(unread=f"a serial table with one row per study (line {number}) is left as "
                                      "written")
        labelled = [j for j, c in enumerate(cells) if _label(c)]
        if len(labelled) < 2 or labelled[-1] != len(cells) - 1 or len(cells) - labelled[0] != len(labelled):
            continue
        labels = cells[labelled[0]:]
        now = _current_column(labels, study_date)
        if now is None:
            return ColumnSplit(unread=f"a comparison table whose columns ({', '.join(labels)}) could not be "
                                      f"told apart (line {number}) is left as written")
        out = ColumnSplit(taken={number})
        earlier: list[str] = []
        for n, body in rows[i + 1:]:
            parts = _cells(body, piped)
            if not body.strip():
                break
            if len(parts) < len(labels) + 1:
                continue  # a row that does not fit the columns stays as written
            name, values = " ".join(parts[:-len(labels)]), parts[-len(labels):]
            out.taken.add(n)
            out.current += [(n, f"{a} {v}") for a, v in _expand(name, values[now])]
            for k, value in enumerate(values):
                if k != now and value:
                    earlier += [f"{a} {v}" for a, v in _expand(name, value)]
        if not out.current:
            return None
        others = [c for k, c in enumerate(labels) if k != now]
        out.earlier = f"{', '.join(others)}: {'; '.join(earlier)}"
        return out
    return None


# ---------------------------------------------------------------- pipe tables of names and values

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")  # "|---|:---:|"
_VALUE_COLUMN = re.compile(r"^(?:value|values|result|measured|measurement value|today|current|this study)\b",
                           re.IGNORECASE)
_UNTITLED_FIRST = re.compile(r"^\s*\|\s*\|")
_UNIT_COLUMN = re.compile(r"^(?:units?|uom|unit of measure)\s*$", re.IGNORECASE)
_RANGE_COLUMN = re.compile(r"\b(?:normal|reference|ref|range|limits?)\b", re.IGNORECASE)
_NUMBER = re.compile(r"^[<>≤≥~]?\s*\d")


@dataclass
class PipeTable:
    """A pipe table of names and values: its rows as "Name: value" lines (line number, text), and
    the line numbers it took (separator and column-header rows included)."""

    current: list[tuple[int, str]] = field(default_factory=list)
    taken: set[int] = field(default_factory=set)


def _row(cells: list[str], columns: list[str]) -> str:
    """One row as a finding line: "| AVA | 1.1 cm2 | > 2.0 |" under "Measurement | Value | Normal" ->
    "AVA: 1.1 cm2 (reference range > 2.0)".

    The value is the column headed 'Value' ('Result', 'Today'), else the first after the name; a
    column headed 'Unit' gives the value its unit ("| TAPSE | 24 | mm |" -> "TAPSE: 24 mm"); a
    normal-range column is written as a reference range, never as the value."""
    heads = columns[1:] + [""] * len(cells)
    at = next((k for k, h in enumerate(heads[:len(cells) - 1]) if _VALUE_COLUMN.match(h)), 0)
    unit = next((k for k, h in enumerate(heads[:len(cells) - 1]) if _UNIT_COLUMN.match(h)), None)
    values = list(cells[1:])
    if unit is not None and unit != at and values[at] and values[unit]:  # "| TAPSE | 24 | mm |": 24 mm
        values[at] = f"{values[at]} {values[unit]}"
    pairs = _expand(cells[0], values[at]) if values else [(cells[0], "")]
    text = "; ".join(f"{name}: {value}" if value else name for name, value in pairs)
    for k, value in enumerate(values):
        if k not in (at, unit) and value:
            head = heads[k]
            text += f" (reference range {value})" if _RANGE_COLUMN.search(head) else \
                f" ({head}: {value})" if head else f" ({value})"
    return text


def pipe_table(rows: list[tuple[int, str]]) -> PipeTable | None:
    """The first pipe table of names and values in ``rows`` ("| Measurement | Value |" over
    "|---|---|" over "| LVEF (biplane) | 62 % |"), as "Name: value" lines; None when there is none.

    A separator row is skipped; a first row with no number names the columns and is no finding; a
    table whose rows mostly give no number right after the name ("LVIDd 4.4 cm | IVSd 0.8 cm") is
    another layout and left to the measurement reader.

    Example: "| LVEF | 62 % | 52-72 % |" under "| Measurement | Value | Normal |" -> "LVEF: 62 %
    (reference range 52-72 %)".
    """
    block: list[tuple[int, str]] = []
    for number, line in rows + [(0, "")]:
        if line.count("|") >= 2 or (_SEPARATOR.match(line) and "|" in line):
            block.append((number, line))
            continue
        if block:
            table = _read_block(block)
            if table:
                return table
        block = []
    return None


def _read_block(block: list[tuple[int, str]]) -> PipeTable | None:
    """One run of pipe rows read as a table of names and values, or None."""
    rows = [(n, line) for n, line in block if not _SEPARATOR.match(line)]
    body = [(n, _cells(line, True)) for n, line in rows]
    columns: list[str] = []
    if body and not any(re.search(r"\d", c) for c in body[0][1]):
        columns = body[0][1]  # "Measurement | Value | Normal": names the columns
        if _UNTITLED_FIRST.match(rows[0][1]):  # "| | Value | Unit |": the names' column has no title
            columns = [""] + columns
        body = body[1:]
    filled = [cells for _, cells in body if len(cells) >= 2]
    named_value = any(_VALUE_COLUMN.match(h) for h in columns[1:])  # a 'Value' column: values in words too
    numbered = [cells for cells in filled if named_value or _NUMBER.match(cells[1])]
    if len(filled) < 2 or 2 * len(numbered) <= len(filled) or any(_NUMBER.match(c[0]) for c in filled):
        return None  # no table of names and values: "LVIDd 4.4 cm | IVSd 0.8 cm", a row per date
    out = PipeTable(taken={n for n, _ in block})
    out.current = [(n, _row(cells, columns)) for n, cells in body if cells]
    return out
