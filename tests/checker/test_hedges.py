"""A hedge ("cannot be excluded", "possible") against a study that does not see the finding: what the
images could not show is not read, so the claim is not_checked, never flagged; a definite claim
against the same study stays contradicted."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.schemas import Study

NOT_SEEN = ("Mobile echodensity on the right coronary cusp in keeping with a vegetation. Moderate AR. "
            "No aortic root abscess seen on TTE, but the root is not well seen posteriorly. "
            "No LV thrombus identified, apex not well seen.")


def one(impression: str) -> tuple[str, str]:
    s = Study.model_validate({"study_id": "S1", "findings_text": NOT_SEEN})
    result = check(impression, s).statements[0]
    return result.verdict, result.reason


@pytest.mark.parametrize(("statement", "verdict"), [
    ("Root abscess cannot be excluded on TTE.", "not_checked"),
    ("LV thrombus cannot be excluded.", "not_checked"),
    ("Aortic root abscess.", "contradicted"),  # a definite claim against "no abscess seen"
    ("Large LV apical thrombus.", "contradicted"),
])
def test_a_hedge_is_not_flagged_by_a_finding_not_seen(statement: str, verdict: str) -> None:
    got, reason = one(statement)
    assert got == verdict, reason


def test_the_reason_says_what_was_not_checked() -> None:
    _, reason = one("Root abscess cannot be excluded on TTE.")
    assert "whether it can be excluded is not checked" in reason


SILENT = "Normal LV size and systolic function. Mild MR. No pericardial effusion."


@pytest.mark.parametrize(("statement", "verdict"), [
    ("LV thrombus cannot be excluded.", "not_checked"),  # the study saw nothing either way
    ("Cannot rule out a small PFO.", "not_checked"),
    ("Probable LV thrombus.", "unsupported"),  # a likely finding needs the study to show something
    ("LV apical thrombus.", "unsupported"),
])
def test_what_could_not_be_ruled_out_is_not_flagged_by_silence(statement: str, verdict: str) -> None:
    s = Study.model_validate({"study_id": "S1", "findings_text": SILENT})
    result = check(statement, s).statements[0]
    assert result.verdict == verdict, result.reason


@pytest.mark.parametrize(("sentence", "polarity"), [
    ("CT not yet available. ?aortic dissection.", "uncertain"),  # the referral's question
    ("?LV thrombus.", "uncertain"),
    ("Is there an LV thrombus? No.", "absent"),  # a question mark that ends a sentence hedges nothing:
    # the answer after it says (``answered_questions``)
])
def test_a_question_mark_joined_to_a_finding_hedges_it(sentence: str, polarity: str) -> None:
    from echogpt.checker.facts import extract_facts

    found = [f for f in extract_facts(sentence) if f.concept in ("aortic_dissection", "thrombus")]
    assert [f.polarity for f in found] == [polarity]


def test_a_referral_question_does_not_refute_a_finding_not_seen() -> None:
    s = Study.model_validate({"study_id": "S1", "findings_text": "Tearing chest pain. ?aortic dissection.\n"
                              "Aortic root 41 mm; no intimal flap visualised."})
    assert check("No dissection flap seen in the aortic root.", s).statements[0].verdict != "contradicted"


@pytest.mark.parametrize("claim", ["Diastolic function not assessable in AF.",
                                   "Diastolic function cannot be assessed in AF."])
def test_not_assessable_agrees_with_not_assessed(claim: str) -> None:
    findings = "EF 57 %. Diastolic function not assessed in AF."
    s = Study.model_validate({"study_id": "S1", "findings_text": findings})
    assert check(claim, s).statements[0].verdict == "supported"


def test_a_participle_hedge_matches_the_findings_hedge() -> None:
    # "suggesting" hedges as "suggests" does: the impression says no more than the findings
    s = Study.model_validate({"study_id": "S2", "findings_text": "Irregular rhythm. Septal E/e' 13 suggests "
                              "raised LV filling pressure."})
    result = check("Septal E/e' 13, suggesting raised LV filling pressure.", s).statements[0]
    assert result.verdict == "supported", result.reason
