"""A statement of a test's limited sensitivity for a finding ("TTE sensitivity for right-sided
vegetations is limited", "this does not exclude endocarditis") hedges the finding; it never claims it."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study


@pytest.mark.parametrize("text", ["TTE sensitivity for small vegetations is limited.",
                                  "Low sensitivity of TTE for prosthetic valve vegetations.",
                                  "Transthoracic imaging is insensitive to small vegetations."])
def test_limited_sensitivity_hedges_the_finding(text: str) -> None:
    facts = [f for f in extract_facts(text) if f.concept == "vegetation"]
    assert facts and all(f.polarity == "uncertain" for f in facts)


def test_it_is_no_claim_against_a_study_without_vegetation() -> None:
    study = Study.model_validate({"study_id": "v1", "findings_text": "Valves structurally normal, no "
                                  "vegetation seen. Mild TR. LVEF 60 %."})
    result = check("1. TTE sensitivity for right-sided vegetations is limited; TEE recommended.", study)
    assert result.statements[0].verdict not in ("contradicted", "unsupported")
