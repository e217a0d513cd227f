"""Prosthetic valves in prose: a prosthesis-patient mismatch is no prosthesis, so "no mismatch" does not
deny the valve."""

from __future__ import annotations

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study


def verdicts(impression: str, findings: str) -> list[str]:
    study = Study.model_validate({"study_id": "S1", "findings_text": findings})
    return [s.verdict for s in check(impression, study).statements]


def test_no_prosthesis_patient_mismatch_denies_no_prosthesis() -> None:
    assert not [f for f in extract_facts("No prosthesis-patient mismatch (EOAi 0.96 cm2/m2).")
                if f.concept == "prosthetic_valve"]


def test_a_prosthesis_without_mismatch_is_not_contradicted_by_its_own_valve() -> None:
    findings = "Bioprosthetic aortic valve: well seated. Mean gradient 12 mmHg, EOA 1.8 cm2. Prosthetic valve."
    statement = "Normally functioning aortic bioprosthesis; no prosthesis-patient mismatch."
    assert "contradicted" not in verdicts(statement, findings)
