"""Two-stage reports: the cardiologist's final values are the study's, the sonographer's preliminary
ones they supersede are never stored as current; an agreement line is no impression statement."""

from __future__ import annotations

from echogpt.data.report_text import parse_report
from echogpt.data.reports import build_study

TWO_STAGE = ("ECHO REPORT\nMRN: 5512\n\n"
             "Preliminary findings (sonographer):\n"
             "LVEF 50 % visual. LVIDd 5.6 cm. Moderate TR. IVC 2.3 cm. RAP 3 mmHg, RVSP 39 mmHg.\n"
             "Ascending aorta 4.0 cm.\n\n"
             "Final report (cardiologist):\n"
             "Biplane LVEF 42 %. IVC 2.3 cm without collapse: RAP 15 mmHg, RVSP 51 mmHg.\n"
             "Ascending aorta re-measured at its widest point, above the junction.\n\n"
             "Conclusions\n1) LVEF 42 %.\n2) RVSP 51 mmHg.\n")


def _stored(report: str) -> dict[str, object]:
    study, _ = build_study(parse_report(report), "p1", {})
    assert study is not None and study.measurements is not None
    return study.measurements.model_dump(exclude_none=True)


def test_the_final_value_wins_over_the_preliminary_one() -> None:
    got = _stored(TWO_STAGE)
    assert got["lvef"]["low"] == 42 and got["rvsp"] == 51 and got["rap"] == 15


def test_a_preliminary_value_the_final_report_revisits_is_not_stored() -> None:
    parsed = parse_report(TWO_STAGE)
    got = _stored(TWO_STAGE)
    assert "ascending_aorta" not in got  # re-measured, the new value unread: never the old one
    assert got["lvidd"] == 5.6  # not revisited: the preliminary value stands
    assert any("RVSP 39 mmHg" in note and "superseded" in note for note in parsed.superseded)
    assert not any("RVSP 39 mmHg" in note for note in parsed.unread)


def test_a_final_report_heading_over_its_findings_is_no_impression() -> None:
    report = ("WORKSHEET (sonographer)\nTR: severe? TR Vmax 2.6 m/s.\n\n"
              "PHYSICIAN INTERPRETATION\nTR vena contracta 0.5 cm. TR is moderate, not severe.\n\n"
              "Impression -\n- Moderate tricuspid regurgitation.\n")
    parsed = parse_report(report)
    assert parsed.impression == "- Moderate tricuspid regurgitation."
    assert "TR is moderate" in parsed.findings_text


def test_an_agreement_line_is_no_statement_of_the_impression() -> None:
    report = ("Sonographer's preliminary report:\nNormal LV size, LVEF 64 %.\n\n"
              "Cardiologist's report: I agree with the preliminary findings.\n\n"
              "Conclusion\nNormal echocardiogram.\n")
    assert parse_report(report).impression == "Normal echocardiogram."
    alone = "Findings: LVEF 64 %.\n\nImpression:\nI agree with the preliminary findings.\nNormal study.\n"
    assert parse_report(alone).impression == "Normal study."


def test_the_preliminary_prose_leaves_the_findings_its_unrevisited_values_stay() -> None:
    parsed = parse_report(TWO_STAGE)
    assert "Moderate TR" not in parsed.findings_text and "Biplane LVEF 42 %" in parsed.findings_text
    assert any(r.field == "lvidd" for r in parsed.readings)


def test_a_grade_the_final_report_corrects_is_written_as_corrected() -> None:
    report = ("Preliminary (sonographer):\nTR severe. TAPSE 18 mm.\n\n"
              "Final report (cardiologist):\nTR vena contracta 0.5 cm. TR is moderate, not severe.\n\n"
              "Impression:\n- Moderate TR.\n")
    text = parse_report(report).findings_text
    assert "TR is moderate." in text and "severe" not in text


def test_a_final_report_that_only_agrees_keeps_the_preliminary_findings() -> None:
    report = ("ECHOCARDIOGRAPHY\nHospital No: H44719\nIndication: breathlessness.\n\n"
              "Sonographer's preliminary report:\nNormal LV size, LVEF 64 %.\n\n"
              "Cardiologist's report: I agree with the preliminary findings.\n\n"
              "Conclusion\nNormal echocardiogram.\n")
    assert "LVEF 64 %" in parse_report(report).findings_text


def test_a_cardiologist_report_that_is_the_impression_supersedes_nothing() -> None:
    report = ("ECHO SERVICE\nDate: 2026-08-08\n\nSONOGRAPHER WORKSHEET\n"
              "LV: LVIDd 5.4 cm, EF (biplane) 61%\n"
              "RV: normal, TAPSE 2.3 cm\n\n"
              "CARDIOLOGIST REPORT\n1. Mildly dilated LV (LVIDd 5.4 cm), EF 61%.\n")
    got = _stored(report)
    assert got["lvidd"] == 5.4 and got["lvef"]["low"] == 61


def test_the_preliminary_block_is_kept_as_superseded_and_excuses_no_invented_claim() -> None:
    """The preliminary read is kept for the record in ``Study.superseded``, not in ``unread``: text
    the import set aside on purpose is no text it could not read, so a claim it names (the aorta
    here) that the final report does not make stays unsupported, not 'not checked'."""
    from echogpt.checker.check import check

    study, _ = build_study(parse_report(TWO_STAGE), "p1", {})
    assert study.superseded and "Ascending aorta 4.0 cm" in study.superseded[0]
    assert not any("Ascending aorta 4.0 cm" in note for note in study.unread or [])
    assert check("Dissection flap in the ascending aorta.", study).statements[0].verdict == "unsupported"
