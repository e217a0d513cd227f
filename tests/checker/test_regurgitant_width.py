"""A regurgitation the findings grade only by its vena contracta is graded from it at the ends of the
ASE 2017 scale; a width between them, or a grade written in words, decides nothing new."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.regurgitant_width import width_grades
from echogpt.schemas import Study


@pytest.mark.parametrize(("text", "expected"), [
    ("Tricuspid valve: coaptation gap. TR: VC 0.8 cm, dense CW signal.", [("tricuspid", "severe")]),
    ("Mitral valve: central MR jet, vena contracta 0.25 cm.", [("mitral", "mild")]),
    ("Aortic valve: eccentric AR, VC 6.5 mm.", [("aortic", "severe")]),
    ("Mitral valve: MR, VC 0.5 cm.", []),  # between the ends: no grade from the width alone
    ("Comparison with prior study: MR, VC 0.8 cm.", []),
])
def test_the_ends_of_the_scale_grade(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(f.location, f.grade) for f in width_grades(text)] == expected


def _verdict(statement: str, findings: str) -> str:
    return check(statement, Study.model_validate({"study_id": "w1", "findings_text": findings})
                 ).statements[0].verdict


def test_a_claim_is_judged_on_the_width_where_no_word_grades_it() -> None:
    findings = "Tricuspid valve: lead across the valve. TR: VC 0.8 cm, hepatic vein systolic reversal."
    assert _verdict("1. Severe tricuspid regurgitation.", findings) == "supported"
    assert _verdict("1. Mild tricuspid regurgitation.", findings) == "contradicted"


def test_a_grade_in_words_is_not_overruled_by_the_width() -> None:
    findings = "Mitral valve: moderate MR, VC 0.75 cm."
    assert _verdict("1. Moderate mitral regurgitation.", findings) == "supported"
