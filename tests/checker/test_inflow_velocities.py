"""Mitral inflow velocities in prose: "E 0.80 m/s, A 0.60 m/s", "E velocity", "onda E", "E/A 2.1" give
e_velocity, a_velocity and e_a_ratio, so that the diastolic grading can use them; a capital E or A
is read as a velocity only right before a velocity, and "mitral E" with no number after it names none."""

from __future__ import annotations

import pytest

from echogpt.checker.facts import extract_facts


def _values(sentence: str) -> dict[str, float | None]:
    return {f.location: f.value for f in extract_facts(sentence) if f.concept == "measurement"}


@pytest.mark.parametrize(("sentence", "expected"), [
    ("E 0.80 m/s, A 0.60 m/s; average E/e' 16.0.", {"e_velocity": 80.0, "a_velocity": 60.0}),
    ("E velocity 0.8 m/s, A velocity 0.6 m/s.", {"e_velocity": 80.0, "a_velocity": 60.0}),
    ("Onda E 100 cm/s, onda A 43 cm/s, E/A 2.3.",
     {"e_velocity": 100.0, "a_velocity": 43.0, "e_a_ratio": 2.3}),
    ("Mitral E 80 cm/s.", {"e_velocity": 80.0}),
])
def test_inflow_velocities(sentence: str, expected: dict[str, float]) -> None:
    values = _values(sentence)
    assert {k: values.get(k) for k in expected} == expected, values


@pytest.mark.parametrize("sentence", ["A 1.2 cm mass on the mitral valve.",
                                      "Variation of mitral E, medial e' (12 cm/s) above lateral e'."])
def test_no_velocity_without_its_number(sentence: str) -> None:
    values = _values(sentence)
    assert "e_velocity" not in values and "a_velocity" not in values, values
