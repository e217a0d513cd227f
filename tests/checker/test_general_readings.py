"""General reading rules, one clinical sentence per case: a grade after a colon or a dash binds to its
valve, a prosthesis's mismatch or an occluder's residual shunt denies neither the prosthesis nor the
defect, a negated complication leaves its prosthesis present, a replaced valve has no native stenosis
to omit, and the LV mass is no intracardiac mass."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study


def result(impression: str, findings: str):
    return check(impression, Study.model_validate({"study_id": "S1", "findings_text": findings}))


READS = [
    # (sentence, concept, location, polarity, grade)
    ("MR: moderate.", "valve_regurgitation", "mitral", "present", "moderate"),
    ("Mitral regurgitation – moderate.", "valve_regurgitation", "mitral", "present", "moderate"),
    ("Tricuspid regurgitation: mild.", "valve_regurgitation", "tricuspid", "present", "mild"),
    # "tricuspid" after the aortic valve's label counts its cusps: the findings after it stay aortic
    ("Aortic: tricuspid, no stenosis, no regurgitation.", "valve_stenosis", "aortic", "absent", None),
    ("AV: tricuspid, no regurgitation.", "valve_regurgitation", "aortic", "absent", None),
    ("Mitral prosthesis well seated, no dehiscence.", "prosthetic_valve", "mitral", "absent", "dehiscence"),
    ("Annuloplasty ring, well seated, no dehiscence.", "prosthetic_valve", "mitral", "absent", "dehiscence"),
    # "no prosthetic obstruction" denies the obstruction, not the prosthesis
    ("No prosthetic obstruction.", "prosthetic_valve", None, "absent", "dysfunction"),
]


@pytest.mark.parametrize(("sentence", "concept", "location", "polarity", "grade"), READS)
def test_reading(sentence: str, concept: str, location: str | None, polarity: str, grade: str | None) -> None:
    facts = [(f.concept, f.location, f.polarity, f.grade) for f in extract_facts(sentence)]
    assert (concept, location, polarity, grade) in facts, facts


VERDICTS = [
    # (impression, findings, verdict)
    (
        "No patient-prosthesis mismatch.",
        "Aortic prosthesis: well seated, mean gradient 12 mmHg, EOAi 1.0 cm2/m2.",
        "not_checked",
    ),
    (
        "Moderate patient-prosthesis mismatch.",
        "Aortic prosthesis: well seated, mean gradient 22 mmHg, EOAi 0.75 cm2/m2.",
        "not_checked",
    ),
    (
        "Well-positioned ASD occluder with no residual shunt.",
        "ASD occluder (24 mm) well positioned. No residual shunt on colour Doppler.",
        "supported",
    ),
    ("Moderate mitral regurgitation.", "Mitral valve: MR: moderate, central jet.", "supported"),
    (
        "No residual shunt.",
        "Percutaneous closure of secundum ASD with a 24 mm device. No residual shunt on colour Doppler.",
        "supported",
    ),
]


@pytest.mark.parametrize(("impression", "findings", "verdict"), VERDICTS)
def test_verdict(impression: str, findings: str, verdict: str) -> None:
    got = result(impression, findings).statements[0]
    assert got.verdict == verdict, got.reason


OMISSIONS = [
    # (findings, an omission that must not be reported)
    (
        "Transfemoral TAVI, 23 mm, for severe AS with LVEF 40%.\nTranscatheter aortic valve: leaflets thin "
        "and mobile, mean gradient 9 mmHg.",
        "severe aortic stenosis",
    ),
    (
        "Dimensions and mass: LVEDD 45 mm, IVSd 13 mm, LVMi 118 g/m2 - concentric hypertrophy.",
        "intracardiac mass",
    ),
    (
        "Mitral valve repair with annuloplasty ring, well seated, no dehiscence, mean gradient 3 mmHg.",
        "prosthetic valve dysfunction",
    ),
]


@pytest.mark.parametrize(("findings", "finding"), OMISSIONS)
def test_no_omission(findings: str, finding: str) -> None:
    omitted = [o.finding for o in result("Normal LV size and systolic function.", findings).omissions]
    assert not any(finding in o for o in omitted), omitted


def test_a_native_severe_stenosis_is_still_an_omission() -> None:
    findings = "Aortic valve: trileaflet, heavily calcified; severe AS, mean gradient 48 mmHg."
    omitted = [o.finding for o in result("Normal LV size and systolic function.", findings).omissions]
    assert any("severe aortic stenosis" in o for o in omitted), omitted
