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


@pytest.mark.parametrize("sentence", [
    "TR peak gradient: 92 mmHg",
    "TR: moderate, Vmax 3.5 m/s, peak gradient 49 mmHg.",
    "MV: peak gradient 24 mmHg, mean gradient 12 mmHg.",
    "Early diastolic PR velocity 2.5 m/s.",
    "MR: PISA radius 1.0 cm, MR Vmax 5.3 m/s.",
])
def test_a_gradient_or_velocity_of_another_valve_is_no_aortic_value(sentence: str) -> None:
    assert not [f for f, _ in measured(sentence) if (f or "").startswith("av_")]


@pytest.mark.parametrize(("sentence", "field", "value"), [
    ("Mild MR, mild TR. AV Vmax 1.9 m/s.", "av_vmax", 1.9),
    ("Left-sided valves: mild aortic sclerosis, Vmax 2.1 m/s; MV normal.", "av_vmax", 2.1),
    ("Vmax 2.4 m/s, peak 23 mmHg, mean 12 mmHg.", "av_mean_gradient", 12.0),
    ("Mitral stenosis: mean gradient 10 mmHg.", "mv_mean_gradient", 10.0),
])
def test_the_aortic_values_are_still_read(sentence: str, field: str, value: float) -> None:
    assert (field, value) in measured(sentence)


def test_a_tr_gradient_is_no_severe_aortic_stenosis() -> None:
    findings = "TR peak velocity: 4.8 m/s\nTR peak gradient: 92 mmHg\nAortic valve: trileaflet, no AS."
    study = Study.model_validate({"study_id": "S1", "findings_text": findings})
    assert not check("Severe tricuspid regurgitation.", study).omissions


@pytest.mark.parametrize(("sentence", "expected"), [
    ("LA: volume index 38 mL/m2, mildly dilated.", [("lavi", 38.0)]),
    ("LA Vol Index (Biplane): 26 mL/m2", [("lavi", 26.0)]),
    ("LV: EDV 150 mL, volume index 79 mL/m2.", []),  # the LV's, no field
])
def test_a_volume_index_under_the_la_is_the_lavi(sentence: str, expected: list) -> None:
    assert [m for m in measured(sentence) if m[0] in ("lavi", "lvedv")] == expected


@pytest.mark.parametrize(("sentence", "field", "value"), [
    ("AV Vmax: 3.5 m/s | AV Pmax: 49 mmHg | AV Pmean: 28 mmHg", "av_mean_gradient", 28.0),
    ("AV Vmax: 3.5 m/s | AV Pmax: 49 mmHg | AV Pmean: 28 mmHg", "av_peak_gradient", 49.0),
    ("MV Pmean 5 mmHg", "mv_mean_gradient", 5.0),
])
def test_pmean_and_pmax_are_the_gradients(sentence: str, field: str, value: float) -> None:
    assert (field, value) in measured(sentence)


def test_the_velocity_of_a_septal_defect_is_no_aortic_stenosis() -> None:
    findings = ("Residual VSD: small restrictive leak, peak velocity 4.5 m/s (gradient 81 mmHg).\n"
                "Aortic valve: trileaflet, no AS.")
    assert not [f for f, _ in measured(findings) if (f or "").startswith("av_")]
    study = Study.model_validate({"study_id": "S1", "findings_text": findings})
    assert not check("Small restrictive residual VSD.", study).omissions


@pytest.mark.parametrize(("sentence", "field", "value"), [
    ("Ejection fraction (3-beat average) 45%.", "lvef", 45.0),
    ("LVEF (Simpson's, 2-chamber and 4-chamber) 60 %.", "lvef", 60.0),
    ("TAPSE (2-D guided M-mode) 21 mm.", "tapse", 2.1),
])
def test_a_number_joined_to_a_word_by_a_hyphen_is_no_value(sentence: str, field: str, value: float) -> None:
    # "3-beat", "4-chamber": a count that makes a word, not the measurement named before it
    assert [(f, v) for f, v in measured(sentence) if f == field] == [(field, value)]


@pytest.mark.parametrize(("sentence", "field", "value"), [
    ("Type A dissection with a 5.2 cm ascending aorta.", "ascending_aorta", 5.2),
    ("An aneurysmal root: a 48 mm aortic root.", "aortic_root", 4.8),
])
def test_a_length_after_an_article_sizes_the_next_name(sentence: str, field: str, value: float) -> None:
    assert (field, value) in measured(sentence)


def test_a_length_after_another_name_stays_that_names() -> None:
    assert measured("LVIDd 5.2 cm ascending aorta 3.3 cm.") == [("lvidd", 5.2), ("ascending_aorta", 3.3)]
