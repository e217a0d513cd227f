"""Tick-box layouts of template exports, written as the plain lines the rest of the import reads.

A ticked option reads as stated, an unticked one is no finding at all, and a mark under a "No" column
is a negation, never the finding itself:

    "Size: [x] Normal  [ ] Mildly dilated"         -> "Size: Normal"
    "RA collapse .... [ ] Yes [x] No"              -> "RA collapse ....: absent"
    "LV dilated          X" under "Y    N"         -> "LV dilated: absent"
    "[ ] LV thrombus"                              -> (no line)

    text = tick_lines(text)
"""

from __future__ import annotations

import re

# a ticked box ("[x]", "[X]", "[✔]", "☑", "☒", "(•)", "(x)") and an unticked one ("[ ]", "☐", "( )")
_TICKED = r"\[\s*[xX✔✓√]\s*\]|[☑☒]|\(\s*[•●xX]\s*\)"
_UNTICKED = r"\[\s*\]|☐|\(\s\)"
_BOX = re.compile(rf"(?P<on>{_TICKED})|(?P<off>{_UNTICKED})")
# a lone tick mark before an option's text ("✔ Normal size"): ticked
_LONE_TICK = re.compile(r"(?:(?<=^)|(?<=\s))[✔✓]\s+(?=\S)")
# the end of an unticked option's text: the next box, or a gap of two spaces before other text
_OPTION_END = re.compile(rf"(?={_TICKED}|{_UNTICKED})|\s{{2,}}|$")
_YES = {"y", "yes", "present", "positive"}
_NO = {"n", "no", "absent", "negative"}
# a column head of a checklist: "Y    N", "Yes   No   Value", "Present  Absent"
_COLUMN_HEAD = re.compile(r"(?i)(?:^|\s{2,})(?P<yes>y|yes|present)\s{2,}(?P<no>n|no|absent)"
                          r"(?:\s{2,}\S.*)?\s*$")
_MARK = re.compile(r"(?<=\s)[xX✔✓√](?=\s|$)")


def _options(line: str) -> str | None:
    """A line of inline boxes with only its ticked options (None: the line had boxes, none ticked)."""
    line = _LONE_TICK.sub("[x] ", line)
    if not _BOX.search(line):
        return line
    out, pos, ticked = [], 0, False
    for m in _BOX.finditer(line):
        if m.start() < pos:
            continue
        out.append(line[pos:m.start()])
        if m.group("on"):
            ticked = True
            pos = m.end() + len(line[m.end():]) - len(line[m.end():].lstrip(" "))
            continue
        end = _OPTION_END.search(line, m.end() + 1)
        pos = end.start() if end else len(line)
        pos += len(line[pos:]) - len(line[pos:].lstrip(" "))
    out.append(line[pos:])
    if not ticked:
        return None
    indent = line[:len(line) - len(line.lstrip())]
    text = indent + re.sub(r"\s{3,}", "  ", "".join(out)).strip()
    return _yes_no(text)


def _yes_no(text: str) -> str:
    """"RA collapse ..... No" (the ticked option of a Yes/No pair) -> "RA collapse: absent"."""
    m = re.match(r"^(?P<label>\s*\S.*?)[\s.:]+(?P<word>[A-Za-z]+)\s*$", text)
    word = m.group("word").lower() if m else ""
    if not m or word not in _YES | _NO:
        return text
    return f"{m.group('label')}: {'present' if word in _YES else 'absent'}"


def _column_row(line: str, yes: tuple[int, int], no: tuple[int, int]) -> str:
    """A checklist row ("LV dilated          X     LVIDd 4.2 cm") as "LV dilated: absent; LVIDd 4.2 cm"
    when its mark stands under the No column, "...: present" under Yes; a row without a mark as is."""
    for m in _MARK.finditer(line):
        at = m.start()
        column = "present" if yes[0] - 2 <= at <= yes[1] + 1 else \
            "absent" if no[0] - 2 <= at <= no[1] + 1 else None
        label = line[:at].strip()
        if column is None or not label or line[:at].rstrip() == line[:at]:
            continue
        rest = line[m.end():].strip()
        return f"{label}: {column}" + (f"; {rest}" if rest else "")
    return line


def tick_lines(text: str) -> str:
    """The report with its tick boxes and Y/N checklists written as plain lines (see the module)."""
    out: list[str] = []
    columns: tuple[tuple[int, int], tuple[int, int]] | None = None
    for line in text.split("\n"):
        if not line.strip():
            columns = None
            out.append(line)
            continue
        head = _COLUMN_HEAD.search(line)
        if head:
            columns = (head.span("yes"), head.span("no"))
            title = line[:head.start()].strip()
            if title:
                out.append(title)
            continue
        if columns is not None:
            out.append(_column_row(line, *columns))
            continue
        kept = _options(line)
        if kept is not None:
            out.append(kept)
    return "\n".join(out)
