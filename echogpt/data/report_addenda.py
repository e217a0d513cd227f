"""Addenda and corrections of a report (``Addendum 14:20: ...``, ``Correction (10/11/2026): ...``,
``*** CORRECTED REPORT ***``): findings of this study wherever they stand (after the signature, before
the title), never dropped.

The addendum's text becomes a findings section of its own whose values win over the ones they correct;
the superseded value of a correction ("LVEF 45 %, not 55 %", "the AR is moderate, not mild", "typed
as 6.1 cm") is left out of it. An impression re-issued in the addendum ("Revised impression:",
"Amended impression (replaces the above):", "Final impression:") is the impression; an added one
("Additional impression:", "Addendum conclusion:") joins the first.

    notes = take_addenda(sections)
"""

from __future__ import annotations

import re

from echogpt.data.report_sections import Section, sentence_patterns

# a line that opens an addendum or a correction
_OPENS = re.compile(r"^\s*(?:\*+\s*)?(?:physician\s+)?(?:addendum|correction|corrected report|amendment)\b"
                    r"|^\s*physician note\b", re.IGNORECASE)
# a heading of an impression given again in the addendum; group 1: replaces the first, 2: adds to it
_REISSUE = re.compile(r"^\s*(?:(revised|amended|final|updated|corrected|new)|(additional|addendum))\s+"
                      r"(?:impression|conclusions?|summary|interpretation)\b[^:]*:?\s*(.*)$", re.IGNORECASE)
# the superseded value of a correction: ", not 55 % as first reported", "(not 36)", "typed as 6.1 cm"
_SUPERSEDED = re.compile(r",\s*not\s+[^,.;:()]*?(?=\s*(?:[,.;:()]|$))|\s*\(not\s+[^()]*\)"
                         r"|\s*\bwas (?:typed|entered) as\s+[^;]*;\s*the correct "
                         r"value is\b|\s*\bwas (?:typed|entered) as\s+[\d.]+\s*[a-z%/0-9]*"
                         r"|,?\s*as (?:first )?(?:typed|reported|entered) above", re.IGNORECASE)
# words of a correction: "on review", "re-measured", "typed as", "the correct values are", "amended"
_CORRECTS = re.compile(r"\b(?:correct\w*|amend\w*|revis\w*|on (?:re)?review|re-?measured|re-?traced|"
                       r"typed as|entered from|in error|(?:keying|transcription|typing) error|should read)\b",
                       re.IGNORECASE)
_FINDINGS = ("findings", "measurements", "anatomy", "stage", "impression")


def addendum_start(text: str) -> int | None:
    """Where the first addendum of a findings text that corrects the report begins (the start of its
    opening line), or None. What it states is the later word on the study; an addendum that only adds
    ("a previous echo is now available: LVEF 60 %") corrects nothing."""
    for m in re.finditer(r"^.*$", text, re.MULTILINE):
        if _OPENS.match(m.group()):
            return m.start() if _CORRECTS.search(text, m.start()) else None
    return None


def superseded_out(line: str) -> str:
    """A correction's line without the value it replaces ("LVEF 45 %, not 55 %" -> "LVEF 45 %")."""
    return _SUPERSEDED.sub("", line)


def _block(sections: list[Section]) -> list[tuple[int, int]] | None:
    """The (section, row) positions of the first addendum: from its opening line to the end of the
    report, or to the first blank line when it stands before the findings."""
    seen_findings = False
    for i, s in enumerate(sections):
        for j, (_, line) in enumerate(s.rows):
            if _OPENS.match(line) and not (s.kind == "impression" and j == 0 and not s.heading):
                positions = [(i, k) for k in range(j, len(s.rows))]
                positions += [(a, k) for a in range(i + 1, len(sections))
                              for k in range(len(sections[a].rows))]
                if seen_findings:
                    return positions
                end = next((n for n, (a, k) in enumerate(positions) if not sections[a].rows[k][1].strip()),
                           len(positions))
                return positions[:end]
        seen_findings = seen_findings or (s.kind in _FINDINGS and bool(s.text))
    return None


def take_addenda(sections: list[Section]) -> list[str]:
    """Move the report's addendum into a findings section of its own (and its re-issued impression into
    the impression), in place; returns notes of the impression it replaced, quoted, for ``unread``."""
    where = _block(sections)
    if where is None:
        return []
    rows = []
    for a, k in where:  # a heading the sections took ("Final impression:") is a line of the addendum
        if k == 0 and a != where[0][0] and sections[a].heading:
            rows.append((sections[a].rows[0][0], f"{sections[a].heading}:"))
        rows.append(sections[a].rows[k])
    taken = set(where)
    for a, s in enumerate(sections):
        s.rows = [row for k, row in enumerate(s.rows) if (a, k) not in taken]
    found, impression, replaces, aside = [], [], False, []
    closing = sentence_patterns("closing")
    in_impression = False
    for number, line in rows:
        m = _REISSUE.match(line)
        if m:
            in_impression, replaces = True, replaces or bool(m.group(1))
            aside.append((number, line))
            if m.group(3).strip():
                impression.append((number, m.group(3).strip()))
            continue
        if not line.strip() or closing.search(line.strip()):
            in_impression = False  # the re-issued impression ends at a blank or signature line
            aside.append((number, line))
            continue
        (impression if in_impression else found).append((number, superseded_out(line.strip())))
    notes = []
    if impression and replaces:
        for s in sections:
            if s.kind == "impression" and s.text:
                quote = " / ".join(ln.strip() for ln in s.lines if ln.strip()).replace('"', "'")
                notes.append(f"the first impression, replaced by the addendum's: \"{quote}\"")
                s.kind = "superseded"
    sections += [Section("findings", "Addendum", found), Section("closing", "addendum", aside)]
    if impression:
        sections.append(Section("impression", "Addendum impression", impression))
    return notes
