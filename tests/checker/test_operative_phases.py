"""Intraoperative TEE: the pre- and post-bypass phases of the findings are read apart, and the dose of a
drug ('low-dose dobutamine') grades no function."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.checker.phases import phase_spans
from echogpt.schemas import Study

FINDINGS = (
    "Intraoperative TEE, mitral valve repair.\n"
    "PRE-CPB\n"
    "Mitral valve: prolapse of the anterior leaflet with severe MR, vena contracta 0.8 cm. LVEF 62%.\n"
    "LA dilated.\n"
    "POST-CPB (sinus rhythm, milrinone)\n"
    "Annuloplasty ring stable. Mild residual MR, vena contracta 0.2 cm. LVEF 45%.\n"
)


def _verdicts(impression: str, findings: str = FINDINGS) -> list[str]:
    study = Study.model_validate({"study_id": "S1", "study_type": "TEE", "findings_text": findings,
                                  "measurements": {"lvef": 62}})
    return [s.verdict for s in check(impression, study).statements]


@pytest.mark.parametrize("impression", [
    "Before bypass: severe mitral regurgitation from anterior leaflet prolapse.",
    "Mildly reduced LV systolic function after repair, LVEF 45%.",
    "After repair: mild residual MR. LVEF 45%.",
    "Dilated left atrium.",
])
def test_a_statement_holds_where_one_phase_supports_it(impression: str) -> None:
    assert set(_verdicts(impression)) == {"supported"}


def test_a_claim_no_phase_supports_is_still_flagged() -> None:
    assert _verdicts("Moderate MR. LVEF 30%.") == ["contradicted", "contradicted"]


def test_one_phase_heading_is_no_second_phase() -> None:
    assert phase_spans("Post-bypass study.\nLVEF 50%.") == []
    assert len(phase_spans(FINDINGS)) == 2


@pytest.mark.parametrize("sentence", ["LVEF 55% on low-dose dobutamine.", "EF 60% on high dose adrenaline."])
def test_a_drug_dose_grades_no_function(sentence: str) -> None:
    assert not [f for f in extract_facts(sentence) if f.concept == "lv_systolic_function"]


def test_a_statement_naming_its_phase_is_judged_on_that_phase() -> None:
    # the post-bypass "mild residual MR" does not make "no severe MR" true before bypass
    assert _verdicts("Pre-bypass: no severe mitral regurgitation.") == ["contradicted"]


def test_a_denial_naming_no_phase_is_judged_on_the_whole_operation() -> None:
    # the pre-bypass lines describe the native valve without a leak; the new prosthesis leaks
    findings = ("Pre-bypass\nAortic valve: trileaflet, calcified, severe AS, mean gradient 48 mmHg.\n"
                "Post-bypass\nBioprosthetic AVR well seated, mean gradient 9 mmHg. Mild paravalvular leak.\n")
    assert _verdicts("No paravalvular leak.", findings) == ["contradicted"]
