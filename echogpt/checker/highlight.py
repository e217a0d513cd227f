"""The checker's verdicts drawn onto an impression: each statement highlighted, its reason a tooltip.

A pure function from text and ``CheckResult`` to escaped HTML (markdown's characters too: the
copilot renders it through markdown); the copilot renders it as is.

    html = highlight_impression(text, check(text, study))
"""

from __future__ import annotations

import html
import re

from echogpt.schemas import CheckResult, GuardRecord, StatementCheck

VERDICT_STYLES: dict[str, tuple[str, str]] = {
    # verdict -> (background colour, label); colours chosen to stay readable in light and dark themes
    "supported": ("rgba(46, 160, 67, 0.22)", "supported"),
    "contradicted": ("rgba(218, 54, 51, 0.30)", "contradicted"),
    "unsupported": ("rgba(210, 153, 34, 0.30)", "unsupported"),
    "not_factual": ("rgba(128, 128, 128, 0.15)", "no clinical fact"),
    "not_checked": ("rgba(128, 128, 128, 0.30)", "not checked"),
}


_MARKDOWN = str.maketrans({c: f"&#{ord(c)};" for c in "\\`*_[]()!#|~$:{}"}
                          | {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})
"""Characters HTML, markdown or Streamlit would read as markup, as character references (one pass:
a reference is never escaped again)."""


def _escape(text: str) -> str:
    # The HTML is rendered through markdown: a blank line (also of lone CRs) would end the HTML
    # block and let what follows be read as markdown, so every line break becomes <br>.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_MARKDOWN).replace("\n", "<br>")


def _locate(text: str, s: StatementCheck, after: int) -> tuple[int, int] | None:
    """The statement's span in ``text``: its own offsets if they still match, else its first
    occurrence at or after ``after`` (the text was edited since the check), else None."""
    if 0 <= s.start < s.end <= len(text) and text[s.start:s.end] == s.text:
        return s.start, s.end
    if not s.text:
        return None
    found = text.find(s.text, after)
    return (found, found + len(s.text)) if found >= 0 else None


def _tooltip(label: str, s: StatementCheck) -> str:
    """The escaped tooltip of a statement: its verdict and reason, then, on a line of its own, the
    study fact the verdict rests on ("study: LVEF 35 % (measurements.lvef)")."""
    reason = re.sub(r"\s*\[[^\[\]]*\]", "", s.reason) if s.evidence else s.reason  # the cite, once
    lines = [f"{label}: {reason}" if reason else label]
    if s.evidence:
        lines.append(s.evidence)
    return "&#10;".join(_escape(line.replace("\n", " ")) for line in lines)


GUARD_MARKS: dict[str, str] = {"repaired": "🛡 repaired", "replaced": "🛡 replaced", "dropped": "🛡 dropped",
                                "added": "🛡 added"}


def guard_marks(text: str, guard: GuardRecord | None) -> dict[int, list[str]]:
    """The guard's marks by offset in ``text``: after each repaired, rewritten or added statement,
    and where a dropped one was; each a small badge whose tooltip says what changed and why.

    Args:
        text: The impression as shown (an intervention whose statement was since edited away has no mark).
        guard: The draft's guard record, or None.

    Returns:
        {offset: [HTML badge, ...]}.
    """
    marks: dict[int, list[str]] = {}
    for i in guard.interventions if guard else []:
        if i.kind == "dropped":
            pos: int | None = min(i.start, len(text))
        elif i.text and text[i.start:i.end] == i.text:
            pos = i.end
        else:
            found = text.find(i.text) if i.text else -1
            pos = found + len(i.text or "") if found >= 0 else None
        if pos is not None:
            marks.setdefault(pos, []).append(
                f'<span class="guard-mark guard-{i.kind}" data-guard="{i.kind}" title="{_escape(i.line())}" '
                'style="font-size:0.75em;border:1px solid rgba(56,139,253,0.8);border-radius:8px;'
                f'padding:0 5px;margin:0 3px;white-space:nowrap">{_escape(GUARD_MARKS[i.kind])}</span>')
    return marks


def _plain(text: str, a: int, b: int, marks: dict[int, list[str]]) -> str:
    """text[a:b] escaped, with the marks at offsets after ``a`` (at ``a`` too when ``a`` is 0) up to ``b``."""
    cuts = sorted(p for p in marks if (a < p or p == a == 0) and p <= b)
    out, pos = [], a
    for p in cuts:
        out.append(_escape(text[pos:p]) + "".join(marks[p]))
        pos = p
    return "".join(out) + _escape(text[pos:b])


def highlight_impression(text: str, result: CheckResult | None, guard: GuardRecord | None = None) -> str:
    """HTML of an impression with each checked statement coloured by its verdict.

    Every character of ``text`` appears exactly once, escaped; line breaks become ``<br>``.
    Statements whose span no longer matches the text (and cannot be found) are left plain, and
    overlapping spans keep the first. The guard's interventions are marked beside their statements.

    Args:
        text: The impression as shown to the reader.
        result: The checker's result for this text, or None (then the text is only escaped).
        guard: The draft's guard record (``guard_marks``), or None.

    Returns:
        An HTML fragment: ``<span class="verdict verdict-…" title="reason">…</span>`` per statement.
    """
    marks = guard_marks(text, guard)
    if result is None:
        return f'<div class="echogpt-impression">{_plain(text, 0, len(text), marks)}</div>'
    spans: list[tuple[int, int, StatementCheck]] = []
    cursor = 0
    for s in sorted(result.statements, key=lambda x: x.start):
        where = _locate(text, s, cursor)
        if where is None or where[0] < cursor:
            continue
        spans.append((where[0], where[1], s))
        cursor = where[1]
    out: list[str] = []
    pos = 0
    for start, end, s in spans:
        out.append(_plain(text, pos, start, marks))
        colour, label = VERDICT_STYLES.get(s.verdict, ("transparent", s.verdict))
        out.append(
            f'<span class="verdict verdict-{html.escape(s.verdict)}" '
            f'data-verdict="{html.escape(s.verdict)}" title="{_tooltip(label, s)}" '
            f'style="background:{colour};border-radius:3px;padding:0 2px">'
            f"{_escape(text[start:end])}</span>"
        )
        out.append("".join(marks.get(end, [])))
        pos = end
    out.append(_plain(text, pos, len(text), marks))
    return f'<div class="echogpt-impression" style="line-height:1.8">{"".join(out)}</div>'


def legend_html() -> str:
    """A one-line legend of the verdict colours."""
    items = "".join(
        f'<span style="background:{colour};border-radius:3px;padding:0 4px;margin-right:6px">'
        f"{html.escape(label)}</span>"
        for colour, label in VERDICT_STYLES.values()
    )
    return f'<div class="echogpt-legend" style="font-size:0.85em">{items}</div>'


def omission_lines(result: CheckResult | None, severity: str = "critical") -> list[str]:
    """One plain line per omitted finding of ``severity`` (for the page's banner).

    Args:
        result: The checker's result, or None.
        severity: Which omissions to list ("critical", "high" or "moderate").

    Returns:
        Lines such as ``"Pericardial tamponade — study: RA and RV collapse"``; empty if none.
    """
    if result is None:
        return []
    return [f"{o.finding} — study: {o.evidence}" for o in result.omissions if o.severity == severity]
