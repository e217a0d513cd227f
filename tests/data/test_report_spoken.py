"""An unedited dictation's spoken numbers, units and spelled-out letters are read as values; a report
without spoken punctuation is left as written."""

from __future__ import annotations

import pytest

from echogpt.data.report_measurements import read_measurements
from echogpt.data.report_spoken import written_numbers
from echogpt.data.report_text import parse_report
from echogpt.data.reports import build_study

DICTATION = ("Echo dictation\nMRN 88120\n\n"
             "left ventricle colon L V I D D five point two centimeters comma ejection fraction sixty "
             "five percent period\nmitral valve colon mean gradient six millimeters of mercury at seventy "
             "two beats per minute comma pressure half time one eighty milliseconds period\n"
             "tricuspid regurgitation velocity two point eight meters per second comma R V S P "
             "thirty six millimeters of mercury period\nno pericardial effusion period\n\n"
             "Impression colon\nnormal left ventricular size comma ejection fraction sixty five "
             "percent period\n")


@pytest.mark.parametrize(("said", "written"), [
    ("peak velocity three point six meters per second period", "peak velocity 3.6 m/s period"),
    ("E over A point six six period", "E over A 0.66 period"),
    ("L V mass index one twenty five grams per meter squared period", "LV mass index 125 g/m2 period"),
    ("deceleration time one hundred and ten milliseconds period", "deceleration time 110 ms period"),
    ("RVSP 22 millimeters of mercury period", "RVSP 22 mmHg period"),
    ("seen two two times period", "seen two two times period"),  # no single reading: left as said
])
def test_a_spoken_number_is_written_in_digits(said: str, written: str) -> None:
    stops = " x period y period z period"  # spoken punctuation: a dictation
    assert written_numbers(said + stops) == written + stops


def test_a_report_without_spoken_punctuation_is_left_as_written() -> None:
    text = "One of four criteria abnormal. Grade two filling. Vmax three m/s."
    assert written_numbers(text) == text


def test_a_dictations_values_are_stored() -> None:
    study, _ = build_study(parse_report(DICTATION), "d1", {})
    assert study is not None and study.measurements is not None
    m = study.measurements
    assert (m.lvidd, m.tr_vmax, m.rvsp, m.mv_mean_gradient, m.mv_pht) == (5.2, 2.8, 36.0, 6.0, 180.0)
    assert m.lvef is not None and m.lvef.low == 65


def test_an_effective_regurgitant_orifice_area_is_no_valve_area() -> None:
    read = read_measurements([(1, "Mitral valve: severe MR, effective regurgitant orifice area 0.45 cm2.")],
                             table=False)
    assert [r.field for r in read] == []
