"""The RA pressure the study gives by its IVC where it states none (ASE 2010 right heart: IVC > 2.1 cm
with < 50 % collapse is 15 mmHg, <= 2.1 cm with > 50 % is 3 mmHg); a percentage right before its
name is its value ("< 50 % collapse"); a number after another quantity's name is that quantity's
("collapse, mitral inflow variation 12 %")."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study


def _verdict(claim: str, findings: str, measurements: dict | None = None) -> str:
    study = Study.model_validate({"study_id": "S1", "findings_text": findings,
                                  "measurements": measurements or {}})
    return check(claim, study).statements[0].verdict


@pytest.mark.parametrize(("claim", "verdict"), [("RAP 15 mmHg.", "supported"),
                                              ("RAP 3 mmHg.", "contradicted")])
def test_rap_from_structured_ivc(claim: str, verdict: str) -> None:
    assert _verdict(claim, "Plethoric IVC.", {"ivc_diameter": 2.3, "ivc_collapse": 30}) == verdict


@pytest.mark.parametrize(("findings", "claim"), [("IVC 2.3 cm, < 50 % collapse.", "RAP 15 mmHg."),
                                                 ("IVC 1.5 cm with > 50 % collapse.", "RAP 3 mmHg.")])
def test_rap_from_prose_ivc(findings: str, claim: str) -> None:
    assert _verdict(claim, findings) == "supported"


def test_number_after_another_quantity_is_not_collapse() -> None:
    facts = extract_facts("Normal IVC with collapse, mitral inflow variation 12 %.")
    assert not [f for f in facts if f.location == "ivc_collapse"], facts
