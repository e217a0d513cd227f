"""An addendum or correction is the later word on the study: what it states again of a finding or a
value replaces what the report said of it before, so a stale impression is not supported by the
superseded line."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.schemas import Study

FINDINGS = ("Left ventricle: normal size. LVEF 55 % by biplane.\n"
            "Aortic valve: trileaflet, mild aortic regurgitation.\n"
            "No pericardial effusion.\n"
            "ADDENDUM 14:20: on review of the stored loops the AR is moderate. LVEF 45 %.")


@pytest.mark.parametrize(("statement", "verdict"), [
    ("Mild aortic regurgitation.", "contradicted"),  # the grade the addendum corrected
    ("LVEF 55 %.", "contradicted"),
    ("Moderate aortic regurgitation.", "supported"),
    ("LVEF 45 %.", "supported"),
    ("No pericardial effusion.", "supported"),  # what the addendum does not restate still stands
])
def test_an_addendum_supersedes_what_it_restates(statement: str, verdict: str) -> None:
    study = Study(study_id="A1", findings_text=FINDINGS)
    assert check(statement, study).statements[0].verdict == verdict


def test_without_an_addendum_both_readings_stand() -> None:
    study = Study(study_id="A2", findings_text=FINDINGS.replace("ADDENDUM 14:20: on review of the stored "
                                                                "loops the", "Colour Doppler: the"))
    assert check("Mild aortic regurgitation.", study).statements[0].verdict == "supported"


def test_an_addendum_that_only_adds_supersedes_nothing() -> None:
    """"A previous echo is now available: ... no MR" gives an earlier study, it corrects no finding."""
    findings = ("LVEF 35 %. Mild functional MR.\nAddendum (18/11/2026): a previous echo from another "
                "hospital is now available: LVEF 60 %, no MR.")
    study = Study(study_id="A3", findings_text=findings)
    assert check("Mild functional mitral regurgitation.", study).statements[0].verdict == "supported"
