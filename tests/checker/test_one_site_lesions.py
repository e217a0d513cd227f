"""A lesion lies in one place: an unsided "atrial myxoma" beside the side the sentence names ("left
atrial mass") is that atrium's, not both atria's, so it is not unsupported at the other atrium."""

from __future__ import annotations

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study

FINDINGS = ("Left atrium: mobile pedunculated mass 3.0 x 2.0 cm attached to the interatrial septum. "
            "Right atrium normal size.")


def sites(text: str) -> set[str | None]:
    return {f.location for f in extract_facts(text) if f.concept == "mass"}


def test_the_named_side_decides() -> None:
    assert sites("Left atrial mass, in keeping with an atrial myxoma.") == {"la"}


def test_an_unsided_lesion_alone_names_no_side() -> None:
    # one atrium, which one unsaid: not a mass in both atria (it is still judged against the study)
    assert sites("Atrial myxoma.") == {None}
    study = Study.model_validate({"study_id": "S1", "findings_text": FINDINGS})
    assert check("Atrial myxoma.", study).statements[0].verdict == "supported"


def test_the_statement_is_supported() -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": FINDINGS})
    result = check("Mobile left atrial mass, most consistent with an atrial myxoma.", study).statements[0]
    assert result.verdict == "supported", result.reason


def test_a_right_atrial_mass_is_still_flagged() -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": FINDINGS})
    result = check("Right atrial mass, most consistent with an atrial myxoma.", study).statements[0]
    assert result.verdict == "unsupported", result.reason
