"""The flow-gradient class between a grade and its stenosis ('Severe high-gradient aortic stenosis') keeps
the grade on the stenosis: no omission of the severe stenosis, and a wrong grade is still caught."""

from __future__ import annotations

from echogpt.checker.check import check
from echogpt.schemas import Study

STUDY = Study.model_validate({
    "study_id": "S1",
    "findings_text": "AV: heavily calcified, severely restricted. Vmax 4.6 m/s, mean gradient 55 mmHg."})


def test_severe_high_gradient_stenosis_names_the_severe_stenosis() -> None:
    result = check("Severe high-gradient aortic stenosis.", STUDY)
    assert result.statements[0].verdict == "supported"
    assert not result.omissions


def test_a_wrong_grade_beside_the_class_is_still_contradicted() -> None:
    assert check("Moderate high-gradient aortic stenosis.", STUDY).statements[0].verdict == "contradicted"
