"""The Study's contrast, LBBB, ventilation and rhythm flags from a report: an enhancing agent given
('Contrast: Definity 1.3 mL IV'), LBBB on the rhythm line ('Rhythm: Sinus rhythm with LBBB'), the
rhythm a labelled line states ('Rhythm: AF'); not when the report says none was given, when the
'contrast' is agitated saline, when LBBB is only history or absent, or when AF is only history."""

from __future__ import annotations

import pytest

from echogpt.data.report_text import parse_report
from echogpt.data.reports import build_study

END = "\n\nFINDINGS:\nLV mildly dilated, LVEF 40 %.\n\nIMPRESSION:\n1. Mildly reduced LV function."


@pytest.mark.parametrize(("header", "given"), [
    ("Contrast: Definity 1.3 mL IV for LV opacification.", True),
    ("Study quality: poor; SonoVue 2 mL given.", True),
    ("Contrast: ultrasound enhancing agent used.", True),
    ("Contrast: none.", False),
    ("Contrast: agitated saline, no shunt.", False),
    ("Technically difficult; no contrast given.", False),
    ("Indication: LV thrombus? Consider Definity.", False),
])
def test_contrast_is_set_when_an_enhancing_agent_was_given(header: str, given: bool) -> None:
    parsed = parse_report(f"TTE\nMRN: 12345\n{header}{END}")
    assert parsed.contrast is given
    study, _ = build_study(parsed, "s1", {})
    assert study is not None and study.contrast is given


@pytest.mark.parametrize(("header", "lbbb"), [
    ("Sex: Male   BSA: 1.95 m2   Heart rate: 84 bpm   Rhythm: Sinus rhythm with LBBB", True),
    ("ECG: SR, left bundle branch block.", True),
    ("Rhythm: sinus rhythm, no LBBB.", False),
    ("CRT-P implanted for LBBB in 2025, paced rhythm today.", False),
    ("Heart rate: 70 bpm", False),
    ("63-year-old woman; syncope. LBBB on ECG. BSA 1.75 m2.", True),
    ("Findings: dyssynchronous septal motion (LBBB). LVEF 30 %.", True),
    ("History: no LBBB on ECG.", False),
])
def test_lbbb_is_set_from_the_rhythm_line(header: str, lbbb: bool) -> None:
    parsed = parse_report(f"TTE\nMRN: 12345\n{header}{END}")
    assert parsed.lbbb is lbbb
    study, _ = build_study(parsed, "s1", {})
    assert study is not None and study.lbbb is lbbb


@pytest.mark.parametrize(("text", "ventilated"), [
    ("Indication: hypoxia after surgery; intubated and ventilated on ICU.", True),
    ("Technique: apical views only (patient ventilated, supine).", True),
    ("History: ARDS, on the ventilator since Monday.", True),
    ("Indication: pneumonia, SpO2 90 % on oxygen (not ventilated).", False),
    ("Ventilated: no   Sinus rhythm 80 bpm", False),
    ("Indication: extubated yesterday after CABG.", False),
    ("Indication: breathlessness.", False),
])
def test_ventilated_is_set_when_the_patient_is_ventilated(text: str, ventilated: bool) -> None:
    parsed = parse_report(f"TTE\nMRN: 12345\n{text}{END}")
    assert parsed.ventilated is ventilated
    study, _ = build_study(parsed, "s1", {})
    assert study is not None and study.ventilated is ventilated


def test_ventilation_in_the_plan_sets_no_flag() -> None:
    parsed = parse_report(f"TTE\nMRN: 12345{END}\n\nRecommendation: consider lung-protective ventilation if "
                          "intubated and ventilated later.")
    assert parsed.ventilated is False


@pytest.mark.parametrize(("header", "rhythm"), [
    ("Sex: Male   BSA: 1.95 m2   Heart rate: 84 bpm   Rhythm: Sinus rhythm with LBBB", "sinus"),
    ("Rhythm: AF with controlled ventricular rate, HR 78", "atrial-fibrillation"),
    ("ECG: atrial flutter 2:1", "atrial-flutter"),
    ("Rhythm - V-paced at 70 bpm", "paced"),
    ("ECG: sinus rhythm, no AF today.", "sinus"),
    ("Rhythm: not in AF; NSR 66 bpm", "sinus"),
    ("History: paroxysmal AF, on apixaban.", None),
    ("Heart rate: 70 bpm", None),
])
def test_rhythm_is_read_from_a_labelled_rhythm_line(header: str, rhythm: str | None) -> None:
    parsed = parse_report(f"TTE\nMRN: 12345\n{header}{END}")
    assert parsed.rhythm == rhythm
    study, _ = build_study(parsed, "s1", {})
    assert study is not None and (study.rhythm.value if study.rhythm else None) == rhythm
