"""Colour flow from one side to the other ("left-to-right flow at the transseptal puncture") is a
shunt named by its direction: it supports a shunt statement without a bubble study."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study


@pytest.mark.parametrize("sentence", [
    "Small left-to-right flow across the interatrial septum.",
    "Right to left colour jet at the fossa ovalis.",
])
def test_directional_flow_is_a_shunt(sentence: str) -> None:
    assert [f.polarity for f in extract_facts(sentence) if f.concept == "shunt"] == ["present"]


def test_a_shunt_seen_on_colour_flow_is_supported() -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": (
        "Interatrial septum: small left-to-right flow at the puncture site. Normal LV size.")})
    result = check("Small left-to-right shunt across the interatrial septum.", study).statements[0]
    assert result.verdict == "supported", result.reason


def test_a_shunt_without_any_evidence_stays_unsupported() -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": "Normal LV size. Mild MR."})
    assert check("Small left-to-right shunt.", study).statements[0].verdict == "unsupported"
