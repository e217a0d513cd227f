"""A person named by a title states nothing of the heart ("Mr. Oyelowo" is no mitral regurgitation);
MR in capitals or in the lower case of a dictated report keeps its sense."""

from __future__ import annotations

import pytest

from echogpt.checker.facts import extract_facts


@pytest.mark.parametrize("text", ["Cardiac surgeon (Mr. Oyelowo) informed at 07:05.",
                                  "Sonographer: Mr T Osei", "Discussed with Dr A. Reddy."])
def test_a_titled_name_is_no_finding(text: str) -> None:
    assert extract_facts(text) == []


@pytest.mark.parametrize("text", ["Mild MR. Moderate TR.", "mild mr. moderate tr.",
                                  "Mr. Smith has severe MR."])
def test_mr_as_mitral_regurgitation_stays(text: str) -> None:
    assert any(f.concept == "valve_regurgitation" and f.location == "mitral" for f in extract_facts(text))
