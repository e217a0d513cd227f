""""TR 3.0 m/s" is the TR jet velocity, a value of this study, not a claim of tricuspid regurgitation;
a graded "Moderate TR 3.2 m/s" still claims the regurgitation."""

from __future__ import annotations

import pytest

from echogpt.checker.facts import extract_facts


def _facts(text: str) -> list[tuple[str, str | None, float | None]]:
    return [(f.concept, f.location, f.value) for f in extract_facts(text)]


@pytest.mark.parametrize("text", ["TR 2.9 m/s.", "E/e' 15, LAVI 38 and TR 2.9 m/s = grade II."])
def test_tr_and_a_velocity_is_the_tr_velocity(text: str) -> None:
    found = _facts(text)
    assert ("measurement", "tr_vmax", 2.9) in found
    assert not any(c == "valve_regurgitation" for c, _, _ in found)


@pytest.mark.parametrize("text", ["Moderate TR 3.2 m/s.", "Severe TR 4.1 m/s."])
def test_a_graded_tr_before_its_velocity_is_still_a_claim(text: str) -> None:
    assert any(c == "valve_regurgitation" for c, _, _ in _facts(text))
