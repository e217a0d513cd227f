"""Rows of a spreadsheet or database export in prose: ``Label;value`` cells.

A semicolon written between two cells, with no space on either side ("LV_thrombus;none seen"),
parts a row's label from its value as a colon does; read as a sentence end it would leave the label
a bare finding ("thrombus") and the value without its subject. The rewrite keeps every offset.

    cell_labels("Effusion;none")  # "Effusion:none"
"""

from __future__ import annotations

import re

# the first cell of a row, then a semicolon with no space either side
_LABEL_CELL = re.compile(r"^([ \t]*[^\s;:][^;\n]*?[^\s;]);(?=[^\s;])", re.MULTILINE)


def cell_labels(text: str) -> str:
    """The text with each row's label-cell semicolon read as a colon.

    Args:
        text: Prose that may hold delimited rows (a findings section).

    Returns:
        A text of the same length: ``Label;value`` rows read ``Label:value``.
    """
    return _LABEL_CELL.sub(lambda m: f"{m.group(1)}:", text)
