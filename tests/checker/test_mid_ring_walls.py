"""The mid-ventricular ring named alone ("mid and apical segments", "Mid and apical akinesis") is a
wall-motion location (segments 7-12 of the 17-segment model), so a takotsubo-like pattern is read
with its levels, while "mid inferior wall" keeps its one segment."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study

FINDINGS = "Normal LV size. Akinesis of all mid and apical segments with apical ballooning. LVEF 35%."


@pytest.mark.parametrize(("sentence", "sites"), [
    ("Akinesis of the mid and apical segments.", {"mid", "apical"}),
    ("Mid and apical akinesis.", {"mid", "apical"}),
    ("Hypokinesis of the mid inferior wall.", {"mid_inferior"}),
])
def test_the_mid_ring_is_a_location(sentence: str, sites: set[str]) -> None:
    assert {f.location for f in extract_facts(sentence) if f.concept == "wall_motion"} == sites


def test_mid_and_apical_akinesis_is_supported() -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": FINDINGS})
    result = check("Mid and apical akinesis with apical ballooning.", study).statements[0]
    assert result.verdict == "supported", result.reason


def test_no_wall_is_read_from_other_mid_words() -> None:
    facts = extract_facts("Mid-systolic notching of the RVOT Doppler.")
    assert not [f for f in facts if f.concept == "wall_motion"]
