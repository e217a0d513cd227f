"""A heading states nothing: a line in capitals alone ("THROMBUS", "PULMONARY HYPERTENSION CLINIC -
TRANSTHORACIC ECHO") in findings written in mixed case names a section or a clinic, not a finding;
it still names the subject of the lines below it."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.study_facts import study_facts
from echogpt.checker.tokens import headings
from echogpt.schemas import Study


def study(findings: str) -> Study:
    return Study.model_validate({"study_id": "S1", "findings_text": findings})


def test_a_section_heading_is_no_thrombus() -> None:
    s = study("LEFT VENTRICLE\nNormal size and function, EF 60 %.\nTHROMBUS\nNo LV thrombus seen.\n")
    result = check("Normal LV size and systolic function, EF 60 %.", s)
    assert not result.omissions
    assert all(e.fact.polarity == "absent" for e in study_facts(s).by_concept["thrombus"])


def test_a_clinic_named_in_capitals_is_no_pulmonary_hypertension() -> None:
    s = study("PULMONARY HYPERTENSION SCREENING CLINIC - TRANSTHORACIC ECHO\n"
              "Peak TR velocity 2.4 m/s. Estimated sPAP 26 mmHg. No septal flattening.\n")
    assert not [e for e in study_facts(s).by_concept.get("pasp", []) if e.fact.grade == "elevated"]


def test_a_heading_still_names_the_valve_below_it() -> None:
    s = study("MITRAL VALVE\nRegurgitation: moderate.\n")
    assert [x.verdict for x in check("Moderate mitral regurgitation.", s).statements] == ["supported"]


@pytest.mark.parametrize("text", [
    "SEVERE AORTIC STENOSIS\nVmax 4.5 m/s.",  # a grade: a finding, shouted
    "- DILATED LA\nEF 60 %.",  # a bullet
    "NO LV THROMBUS\nEF 60 %.",  # a negation
    "LV THROMBUS\nAPICAL ANEURYSM\n",  # all capitals: every line is a finding
])
def test_what_is_no_heading(text: str) -> None:
    first = text.split("\n")[0]
    assert not [sp for sp in headings(text) if text[sp[0]:sp[1]] == first]
