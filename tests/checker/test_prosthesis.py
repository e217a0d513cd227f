"""Prosthetic valves in prose: a prosthesis-patient mismatch is no prosthesis, so "no mismatch" does not
deny the valve; a denied grade after a normal one ("normal disc motion, no rocking") agrees with it."""

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
    findings = "Bioprosthetic aortic valve: well seated. Mean gradient 12 mmHg, EOA 1.8 cm2. Prosthetic."
    statement = "Normally functioning aortic bioprosthesis; no prosthesis-patient mismatch."
    assert "contradicted" not in verdicts(statement, findings)


def test_a_denied_grade_after_a_normal_one_does_not_deny_the_prosthesis() -> None:
    sentence = "Mitral prosthesis: well seated, normal disc motion, no rocking."
    assert [(f.grade, f.polarity) for f in extract_facts(sentence) if f.concept == "prosthetic_valve"] == [
        ("normal", "present")]
    statement = "Normally functioning mechanical mitral prosthesis: mean gradient 4 mmHg."
    assert verdicts(statement, sentence + " Mean gradient 4 mmHg.") == ["supported"]


def test_a_denied_grade_alone_still_denies_that_grade() -> None:
    facts = extract_facts("Annuloplasty ring well seated, no dehiscence.")
    assert [(f.grade, f.polarity) for f in facts] == [("dehiscence", "absent")]
