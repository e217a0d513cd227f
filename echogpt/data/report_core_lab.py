"""A trial core laboratory's values written beside the enrolling site's in one line: "LVEF (biplane): site
38 % / core 43 %", "RVSP: core 30 mmHg", and rows under a "Site vs core" heading ("TAPSE, mm .... 17 / 16").

The core lab's read is the study's value of record; the site's stays in the text in brackets after it,
never read as the value: "LVEF (biplane): 43 % (site 38 %)", "TAPSE .... 16 mm (site 17)".

    text = core_values("- LAVI: site 33 / core 34 mL/m2")   # "- LAVI: 34 mL/m2 (site 33)"
"""

from __future__ import annotations

import re

# "site 121 mL / core 130 mL", "site 33 / core 34 mL/m2"
_PAIR = re.compile(r"\bsite\s+(?P<site>\d[^/;\n]*?)\s*/\s*core\s+(?P<core>\d[\d.]*(?:\s*[a-z%][\w/²%]*)?)",
                   re.IGNORECASE)
# "RVSP: core 30 mmHg": the core lab's value alone
_CORE_ONLY = re.compile(r"(?<=:)\s*core(?:[- ]lab)?\s+(?=\d)", re.IGNORECASE)
# a heading that names the order of paired columns: "Site vs core", "Site / core lab", "Core vs site"
_ORDER = re.compile(r"^\s*(site|core(?:[- ]lab)?)\s*(?:vs\.?|versus|/)\s*(site|core(?:[- ]lab)?)\s*:?\s*$",
                    re.IGNORECASE)
# "TAPSE, mm ................ 17 / 16": a name, its unit after a comma, a leader, then two values
_ROW = re.compile(r"^(?P<name>\s*[^,\n]+?)(?:,\s*(?P<unit>[^\s.,][^\s,]*?))?(?P<lead>\s*\.{2,}\s*|\s{2,})"
                  r"(?P<a>\d[\d.]*)\s*/\s*(?P<b>\d[\d.]*)\s*$")


def core_values(text: str) -> str:
    """The text with each site/core pair written as the core value, the site's in brackets after it."""
    lines = text.split("\n")
    order: tuple[str, str] | None = None
    for i, line in enumerate(lines):
        head = _ORDER.match(line)
        if head:
            order = (head.group(1).lower()[:4], head.group(2).lower()[:4])
            continue
        if not line.strip():
            order = None
        row = _ROW.match(line) if order and "core" in order and "site" in order else None
        if row:
            core, site = row.group("b"), row.group("a")
            if order[0] == "core":
                core, site = site, core
            unit = f" {row.group('unit')}" if row.group("unit") else ""
            lines[i] = f"{row.group('name')}{row.group('lead')}{core}{unit} (site {site})"
            continue
        line = _PAIR.sub(lambda m: f"{m.group('core')} (site {m.group('site').strip()})", line)
        lines[i] = _CORE_ONLY.sub(" ", line)
    return "\n".join(lines)
