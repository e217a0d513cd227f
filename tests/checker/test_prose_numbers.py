"""Numbers of the findings prose: a pressure half-time of aortic or tricuspid regurgitation is no
mitral PHT, and one number out of range leaves the other prose numbers graded."""

from __future__ import annotations

import pytest

from echogpt.checker.check import check
from echogpt.checker.facts import extract_facts
from echogpt.schemas import Study


def measured(sentence: str) -> list[tuple[str | None, float | None]]:
    return [(f.location, f.value) for f in extract_facts(sentence) if f.concept == "measurement"]


@pytest.mark.parametrize("sentence", [
    "Mild central AR, vena contracta 0.2 cm, pressure half-time 620 ms.",
    "AR pressure half-time 550 ms.",
    "Moderate TR, PHT 300 ms.",
])
def test_the_pht_of_a_regurgitant_jet_is_no_mitral_pht(sentence: str) -> None:
    assert not [f for f, _ in measured(sentence) if f == "mv_pht"]


@pytest.mark.parametrize("sentence", ["Mitral stenosis: mean gradient 10 mmHg, PHT 200 ms.", "PHT 240 ms."])
def test_a_pht_of_the_mitral_valve_or_of_no_valve_is_mitral(sentence: str) -> None:
    assert [v for f, v in measured(sentence) if f == "mv_pht"] == [measured(sentence)[-1][1]]


def test_a_number_out_of_range_leaves_the_others_graded() -> None:
    # 700 ms is past the plausible MV PHT range: the ascending aorta is still graded
    findings = "Native ascending aorta 31 mm. Mitral valve: PHT 700 ms."
    study = Study.model_validate({"study_id": "S1", "findings_text": findings})
    assert [s.verdict for s in check("Normal ascending aorta dimensions.", study).statements] == ["supported"]
