"""Hyperkinetic segments ("the basal segments are hyperkinetic") score 1, normal or hyperkinetic, in the
ASE wall-motion score: normal wall motion there, so a claim of akinesis of those segments is
contradicted, while a hyperdynamic LV stays a function grade."""

from __future__ import annotations

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study

FINDINGS = "Akinesis of the apical segments with apical ballooning; the basal segments are hyperkinetic."


def test_hyperkinetic_segments_are_normal_wall_motion() -> None:
    facts = extract_facts("Hyperkinetic basal segments.")
    assert [(f.concept, f.location, f.grade) for f in facts] == [("wall_motion", "basal", "normal")]


def test_a_hyperdynamic_lv_is_still_function() -> None:
    assert [f.concept for f in extract_facts("Hyperdynamic LV.")] == ["lv_systolic_function"]


def test_basal_akinesis_is_contradicted() -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": FINDINGS})
    assert check("Basal akinesis.", study).statements[0].verdict == "contradicted"
    assert check("Apical akinesis, hyperkinetic base.", study).statements[0].verdict == "supported"
