"""What the guard repairs without the model (one value or grade set to the study's), what it adds
for an omitted critical finding, what a statement is about, the template's sentence about a subject,
and the numbers no value of the study backs."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.facts import bound_numbers
from echogpt.checker.repair import (
    missing_findings,
    repair_statement,
    same_subject,
    statement_subjects,
    template_sentence_about,
    unbacked_numbers,
)
from echogpt.checker.study_facts import study_facts
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


@pytest.mark.parametrize(
    ("statement", "bound"),
    [
        ("LVEF 35%.", [("35%", "measurement", "lvef")]),
        ("Severe pulmonary hypertension (peak velocity 102 mmHg).", [("102 mmHg", None, None)]),
        ("A 1.2 cm vegetation on the mitral valve.", [("1.2 cm", "vegetation", "mitral")]),
        ("AVA 0.8 cm2. Repeat in 6 months.", [("0.8 cm2", "measurement", "ava"), ("6", None, None)]),
    ],
)
def test_each_number_and_the_fact_that_took_it(statement, bound):
    got = [(raw, f and f.concept, f and f.location) for raw, f in bound_numbers(statement)]
    assert got == bound


@pytest.mark.parametrize(
    ("statement", "unbacked"),
    [
        ("LVEF 35%, mean gradient 45 mmHg.", []),
        ("LVEF 55%.", ["55%"]),  # the check contradicts it; no value backs it either
        ("Severe pulmonary hypertension (peak velocity 102 mmHg).", ["102 mmHg"]),
        ("Mitral valve vegetation (1.2 cm).", ["1.2 cm"]),  # the study sizes no vegetation
        ("Moderate mitral regurgitation.", []),
    ],
)
def test_numbers_no_value_of_the_study_backs(statement, unbacked):
    assert unbacked_numbers(statement, study_facts(STUDY)) == unbacked


def test_a_lesion_size_is_backed_by_the_study_s_size():
    sf = study_facts(Study(study_id="V", findings_text="Mobile vegetation on the mitral valve, 1.2 cm."))
    assert unbacked_numbers("Mitral valve vegetation (1.2 cm).", sf) == []
    assert unbacked_numbers("Mitral valve vegetation (3.6 cm).", sf) == ["3.6 cm"]


def test_the_prior_study_s_values_back_a_number_too():
    study = Study.model_validate(
        {"study_id": "P", "findings_text": "LVEF 55%.", "measurements": {"lvef": 55}, "prior": {"lvef": 35}}
    )
    assert unbacked_numbers("LVEF 35% on the prior study.", study_facts(study)) == []
    assert unbacked_numbers("LVEF 45% on the prior study.", study_facts(study)) == ["45%"]


RV = Study.model_validate(
    {
        "study_id": "RV",
        "findings_text": "Severely dilated right ventricle with reduced systolic function. LVEF 60%.",
        "measurements": {"lvef": 60, "tapse": 1.2},
        "findings": {"rv_size": "severe", "rv_function": "reduced"},
    }
)


def test_what_a_statement_is_about():
    sf = study_facts(RV)
    rv = statement_subjects("Normal RV size and function.", sf)
    assert rv == {("rv_size", None), ("rv_systolic_function", None)}
    assert not same_subject(statement_subjects("No pericardial effusion.", sf), rv)
    assert same_subject(statement_subjects("Severely dilated right ventricle.", sf), rv)
    # a measured value is also about what the study grades from it
    assert ("lv_systolic_function", None) in statement_subjects("LVEF 45%.", sf)
    assert statement_subjects("Normal study.", sf) == set()


def test_the_template_s_sentence_about_a_subject_with_a_finding():
    sf = study_facts(RV)
    rv = statement_subjects("Normal RV size and function.", sf)
    sentence = template_sentence_about(RV, rv, sf)
    assert sentence is not None and "right ventricle" in sentence
    assert check(sentence, RV).statements[0].verdict == "supported"
    # the LV is normal: no finding about it, nothing to put back
    assert template_sentence_about(RV, statement_subjects("Severely reduced LV function.", sf), sf) is None
