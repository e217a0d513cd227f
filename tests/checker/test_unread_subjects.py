"""What the import could not read excuses only the claims it may hold: a note that quotes the unread
text leaves unchecked the claims whose subject it names; a note without a quote (a suspect cut) any."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.schemas import Study

QUOTED = "values under 'Haemodynamics' were not read as findings: \"IVC 23 mm, RAP 15 mmHg, sPAP 53 mmHg.\""
CUT = "the findings are 40 characters of a 2000-character report: check where the report's sections were cut"


def one(impression: str, unread: list[str]) -> str:
    s = Study.model_validate({"study_id": "S1", "findings_text": "LV normal in size and function.",
                              "unread": unread})
    return check(impression, s).statements[0].verdict


@pytest.mark.parametrize(("statement", "unread", "verdict"), [
    ("RAP 15 mmHg.", [QUOTED], "not_checked"),  # named in the unread lines
    ("Severe aortic stenosis.", [QUOTED], "unsupported"),  # the unread lines say nothing of it
    ("Severe aortic stenosis.", [CUT], "not_checked"),  # anything may stand where the cut fell
    ("Severe aortic stenosis.", [], "unsupported"),
])
def test_unread_text_excuses_only_what_it_names(statement: str, unread: list[str], verdict: str) -> None:
    assert one(statement, unread) == verdict


def test_every_silent_claim_must_stand_in_the_unread_part() -> None:
    # the RAP is named in the unread lines; the tricuspid regurgitation is not: still unsupported
    assert one("Moderate tricuspid regurgitation, RAP 15 mmHg.", [QUOTED]) == "unsupported"
    assert one("Dilated IVC, RAP 15 mmHg.", [QUOTED]) == "not_checked"
