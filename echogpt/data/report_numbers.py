"""Decimal commas in a report's numbers ("BSA 1,95 m2", "Vmax 2,4 m/s", "E/A 0,7").

A report uses decimal commas when some number in it is written with a comma, one or two digits and a
unit ("1,95 m2", "2,35 m/s"). In such a report every comma between a number and one or two digits is
a decimal point, except in a list ("18,20,21") or a number that goes on ("1,250"). In a report without
one, a comma between digits is left as written and named as not read: a value is never truncated
("1,95" stored as 1) nor guessed.

    text, notes = decimal_points("SC 1,92 m2. Vmax 3,4 m/s. E/A 0,7.")
    # "SC 1.92 m2. Vmax 3.4 m/s. E/A 0.7.", []
"""

from __future__ import annotations

import re

# a comma between digits that is no part of a list or a longer number: "1,95", "0,7"; not the
# "20" of "18,20,21", nor "1,250"
_COMMA = re.compile(r"(?<![\d,.])(\d+),(\d{1,2})(?![\d]|[.,]\d)")
_UNIT = re.compile(r"\s*(?:%|mm\s?hg|m/s|cm/s|cm2|cm²|m2|m²|ml/m2|ml/m²|g/m2|g/m²|ml|mm|cm|ms)(?![a-z0-9])",
                   re.IGNORECASE)


def uses_decimal_commas(text: str) -> bool:
    """Whether some number in the text is written with a decimal comma and a unit ("1,95 m2")."""
    return any(_UNIT.match(text, m.end()) for m in _COMMA.finditer(text))


def decimal_points(text: str) -> tuple[str, list[str]]:
    """The text with its decimal commas written as points, and a note for each number with a comma
    that is left as written because it cannot be read without guessing.

    Returns:
        (text, notes). Without a decimal comma and a unit anywhere, the text is unchanged and every
        "1,95"-like number (one or two digits after the comma, not in a list) is named in a note.
    """
    if uses_decimal_commas(text):
        return _COMMA.sub(r"\1.\2", text), []
    notes = [f"'{m.group(0)}': a comma between digits in a report that writes decimals with points; "
             f"not read as a value" for m in _COMMA.finditer(text)]
    return text, notes

