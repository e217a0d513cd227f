"""Labels of continental reports with their usual meaning (FEVI, FEVG, FE, DTD, VTD, PAPs, KÖF, SC),
and names that are not the field they resemble ("VTI LVOT 18 cm", "Aortic valve: tricuspid")."""

from __future__ import annotations

import pytest

from echogpt.data.report_measurements import read_measurements
from echogpt.data.report_text import parse_report
from echogpt.data.reports import build_study


def _fields(line: str) -> dict[str, str]:
    return {r.field: r.raw for r in read_measurements([(1, line)], table=False)}


@pytest.mark.parametrize("line", ["FEVI 62 % (biplane).", "FEVG 45 %.", "FE 63 % (biplane)."])
def test_fevi_fevg_and_fe_are_the_lvef(line: str) -> None:
    assert "lvef" in _fields(line)


def test_continental_chamber_and_pressure_labels() -> None:
    got = _fields("DTD 44 mm, SIV 12 mm, PP 11 mm; VTD 150 ml. PAPs 54 mmHg. KÖF 1.1 cm2.")
    assert got["lvidd"] == "44 mm" and got["ivsd"] == "12 mm" and got["lvpwd"] == "11 mm"
    assert got["lvedv"] == "150 ml" and got["rvsp"] == "54 mmHg" and got["ava"] == "1.1 cm2"


def test_a_vti_written_name_first_is_no_lvot_diameter() -> None:
    got = _fields("LVOT 1.9 cm, VTI LVOT 18 cm, VTI AV 95 cm, AVA 0.54 cm2.")
    assert got["lvot_diameter"] == "1.9 cm"
    assert [r.raw for r in read_measurements([(1, "VTI LVOT 21 cm.")], table=False)
            if r.field == "lvot_diameter"] == []


def test_the_aortic_valves_three_cusps_are_no_tricuspid_context() -> None:
    got = _fields("Aortic valve: tricuspid, sclerotic, without stenosis (Vmax 1.7 m/s).")
    assert got == {"av_vmax": "1.7 m/s"}
    assert _fields("Tricuspid valve: mild TR, Vmax 2.4 m/s.") == {"tr_vmax": "2.4 m/s"}


def test_sc_with_its_unit_is_the_bsa() -> None:
    report = ("ECOCARDIOGRAMA\nMan of 61 years, SC (body surface) 1,92 m2.\n\n"
              "Findings: FEVG 60 %.\n\nCONCLUSION:\n1. Normal LV function.\n")
    study, _ = build_study(parse_report(report), "s1", {})
    assert study is not None and study.patient is not None and study.measurements is not None
    assert study.patient.bsa_m2 == 1.92 and study.measurements.lvef.low == 60


def test_translated_gradient_area_and_rv_labels() -> None:
    got = _fields("Aortic valve: calcified. Vmax 3.6 m/s, Pmax 52 mmHg, Pmean 31 mmHg.")
    assert got == {"av_vmax": "3.6 m/s", "av_peak_gradient": "52 mmHg", "av_mean_gradient": "31 mmHg"}
    got = _fields("Mitral valve: tight narrowing: surface mitral 0.9 cm2. Gradient mean 12 mmHg.")
    assert got == {"mva": "0.9 cm2", "mv_mean_gradient": "12 mmHg"}
    assert _fields("VD basal 47 mm, TAPSE 16 mm.")["rv_basal_diameter"] == "47 mm"


def test_a_translators_gloss_in_brackets_between_name_and_value() -> None:
    got = _fields("FEVG (left ventricular ejection fraction) 45 %. KÖF (opening area, continuity) 1.1 cm2.")
    assert got == {"lvef": "45 %", "ava": "1.1 cm2"}
    assert _fields("LVEF (was 55 % in 2024, now lower) 45 %.") == {}  # a gloss with numbers is no link
