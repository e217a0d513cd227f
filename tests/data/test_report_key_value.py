"""Reports exported as ``key = value`` lines read like labelled lines: history keys go to the
indication, identity and date keys are read, measurement keys are measurements, and each finding
stays a readable line of its own."""

from __future__ import annotations

from echogpt.data.report_key_values import key_value_labels
from echogpt.data.report_text import parse_report
from echogpt.data.reports import build_study

EXPORT = ("ECHO EXPORT\n"
          "patient_id = 77-1020\n"
          "study_date = 2026-10-14\n"
          "sex / age = M / 58\n"
          "history = rheumatic fever in childhood; moderate MS in 2024\n"
          "lvidd = 5.0 cm\n"
          "lvef = 55 %\n"
          "lv_mass = 180 g\n"
          "av_vmax = 1.4 m/s\n"
          "rv_basal = 38 mm\n"
          "mv_morphology = thickened tips, commissural fusion\n"
          "pericardium = no effusion\n\n"
          "IMPRESSION:\n1. Rheumatic mitral valve.")


def test_keys_become_readable_labels_and_line_numbers_stay() -> None:
    text = key_value_labels("lv_mass = 215 g\nhistory = IVDU\nplain line\ntr_vmax= 2.4 m/s")
    assert text.split("\n") == ["LV mass: 215 g", "History: IVDU", "plain line", "TR VMAX: 2.4 m/s"]


def test_an_equation_inside_prose_is_left_as_written() -> None:
    assert key_value_labels("RVSP estimated as 4 x TRV2 + RAP = 38 mmHg") == \
        "RVSP estimated as 4 x TRV2 + RAP = 38 mmHg"


def test_each_key_is_a_finding_line_of_its_own() -> None:
    parsed = parse_report(EXPORT)
    lines = parsed.findings_text.split("\n")
    assert "LV mass: 180 g" in lines
    assert "MV morphology: thickened tips, commissural fusion" in lines
    assert "Pericardium: no effusion" in lines
    assert not any("history" in line.lower() or "rheumatic" in line for line in lines)


def test_history_identity_date_and_measurement_keys_are_read() -> None:
    parsed = parse_report(EXPORT)
    assert parsed.indication == "History: rheumatic fever in childhood; moderate MS in 2024"
    study, _ = build_study(parsed, "kv1", {})
    assert study.patient_id == "77-1020"
    assert str(study.study_date) == "2026-10-14"
    assert study.patient is not None and study.patient.age == 58 and study.patient.sex.value == "male"
    found = {r.field: r.raw for r in parsed.readings}
    assert found == {"lvidd": "5.0 cm", "lvef": "55 %", "av_vmax": "1.4 m/s", "rv_basal_diameter": "38 mm"}
