"""Reports exported as ``key = value`` lines ("lv_mass = 215 g", "history = IVDU"), written as the
labelled lines ``Key words: value`` that the rest of the import reads like any report.

    text = key_value_labels("av_vmax = 4.3 m/s")   # "AV vmax: 4.3 m/s"
"""

from __future__ import annotations

import re
from functools import cache

from echogpt.data.report_measurements import name_table, norm

# "lv_mass = 215 g", "patient_id = 31-44709", "sex / age = F / 74": a line of a key = value export
_KEY_VALUE = re.compile(r"^(\s*)([A-Za-z][A-Za-z0-9]*(?:\s*[_/ ]\s*[A-Za-z0-9]+){0,5})\s*=\s*(?=\S)")
# words of a key written as they are: joining words, and English words that measurement names use
_PLAIN_WORDS = frozenset({"a", "an", "and", "as", "at", "by", "for", "in", "is", "no", "of", "on", "or",
                          "per", "to", "age", "arch", "area", "root", "sinus", "pulse", "sept", "lat", "pat",
                          "mets"})


@cache
def _abbreviations() -> frozenset[str]:
    """Measurement names of one short word ("lvef", "tapse", "ivc"): abbreviations, written in capitals."""
    tbl = name_table()
    names = {n for ns in tbl.names.values() for n in ns} | set(tbl.in_context["names"]) | set(tbl.not_stored)
    return frozenset(n for n in map(norm, names) if n.isalpha() and len(n) <= 5) - _PLAIN_WORDS


def _readable_key(key: str) -> str:
    """A key as a label: underscores as spaces, abbreviations in capitals ("lv_mass" -> "LV mass")."""
    words = []
    for word in re.split(r"[\s_]+", key.strip()):
        short = len(word) <= 2 or not re.search(r"[aeiouy]", word) or word in _abbreviations()
        words.append(word.upper() if word.islower() and word not in _PLAIN_WORDS and short else word)
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def key_value_labels(text: str) -> str:
    """Write each ``key = value`` line of an export as the labelled line ``Key words: value``, so that
    headings, header fields, identity, dates and measurements read it like any report
    ("history = IVDU; ..." -> "History: IVDU; ...", "av_vmax = 4.3 m/s" -> "AV vmax: 4.3 m/s").
    Line numbers do not change."""
    out = []
    for line in text.split("\n"):
        m = _KEY_VALUE.match(line)
        out.append(f"{m.group(1)}{_readable_key(m.group(2))}: {line[m.end():]}" if m else line)
    return "\n".join(out)
