"""Report structure the importer reads: a summary at the top over pick-list findings, summary
headings in other words, sign-off lines that end the impression, values written as estimates."""

from __future__ import annotations

import pytest

from echogpt.data.report_text import parse_report

SUMMARY_FIRST = ("Indication: NSTEMI.\n\nSummary:\n- Mildly reduced LV function, EF 45%.\n- Mild MR.\n\n"
                 "Left Ventricle: The left ventricle is normal in size. Biplane ejection fraction is 45%.\n"
                 "Mitral Valve: Mild mitral regurgitation.\n\nMeasurements\nLVIDd 5.0 cm   IVSd 1.0 cm\n")


def test_pick_list_findings_after_a_summary_at_the_top_are_the_findings() -> None:
    parsed = parse_report(SUMMARY_FIRST)
    assert parsed.impression == "- Mildly reduced LV function, EF 45%.\n- Mild MR."
    assert parsed.findings_text.startswith("Left Ventricle: The left ventricle is normal in size.")
    assert "Mitral Valve: Mild mitral regurgitation." in parsed.findings_text
    assert any(r.field == "lvef" for r in parsed.readings)


def test_a_comparison_line_before_the_summary_does_not_make_it_the_end_of_the_report() -> None:
    parsed = parse_report("Prior Study: 05/2025 (moderate MR)\n\n" + SUMMARY_FIRST)
    assert "Left Ventricle: The left ventricle is normal in size." in parsed.findings_text
    assert "Left Ventricle" not in (parsed.impression or "")


def test_anatomy_labels_inside_a_summary_at_the_end_stay_in_it() -> None:
    parsed = parse_report("FINDINGS: Mild MR. Normal LV.\n\nIMPRESSION:\nLeft ventricle: normal.\n\n"
                          "Mitral valve: mild MR.")
    assert parsed.impression == "Left ventricle: normal.\nMitral valve: mild MR."


@pytest.mark.parametrize("heading", ["FINAL IMPRESSIONS:", "Assessment/Plan:", "Prelim read:",
                                     "CONCLUSIONS", "Assessment and plan:"])
def test_summary_headings_in_other_words_open_the_impression(heading: str) -> None:
    parsed = parse_report(f"FINDINGS:\nMild MR. Normal LV.\n\n{heading}\n1. Mild MR.\n")
    assert parsed.impression == "1. Mild MR."


@pytest.mark.parametrize("signature", [
    "Dr. A. Reddy, DM (Cardiology)", "-- fellow T. Brennan", "\u2014 S. Ahmed, cardiology fellow",
    "Prelim - A. Petrova (fellow), to be confirmed.", "Prelim: K. Mensah (fellow)",
    "Prelim, fellow: C. Duarte", "Dr. Owen Price", "K. Obi, MD", "A. Nakamura, MD, Cardiomyopathy service",
    "Consultant: Dr. S. Banerjee, DM", "Dr. T. Selvam, Senior Resident, Cardiology",
    "Reviewed by: Dr. Colette Marchand, Heart Function Clinic", "Signed: L. Ferreira, MD (Cardiology - HF)"])
def test_a_signature_line_ends_the_impression(signature: str) -> None:
    parsed = parse_report(f"FINDINGS: Mild MR.\n\nIMPRESSION:\nMild MR.\nNo effusion.\n{signature}\n")
    assert parsed.impression == "Mild MR.\nNo effusion."


@pytest.mark.parametrize("line", ["Dr. Smith informed of the result.", "E. coli endocarditis suspected.",
                                  "Discussed with PERT attending - intermediate-high risk."])
def test_a_statement_that_names_a_person_is_no_signature(line: str) -> None:
    parsed = parse_report(f"FINDINGS: Mild MR.\n\nIMPRESSION:\nMild MR.\n{line}\n")
    assert parsed.impression == f"Mild MR.\n{line}"


@pytest.mark.parametrize(("line", "field", "raw"), [
    ("LV: severely reduced function, EF ~20% visually.", "lvef", "20 %"),
    ("EF est 40-45%.", "lvef", "40-45 %"),
    ("Moderate TR, RVSP ~56 mmHg.", "rvsp", "56 mmHg")])
def test_an_approximate_value_is_stored_as_written(line: str, field: str, raw: str) -> None:
    readings = parse_report(f"FINDINGS:\n{line}\n\nIMPRESSION: Fine.").readings
    assert [(r.field, r.raw) for r in readings] == [(field, raw)]


def test_a_bound_is_no_value() -> None:
    assert parse_report("FINDINGS:\nLV small, hyperdynamic, EF >70%.\n\nIMPRESSION: Fine.").readings == []


@pytest.mark.parametrize("label", ["Pre-BMV (10-05-2025):", "Index echo 28/09/2026:",
                                   "Prior LVAD echo 2026-05-24:", "Pre-implant echo 04/28/2026:",
                                   "Last echo:"])
def test_a_line_about_an_earlier_study_gives_the_prior_not_this_study(label: str) -> None:
    parsed = parse_report(f"Indication: follow-up.\n{label} MVA 0.8 cm2, LVEF 35%.\nPresent study:\n"
                          "MVA by planimetry 1.8 cm2. LVEF 62%.\n\nIMPRESSION\n1. MVA 1.8 cm2.")
    assert [(r.field, r.raw) for r in parsed.readings] == [("mva", "1.8 cm2"), ("lvef", "62 %")]
    assert f"Comparison with prior study: {label} MVA 0.8 cm2" in parsed.findings_text
    assert "MVA by planimetry 1.8 cm2" in parsed.findings_text


def test_the_diagnosis_line_at_the_top_is_history() -> None:
    parsed = parse_report("Dx: Non-ischaemic DCM (LVEF 35% since 2023).\n\nLVEF 25%. Dilated LV.\n\n"
                          "Impression:\n- LVEF 25%.")
    assert [(r.field, r.raw) for r in parsed.readings] == [("lvef", "25 %")]


def test_a_history_sentence_with_an_earlier_study_s_values_is_a_comparison_line() -> None:
    parsed = parse_report("History: Mechanical AVR 2019. Baseline post-op study 2019: Vmax 2.6 m/s, "
                          "MG 14 mmHg.\n\nFINDINGS:\nAortic prosthesis: Vmax 4.0 m/s, mean gradient 36 mmHg."
                          "\n\n"
                          "Conclusion: Increased gradients (mean 36 mmHg, previously 14 mmHg).")
    assert "Comparison with prior study: Baseline post-op study 2019: Vmax 2.6 m/s" in parsed.findings_text
    assert [s.text for s in parsed.sections if s.kind == "history"] == ["Mechanical AVR 2019."]


def test_a_worksheet_with_an_effusion_label_is_the_findings_and_contrast_results_stay_in_them() -> None:
    parsed = parse_report("Indication: hypotension.\nHR 118 sinus tachycardia\n\n"
                          "Worksheet (limited urgent study)\n"
                          "Pericardial effusion: circumferential, 2.6 cm posterior\nRA: systolic collapse\n"
                          "Contrast (SonoVue 1 ml): no apical thrombus.\n\nCARDIOLOGIST SUMMARY\nTamponade.")
    assert parsed.findings_text.startswith("Pericardial effusion: circumferential, 2.6 cm posterior")
    assert "Contrast (SonoVue 1 ml): no apical thrombus." in parsed.findings_text


@pytest.mark.parametrize("line", ["Sonographer: Mr T Osei", "Sonographer: Ms K Barnes, BSE accredited",
                                  "Reporter: Dr A. B. Pemberton"])
def test_a_role_label_with_a_titled_name_ends_an_unnumbered_summary(line: str) -> None:
    parsed = parse_report(f"FINDINGS: Mild MR.\n\nSummary:\nMild MR.\nNormal RV.\n\n{line}\n")
    assert parsed.impression == "Mild MR.\nNormal RV."


def test_a_history_label_covers_its_paragraph_only() -> None:
    # telegraphic: "hx:" over a wrapped line, then the findings after a blank line, no findings heading
    parsed = parse_report("hx: fibrotic ILD, FVC 58 %, breathless.\nsinus tachy 104. poor windows.\n\n"
                          "LV small-normal, EF vis 60 %.\nRV dilated, TAPSE 15 mm.\n\nImpression\n"
                          "Reduced RV function.\n")
    assert parsed.findings_text.startswith("LV small-normal, EF vis 60 %.")
    assert "TAPSE 15 mm" not in (parsed.indication or "")
    assert "sinus tachy 104" in (parsed.indication or "")
    assert "tapse" in {r.field for r in parsed.readings}


def test_findings_after_a_procedure_paragraph_are_findings() -> None:
    parsed = parse_report("Procedure: Bentall 2022, mechanical conduit.\nOn warfarin.\n\n"
                          "Prosthetic aortic valve: Vmax 2.6 m/s, mean gradient 14 mmHg.\n"
                          "LV: EF 55 %.\n\nConclusion\nNormal prosthesis.\n")
    assert "Vmax 2.6 m/s" in parsed.findings_text
    assert {"av_vmax", "av_mean_gradient", "lvef"} <= {r.field for r in parsed.readings}
    assert not parsed.unread
