"""A ``Label;value`` row of a spreadsheet export reads as a label and its value ("Thrombus;none
seen" is no thrombus); a semicolon with a space after it still ends a clause of prose."""

from __future__ import annotations

import pytest

from echogpt.checker.cells import cell_labels
from echogpt.checker.facts import extract_facts


def _facts(text: str) -> set[tuple[str, str | None, str, str | None]]:
    return {(f.concept, f.location, f.polarity, f.grade) for f in extract_facts(text)}


@pytest.mark.parametrize(("text", "fact"), [
    ("Study;Value\nLA_thrombus;none seen", ("thrombus", "la", "absent", None)),
    ("Pericardial_effusion;none;mm", ("pericardial_effusion", None, "absent", None)),
    ("MR;moderate", ("valve_regurgitation", "mitral", "present", "moderate")),
])
def test_a_label_cell_names_what_its_value_says(text: str, fact: tuple) -> None:
    assert fact in _facts(text)


def test_prose_semicolons_and_offsets_stay() -> None:
    text = "Mild MR; no effusion.\nAR;trivial"
    assert cell_labels(text) == "Mild MR; no effusion.\nAR:trivial"
    assert ("pericardial_effusion", None, "absent", None) in _facts(text)
