"""What the guard repairs without the model (one value or grade set to the study's) and what it adds
for an omitted critical finding."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.repair import missing_findings, repair_statement
from echogpt.schemas import Study

STUDY = Study(
    study_id="S1",
    findings_text=(
        "Calcified aortic valve with reduced opening. Mean gradient 45 mmHg, AVA 0.8 cm2. "
        "LVEF 35%. Moderate mitral regurgitation. No pericardial effusion."
    ),
)


@pytest.mark.parametrize(
    ("statement", "repaired", "claimed", "study_says"),
    [
        ("LVEF 55%.", "LVEF 35%.", "55", "35"),
        ("Mild mitral regurgitation.", "Moderate mitral regurgitation.", "Mild", "Moderate"),
        (
            "Moderate aortic stenosis, mean gradient 45 mmHg.",
            "Severe aortic stenosis, mean gradient 45 mmHg.",
            "Moderate",
            "Severe",
        ),
    ],
)
def test_one_wrong_value_or_grade_is_set_to_the_study_s(statement, repaired, claimed, study_says):
    assert check(statement, STUDY).statements[0].verdict == "contradicted"
    fix = repair_statement(statement, STUDY)
    assert fix is not None
    assert (fix.text, fix.claimed, fix.study_says) == (repaired, claimed, study_says)
    assert check(fix.text, STUDY).statements[0].verdict == "supported"


@pytest.mark.parametrize(
    "statement",
    [
        "Moderate pericardial effusion.",  # the study says none: not a value or grade to change
        "Mild mitral regurgitation, LVEF 55%.",  # two facts disagree
        "Normal LV size.",  # nothing contradicted
    ],
)
def test_other_conflicts_are_left_to_the_model(statement):
    assert repair_statement(statement, STUDY) is None


def test_missing_findings_name_the_finding_its_opening_and_the_template_sentence():
    study = Study(
        study_id="S2",
        measurements={"av_mean_gradient": 52, "ava": 0.7, "lvef": 60},
        findings_text="Calcified aortic valve.",
    )
    (gap,) = missing_findings("1. Normal LV function.", study)
    assert (gap.finding, gap.severity, gap.opening) == (
        "severe aortic stenosis",
        "high",
        "Severe aortic stenosis",
    )
    assert "aortic stenosis" in gap.template_sentence.lower()
    assert not check(f"1. {gap.template_sentence}", study).omissions
    assert missing_findings(f"1. {gap.template_sentence}", study) == []
    assert missing_findings("1. Normal LV function.", study, severities=("critical",)) == []
