"""Lines the import once dropped are kept: a findings paragraph under labels the heading table does
not know, a dated comparison heading, dated 'before'/'comparison' labels, history and procedure lines
and an opening reason sentence (in the indication), a plan (in ``recommendations``) and long
unplaced text (quoted in ``unread``); a valve named in a label's parentheses binds no value."""

from __future__ import annotations

from echogpt.checker.check import check
from echogpt.data.report_text import parse_report
from echogpt.data.reports import build_study

LABELS = ("CLINIC ECHO\n"
          "Posterior (venous) chamber: mildly dilated. Baffle patent.\n"
          "Semilunar (neo-aortic) valve: mild regurgitation.\n"
          "Right ventricle: normal size.\nNo pericardial effusion.\n\n"
          "IMPRESSION:\n1. Mild neo-aortic regurgitation.")


def test_a_paragraph_under_unknown_labels_that_runs_into_the_findings_is_findings() -> None:
    parsed = parse_report(LABELS)
    assert parsed.findings_text.startswith("Posterior (venous) chamber: mildly dilated. Baffle patent.\n"
                                           "Semilunar (neo-aortic) valve: mild regurgitation.\n"
                                           "Right ventricle")
    assert parsed.unread == []


def test_a_paragraph_before_a_findings_heading_stays_out_of_the_findings_and_is_quoted() -> None:
    parsed = parse_report("CLINIC ECHO\nPosterior (venous) chamber: mildly dilated. Baffle patent.\n"
                          "FINDINGS:\nRight ventricle: normal size.\n\nIMPRESSION:\n1. Normal RV.")
    assert parsed.findings_text == "Right ventricle: normal size."
    assert parsed.unread == ["lines under no heading were not read as findings: "
                             "\"Posterior (venous) chamber: mildly dilated. Baffle patent.\""]


def test_a_dated_comparison_heading_keeps_its_date_and_its_values_are_no_measurements() -> None:
    parsed = parse_report("FINDINGS:\nLV normal, LVEF 60%. Mild MR.\n\nPrevious echo (June 2024): LVEF 45%, "
                          "moderate MR.\n\nIMPRESSION:\n1. LVEF improved.")
    assert "Comparison with prior study: Previous echo (June 2024): LVEF 45%, moderate MR." in \
        parsed.findings_text
    assert [(r.field, r.raw) for r in parsed.readings] == [("lvef", "60 %")]


def test_dated_before_and_comparison_labels_are_earlier_studies() -> None:
    parsed = parse_report("Indication: follow-up.\nBefore ablation (05/2023): LVEF 35%.\n"
                          "Comparison study 12-Jan-2025: TAPSE 1.2 cm.\n\n"
                          "FINDINGS:\nLVEF 55%. TAPSE 2.0 cm.\n\nIMPRESSION:\n1. Improved LV function.")
    assert "Comparison with prior study: Before ablation (05/2023): LVEF 35%." in parsed.findings_text
    assert "Comparison with prior study: Comparison study 12-Jan-2025: TAPSE 1.2 cm." in parsed.findings_text
    assert sorted((r.field, r.raw) for r in parsed.readings) == [("lvef", "55 %"), ("tapse", "2.0 cm")]


def test_history_and_how_the_study_was_done_go_to_the_indication_labelled() -> None:
    parsed = parse_report("Reason: palpitations.\nBackground: mitral repair 2019; LVEF 40% before surgery.\n"
                          "Windows: apical only.\n\nFINDINGS:\nLV normal, LVEF 60%.\n\n"
                          "IMPRESSION:\n1. Normal LV.")
    assert parsed.indication == ("palpitations. Background: mitral repair 2019; LVEF 40% before surgery. "
                                 "Windows: apical only.")
    assert [(r.field, r.raw) for r in parsed.readings] == [("lvef", "60 %")]


def test_a_plan_is_kept_as_recommendations_not_as_unread_findings() -> None:
    parsed = parse_report("FINDINGS:\nMild MR.\n\nIMPRESSION:\n1. Mild MR.\n\nRecommendations:\n"
                          "Repeat study in one year.")
    assert parsed.recommendations == ["Recommendations: Repeat study in one year."]
    assert parsed.unread == []


def test_a_plan_that_names_a_finding_excuses_no_invented_claim_about_it() -> None:
    """"TOE to exclude vegetation" is a plan, not findings the import could not read: an impression
    that invents a vegetation stays unsupported."""
    plan = "TOE to exclude an aortic valve vegetation if fevers persist."
    text = ("FINDINGS:\nNormal LV size and function, LVEF 60%. Trileaflet aortic valve, no regurgitation."
            f"\n\nIMPRESSION:\n1. Normal study.\n\nRecommendations:\n{plan}")
    study, _ = build_study(parse_report(text), "plan", {})
    assert study.recommendations == [f"Recommendations: {plan}"]
    assert not study.unread
    verdict = check("Mobile vegetation on the aortic valve.", study).statements[0].verdict
    assert verdict == "unsupported"


def test_long_lines_under_no_heading_are_quoted_whole() -> None:
    history = "Known cardiomyopathy treated since 2015 with several agents. " * 8
    parsed = parse_report(f"{history.strip()}\n\nFINDINGS:\nMild MR.\n\nIMPRESSION:\n1. Mild MR.")
    assert parsed.unread == [f"lines under no heading were not read as findings: \"{history.strip()}\""]


def test_an_aside_in_a_label_names_no_valve_when_the_label_names_one() -> None:
    parsed = parse_report("FINDINGS:\nMitral (left-sided AV) valve: mild MR, peak velocity 1.3 m/s.\n"
                          "Aortic valve (native): peak velocity 1.1 m/s.\n\nIMPRESSION:\n1. Mild MR.")
    assert [(r.field, r.raw) for r in parsed.readings] == [("av_vmax", "1.1 m/s")]


def test_an_opening_reason_sentence_is_kept_beside_an_indication_heading() -> None:
    parsed = parse_report("Referral: cardiology clinic.\n\nEchocardiogram requested for chest pain. "
                          "LV normal, LVEF 60%.\n\nIMPRESSION:\n1. Normal LV.")
    assert parsed.indication == "cardiology clinic. Echocardiogram requested for chest pain."
    assert parsed.findings_text == "LV normal, LVEF 60%."
