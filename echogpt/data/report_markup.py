"""Reports exported from a web record with their HTML markup left in, as plain text.

Applied only when the text has markup (an HTML tag or a named or numbered entity). The export is
read line by line, as written: a block tag (``<p>``, ``<br>``, ``<li>``, ``<h3>``, a table row) starts
a new line, a list item becomes a bulleted or numbered line, table cells are set apart by `` | ``,
entities become the characters they stand for (``mL/m&sup2;`` is ``mL/m²``, ``&nbsp;`` a space), and
a line of markup only is dropped (a ``<br>`` alone is kept as the blank line it shows).

    plain_text("<b>IMPRESSION:</b><br>\\n<ul><li>Normal study.</li></ul>")  # "IMPRESSION:\\n- Normal study."
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# the tags an export leaves in; a '<' before anything else ("E/e' <8", "<50 % collapse") is text
_TAGS = ("p|br|b|i|u|em|strong|span|div|font|center|li|ul|ol|dl|dt|dd|table|thead|tbody|tr|td|th|"
         "h[1-6]|hr|html|head|body|title|sup|sub|small|big|a|pre|blockquote|section|article")
_TAG = re.compile(rf"</?(?:{_TAGS})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,7}|#\d{2,5}|#x[0-9A-Fa-f]{2,4});")
_BLOCK = {"p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "table", "thead", "tbody", "tr",
          "h1", "h2", "h3", "h4", "h5", "h6", "hr", "html", "head", "body", "title", "pre",
          "blockquote", "section", "article", "center"}
_BREAK = "\x00"  # where a block tag broke a line (no report holds a NUL: report_input refuses them)
_SPACES = str.maketrans({"\xa0": " ", "\u2009": " ", "\u202f": " ", "\u2212": "-"})


def has_markup(text: str) -> bool:
    """Whether the text holds an HTML tag or entity."""
    return _TAG.search(text) is not None or _ENTITY.search(text) is not None


class _Lines(HTMLParser):
    """Collects the text of one export, marking where block tags break its lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[int]] = []  # open lists: [] for <ul>, [n] for <ol> at item n
        self.cells = 0  # cells written in the current table row

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("ul", "ol"):
            self.lists.append([0] if tag == "ol" else [])
        if tag == "tr":
            self.cells = 0
        if tag in ("td", "th"):
            self.out.append(" | " if self.cells else _BREAK)
            self.cells += 1
        elif tag in _BLOCK:
            self.out.append(_BREAK)
        if tag == "li":
            numbered = self.lists[-1] if self.lists and self.lists[-1] else None
            if numbered is not None:
                numbered[0] += 1
            self.out.append(f"{numbered[0]}. " if numbered else "- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if tag in _BLOCK:
            self.out.append(_BREAK)

    def handle_data(self, data: str) -> None:
        self.out.append(data)


def plain_text(text: str) -> str:
    """The text of a report with its markup read as an export shows it (unchanged without markup).

    Args:
        text: the whole report.

    Returns:
        The report as lines of text: "<p><b>Impression</b><br>&bull;&nbsp;Normal RV.</p>" is
        "Impression" over "• Normal RV.".
    """
    if not has_markup(text):
        return text
    if _TAG.search(text) is None:  # entities only: the lines stay as written
        return html.unescape(text).translate(_SPACES)
    parser = _Lines()
    lines: list[str] = []
    for line in text.split("\n"):
        parser.out = []
        parser.feed(line)
        pieces = [p.translate(_SPACES).strip() for p in "".join(parser.out).split(_BREAK)]
        kept = [p for p in pieces if p and p not in ("-", "|")]
        if kept:
            lines += kept
        elif re.fullmatch(r"\s*(?:<br\s*/?>\s*)+", line, re.IGNORECASE) or not line.strip():
            lines.append("")  # a <br> alone shows a blank line, as a blank line does
    parser.close()
    return "\n".join(lines)
