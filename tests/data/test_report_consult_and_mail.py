"""Consult notes, e-mails and tele-echo reads: the echo's own summary under the headings these write,
the consultant's plan kept out of it, mail furniture and TEE mentions that were no TEE (synthetic text)."""

from __future__ import annotations

from echogpt.data.report_headings import heading_kind
from echogpt.data.report_text import parse_report

CONSULT = """CARDIOLOGY CONSULT NOTE
Reason for consult: breathlessness

HPI: 70F with two weeks of exertional dyspnoea.
ECG: sinus rhythm 80.

Echo (TTE today): LV normal size, EF 58 %. Mild MR. RV normal, TAPSE 22 mm.
Echo impression:
1. Normal LV size and systolic function.
2. Mild MR.

{plan}
Likely deconditioning; no cardiac cause found.
- Discharge with outpatient follow-up.
"""


def test_echo_impression_in_a_consult_note_is_the_impression_and_the_plan_is_not():
    for plan in ("Assessment/Plan:", "A/P:", "Assessment & Recommendations:", "Opinion / plan:",
                 "Assessment and plan", "Impression and recommendations"):
        p = parse_report(CONSULT.format(plan=plan))
        assert p.impression == "1. Normal LV size and systolic function.\n2. Mild MR.", plan
        assert any("Discharge" in r for r in p.recommendations), plan
        assert "Discharge" not in p.findings_text


def test_a_plan_heading_alone_is_still_the_summary():
    p = parse_report("Findings:\nLV normal, EF 60 %.\n\nAssessment/Plan:\nNormal study.\n")
    assert p.impression == "Normal study."


def test_summary_headings_of_tele_reads_mails_and_consults():
    for line in ("Remote interpretation:", "Tele-read conclusion -", "FINDINGS IN BRIEF",
                 "Provisional impression:", "Key echo points", "Echo impression:", "TTE conclusion -",
                 "Synopsis:", "Summary of opinion", "Final comment:", "Echo read:"):
        found = heading_kind(line)
        assert found is not None and found[0] == "impression", line


def test_a_heading_after_a_quote_prefix_or_a_topic_and_dash():
    assert heading_kind("> IMPRESSION: Mild AS.") == ("impression", "IMPRESSION", "Mild AS.")
    assert heading_kind(">> Conclusion:")[0] == "impression"
    assert heading_kind("Source of embolism - TTE conclusion:")[0] == "impression"
    assert heading_kind("Mitral valve - mild MR")[0] == "anatomy"


def test_a_dashed_title_on_the_first_line_opens_no_summary():
    p = parse_report("REMOTE INTERPRETATION - Handheld TTE\nSite: clinic\n\nLV: normal, EF 60 %.\n\n"
                     "Impression:\nNormal LV.\n")
    assert p.impression == "Normal LV."


def test_mail_signature_and_disclaimer_end_the_impression():
    body = "Findings:\nLV normal, EF 60 %.\n\nConclusion:\nNormal study.\n{tail}\n"
    for tail in ("--\nDr A. Smith", "\nCONFIDENTIALITY NOTICE: this message may contain patient data.",
                 "\nThis e-mail and any files transmitted with it are confidential.",
                 "=== END OF REPORT ==="):
        assert parse_report(body.format(tail=tail)).impression == "Normal study.", tail


def test_a_tee_not_done_or_to_come_leaves_a_tte():
    for line in ("TOE not performed.", "TOE this week to exclude abscess.", "Consider TOE."):
        p = parse_report(f"Procedure: {line}\nFindings:\nLV normal.\nImpression:\nNormal.\n")
        assert p.study_type == "TTE", line
    assert parse_report("Procedure: TOE under sedation.\nFindings:\nLV normal.\nImpression:\nNormal.\n"
                        ).study_type == "TEE"


def test_contrast_used_sets_the_contrast_flag():
    p = parse_report("Findings:\nNo apical thrombus (contrast used).\nImpression:\nNo thrombus.\n")
    assert p.contrast
    p = parse_report("Findings:\nBubble contrast given; no shunt.\nImpression:\nNo shunt.\n")
    assert not p.contrast


def test_a_quoted_question_after_a_quoted_impression_is_not_the_impression():
    text = (">> Findings:\n>> LV normal, EF 60 %.\n>>\n>> IMPRESSION:\n>> 1. Normal LV.\n>>\n"
            ">> > Can the patient go home tonight? - J. Doe\n")
    assert parse_report(text).impression == ">> 1. Normal LV."


def test_a_comparison_sign_is_no_quote_prefix():
    text = "Findings:\nIVC 1.5 cm.\n\nImpression:\nNormal RA pressure, IVC collapse\n> 50 %.\n"
    assert "> 50 %." in parse_report(text).impression


def test_remote_sign_off_and_printing_footer_close_the_impression():
    body = "Findings:\nLV normal, EF 60 %.\n\nConclusion:\nNormal study.\n{tail}\n"
    for tail in ("Read remotely by Dr M. Okafor, Melbourne.\nTurnaround 3 h.",
                 "\nPlease consider the environment before printing this email."):
        assert parse_report(body.format(tail=tail)).impression == "Normal study.", tail


def test_quote_marks_under_an_unquoted_heading_are_bullets():
    text = "Findings:\nRV dilated.\n\nCONCLUSION\n> Severe TR.\n> Dilated RV.\n"
    assert parse_report(text).impression == "> Severe TR.\n> Dilated RV."


def test_assessment_after_comments_on_the_findings_is_the_summary():
    text = ("Findings:\nLV: EF 60 %.\n\nComments\nConcentric LVH. Normal systolic function.\n\n"
            "Assessment\n1. Moderate concentric LVH.\n")
    assert parse_report(text).impression == "1. Moderate concentric LVH."


def test_consult_record_is_labelled_history_never_findings():
    text = ("Reason for consult: syncope\n\nHPI: two faints on stairs.\nVitals: BP 120/70, HR 70.\n"
            "Labs: troponin 12 ng/L, creatinine 90.\n\nTTE: AV calcified, Vmax 4.5 m/s.\n"
            "Echo impression:\nSevere AS.\n")
    p = parse_report(text)
    assert p.indication.startswith("syncope")
    assert "Labs: troponin" in p.indication and "Vitals: BP" in p.indication
    assert "troponin" not in p.findings_text and "BP 120/70" not in p.findings_text
    assert p.impression == "Severe AS."
