"""The IVC's collapse written as a verb with its number ("collapsing >50% with respiration",
"collapsing by 60%") is the collapse measurement; "normally collapsing IVC" without a number is not."""

from __future__ import annotations

import pytest

from echogpt.checker.facts import extract_facts


def _collapse(text: str) -> list[float | None]:
    return [f.value for f in extract_facts(text) if f.location == "ivc_collapse"]


@pytest.mark.parametrize(("text", "value"), [("IVC 1.2 cm, collapsing >50% on sniff.", 50.0),
                                             ("The IVC is collapsing by 35% with inspiration.", 35.0)])
def test_collapsing_with_a_number_is_the_collapse(text: str, value: float) -> None:
    assert _collapse(text) == [value]


def test_collapsing_without_a_number_measures_nothing() -> None:
    assert _collapse("Normally collapsing IVC, no RA collapse.") == []
