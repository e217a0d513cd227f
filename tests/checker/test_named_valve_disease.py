"""A valve disease named by its cause or morphology ("restrictive valve disease", "ergot-derived
valvulopathy") is no statement about every lesion: its absence does not deny a mild regurgitation."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.schemas import Study

STUDY = Study.model_validate({"study_id": "S1", "findings_text": "Mitral valve: mild MR. Aortic valve: "
                              "trace AR. Leaflets thin and mobile."})


@pytest.mark.parametrize("claim", [
    "Mild MR and trace AR; no restrictive valve disease.",
    "No features of ergot-derived dopamine agonist valvulopathy.",
    "No drug-induced valve disease.",
])
def test_a_named_valve_disease_denied_beside_mild_mr(claim: str) -> None:
    assert all(s.verdict != "contradicted" for s in check(claim, STUDY).statements)


def test_valve_disease_denied_outright_still_contradicts_mild_mr() -> None:
    assert check("No valve disease.", STUDY).statements[0].verdict == "contradicted"



@pytest.mark.parametrize("claim", ["Consistent with ergot-derived (pergolide) valvulopathy."])
def test_a_named_valvulopathy_with_its_drug_in_brackets_is_no_stenosis_claim(claim: str) -> None:
    assert all(s.verdict not in ("contradicted", "unsupported") for s in check(claim, STUDY).statements)
