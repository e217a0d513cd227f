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
    ("peak velocity three point six meters per second period", "Peak velocity 3.6 m/s."),
    ("E over A point six six period", "E over A 0.66."),
    ("L V mass index one twenty five grams per meter squared period", "LV mass index 125 g/m2."),
    ("deceleration time one hundred and ten milliseconds period", "Deceleration time 110 ms."),
    ("RVSP 22 millimeters of mercury comma normal period", "RVSP 22 mmHg, normal."),
    ("seen two two times period", "Seen two two times."),  # no single reading: left as said
    ("date twenty sixth of November period", "Date twenty sixth of November."),  # an ordinal
])
def test_a_spoken_number_is_written_in_digits(said: str, written: str) -> None:
    stops = " x period y period z period"  # spoken punctuation: a dictation
    assert written_numbers(said + stops) == written + " X. Y. Z."


def test_spoken_punctuation_is_written_and_a_withdrawn_phrase_is_taken_out() -> None:
    said = ("Aortic valve colon mild aortic regurgitation scratch that trace aortic regurgitation period\n"
            "new paragraph no effusion period normal RV period")
    assert written_numbers(said) == "Aortic valve: trace aortic regurgitation.\nNo effusion. Normal RV."


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


def test_list_numbers_said_at_line_starts_are_written_as_a_list() -> None:
    said = ("Impression colon\none period normal LV size period\ntwo period mild MR period\n"
            "IMPRESSION\n1 severe MR period\n2 refer to surgery period\n")
    assert written_numbers(said).split("\n")[1:] == ["1. Normal LV size.", "2. Mild MR.", "IMPRESSION",
                                                     "1. Severe MR.", "2. Refer to surgery.", ""]
    lone = "septum period x period y period\n18 mm septum period\n"  # no count: a value
    assert written_numbers(lone) == "Septum. X. Y.\n18 mm septum.\n"
