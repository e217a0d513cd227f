"""Text extracted from scanned and faxed reports: the page headers and footers repeated mid-report,
and lines broken at a fixed width, words hyphenated across the line end, put back as written.

Each repair is made only where the text shows its shape: a page footer names its page ("Page 1 of 2",
"Pg 2/2", "[1/2]", "Fax transmission 2 of 2"), and only then are the bars and rules around a line
dropped; lines are rejoined only in a text with three sentences or more run on over a line end (into
a line in lower case, or inside a hyphenated word): the mark of a fixed width.

    text, dropped = scanned_text(text)   # dropped: the page lines taken out, as written
"""

from __future__ import annotations

import re

from echogpt.data.report_headings import heading_kind

_PAGE = re.compile(r"\b(?:page|pg\.?)\s*\d{1,2}\s*(?:of|/)\s*\d{1,2}\b|\[\d{1,2}/\d{1,2}\]"
                   r"|\bfax transmission\s+\d{1,2}\s+of\s+\d{1,2}\b|\bpage\s+\d{1,2}\s*$", re.IGNORECASE)
# what may follow a page footer as part of it: a confidentiality notice, a "(continued)" identity line
_FOOTER_TAIL = re.compile(r"^\W*(?:(?:strictly |private and )?confidential\b"
                          r"|.*\((?:continued|cont'?d)\)\s*$)", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s|_*=~/\-–—]+")
# a line taken out or joined to the one before leaves a rule in its place, which the sections skip
# (report_sections.RULE), so that every line keeps its number in the report
KEPT_PLACE = "___"
_TOP = 3  # the letterhead lines at the top of the first page stay: they may name the study
# a word cut by the line width: a fragment and its hyphen, then the rest of the word in lower case
_HYPHENATED = re.compile(r"([A-Za-z]{1,})-$")
_MARKER = re.compile(r"^\s*(?:\(?\d{1,2}[.)]|\([a-z]\)|[-*•·])\s")
_COLUMNS = re.compile(r"\S\s{3,}\S")
_ENDS = (".", "!", "?", ":", ";")
_LABEL = re.compile(r"^\s*[A-Za-z][\w /'()-]{0,30}:\s")  # "mitral: e 0.48 m/s" opens a line of its own
# a scan's rules and stray bars around a line ("___  Dr G. Osei", "| | Dr C. Mbeki", "Dr L. Fair  ____")
_EDGE_BARS = re.compile(r"^\s*(?:(?:\||_{3,})\s*)+(?=\S)|(?<=\S)(?:\s*(?:\||_{3,}))+\s*$")
_BARS_ONLY = re.compile(r"^[\s|_]*(?:\||_{3,})[\s|_]*$")


def _letterhead(rest: str, top: str) -> bool:
    """What is left of a page line besides its page number is the letterhead: no figures, and half
    its words in capitals or words of the report's first lines ("LAKESIDE HOSPITAL  Echo Dept.")."""
    words = re.findall(r"[A-Za-z'][A-Za-z'.]+", rest)
    if re.search(r"\d", rest):
        return False
    known = [w for w in words if w.isupper() or w.lower().strip(".") in top]
    return 2 * len(known) >= len(words)


def drop_page_furniture(lines: list[str]) -> tuple[list[str], list[str]]:
    """The lines without the page headers and footers repeated mid-report, and those dropped.

    A line that names its page is dropped when the rest of it is letterhead ("RIVERSIDE HEART CENTRE
    Page 1 of 1"), with a confidentiality notice or "(continued)" line under it; where the rest is
    text (a signature beside "Page 2 of 2"), only the page number goes.
    """
    top = " ".join(lines[:_TOP]).lower()
    top = " ".join(w.strip(".") for w in re.findall(r"[a-z'][a-z'.]+", top))
    kept: list[str] = []
    dropped: list[str] = []
    after_footer = False
    for i, line in enumerate(lines):
        if i >= _TOP and after_footer and line.strip() and _FOOTER_TAIL.match(line):
            dropped.append(line.strip())
            kept.append(KEPT_PLACE)
            continue
        after_footer = False
        if i < _TOP or not _PAGE.search(line):
            kept.append(line)
            continue
        rest = _PAGE.sub(" ", line)
        if not _SEPARATORS.sub("", rest) or _letterhead(rest, top):
            dropped.append(re.sub(r"\s{2,}", "  ", line.strip()))
            kept.append(KEPT_PLACE)
            after_footer = True
            continue
        dropped.append(_PAGE.search(line).group(0))  # type: ignore[union-attr]
        kept.append(re.sub(r"\s*[|_-]*\s*$", "", _PAGE.sub("", line)))
    return kept, dropped


def _wrapped(lines: list[str]) -> list[int]:
    """Where a sentence runs on over a line end: the indices of the lines that end mid-word ("hypo-"
    over "kinesis") or mid-sentence over a line that goes on in lower case."""
    filled = [line for line in lines if line.strip()]
    if 2 * sum(line[:1].islower() for line in filled) > len(filled):
        return []  # a report written in lower case ("lv: ivsd 1.2 ...") shows no run-on by its case
    return [i for i in range(len(lines) - 1) if lines[i + 1][:1].islower() and lines[i].strip()
            and not _LABEL.match(lines[i + 1])
            and (_HYPHENATED.search(lines[i].rstrip()) or not lines[i].rstrip().endswith(_ENDS))]


def _continues(before: str, line: str, width: int) -> bool:
    """A line that goes on with the sentence of a full-width line before it ("... mean gradient 29
    mmHg," then "AVA 1.14 cm2."): not a new item, heading or table row."""
    before = before.rstrip()
    if not line.strip() or not before or len(before) < width - 15 or _MARKER.match(line) \
            or _LABEL.match(line):
        return False
    if before.endswith((".", "!", "?", ";")) or (before.endswith(":") and not line[:1].islower()):
        return False
    opens = heading_kind(before)  # "Indication: surveillance of the aortic root (sinus 4.2" goes on
    return not (_COLUMNS.search(before) or _COLUMNS.search(line) or heading_kind(line)
                or (opens and not opens[2]))


def rejoin_wrapped(lines: list[str]) -> list[str]:
    """Lines broken at a fixed width joined back into their sentences, where the text shows that width
    (three sentences run on over a line end): "hypo-" / "kinesis" is "hypokinesis"; the
    hyphen stays where its first part is a word the report writes alone ("echo-" / "bright")."""
    cut = _wrapped(lines)
    if len(cut) < 3:
        return lines
    width = max(len(lines[i].rstrip()) for i in cut)
    alone = {w.lower() for w in re.findall(r"(?<![-\w])[A-Za-z]{3,}(?![-\w])", "\n".join(lines))}
    out: list[str] = []
    at = 0  # the index in out of the line the last physical line was joined into
    last = ""  # the last physical line
    for line in lines:
        hyphen = _HYPHENATED.search(last.rstrip()) if out else None
        if hyphen and line[:1].islower():
            head = out[at].rstrip()
            keep = hyphen.group(1).lower() in alone and len(hyphen.group(1)) >= 3
            out[at] = (head if keep else head[:-1]) + line.strip()
            out.append(KEPT_PLACE)
        elif out and line != KEPT_PLACE and _continues(last, line, width):
            out[at] = f"{out[at].rstrip()} {line.strip()}"
            out.append(KEPT_PLACE)
        else:
            out.append(line)
            at = len(out) - 1
        last = line if line != KEPT_PLACE else last
    return out


def scanned_text(text: str) -> tuple[str, list[str]]:
    """The text of a scanned report without its page furniture and with its wrapped lines rejoined.

    Args:
        text: the whole report.

    Returns:
        The text and the page lines dropped (empty, and the text unchanged, for a report that shows
        neither).
    """
    lines, dropped = drop_page_furniture(text.split("\n"))
    if dropped:  # a scanned page: the bars and rules around its lines are no text
        lines = [KEPT_PLACE if _BARS_ONLY.match(line) else _EDGE_BARS.sub("", line) for line in lines]
    return "\n".join(rejoin_wrapped(lines)), dropped
