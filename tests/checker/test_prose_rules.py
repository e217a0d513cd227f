"""Checker rules for prose it was not written against: one clinical sentence per case.

Each case is (findings text, impression statement, expected verdict): claims no rule verifies
(``not_checked``), comparison with a prior study written inside the findings, numbers bound to
their clause and subject, the words real reports use, and clinical syntheses.
"""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.schemas import Study


def verdict(findings: str, statement: str, **kw: object) -> str:
    study = Study.model_validate({"study_id": "S1", "findings_text": findings, **kw})
    return check(statement, study).statements[0].verdict


NORMAL = "Normal left ventricular size and systolic function. No pericardial effusion."

NOT_CHECKED = [
    (NORMAL, "Successful cardioversion to sinus rhythm.", "not_checked"),
    (NORMAL, "Excellent functional capacity.", "not_checked"),
    (NORMAL, "Hypertensive blood pressure response to exercise.", "not_checked"),
    (NORMAL, "Anatomy appears favorable for surgical repair.", "not_checked"),
    (NORMAL, "Innocent flow murmur likely.", "not_checked"),
    (NORMAL, "Technically limited study.", "not_factual"),
    (NORMAL, "Findings discussed with the referring team.", "not_factual"),
    # a finding at peak stress is outside the rules; the same finding at rest is judged
    ("Rest: normal wall motion. No regional wall motion abnormality.",
     "Hypokinesis of the apex at peak stress.", "not_checked"),
    (NORMAL, "Moderate aortic stenosis.", "unsupported"),
    (NORMAL, "Severely reduced left ventricular systolic function.", "contradicted"),
]


@pytest.mark.parametrize(("findings", "statement", "expected"), NOT_CHECKED)
def test_claims_no_rule_verifies_are_not_checked(findings: str, statement: str, expected: str) -> None:
    assert verdict(findings, statement) == expected


def test_not_checked_is_counted_and_never_a_flag() -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": NORMAL})
    result = check("1. Successful cardioversion to sinus rhythm.\n2. No pericardial effusion.", study)
    assert result.summary["not_checked"] == 1
    assert not result.flagged
    assert "cardioversion" in result.statements[0].reason
