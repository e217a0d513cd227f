"""Struck-out edits in a reviewed report ("~~Severe~~ Moderate", "RAP ~~3~~ 15 mmHg"): the reviewer
struck the first reader's word or value and wrote their own after it. The reviewer's version is the
report; the struck text is taken out before anything is read, so that it never stands as a finding,
a value or an impression statement, and is kept for the record in a note.

    text, notes = drop_struck("RVSP ~~34~~ 46 mmHg.")   # "RVSP 46 mmHg.", ["... '34' ..."]
"""

from __future__ import annotations

import re

# "~~text~~" on one line (Markdown strike-through), with the space after it; a struck tail before a
# punctuation mark takes the space before it ("in 1-2 years ~~or sooner~~." -> "in 1-2 years.")
_STRUCK = re.compile(r"[ \t]*~~([^~\n]+?)~~(?=[.,;:)])|~~([^~\n]+?)~~[ \t]*")


def drop_struck(text: str) -> tuple[str, list[str]]:
    """The text without its struck-out words, and one note naming what was struck (none when nothing was).

    Line numbers do not change: a strike never spans a line.
    """
    struck = [m.group(1) or m.group(2) for m in _STRUCK.finditer(text)]
    if not struck:
        return text, []
    quoted = ", ".join(f"'{s.strip()}'" for s in struck)
    return _STRUCK.sub("", text), [f"struck-out text, replaced by the reviewer's edit: {quoted}"]
