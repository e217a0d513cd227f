"""The patient number and the study date read from a free-text report's header lines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from echogpt.data.report_identity import labelled_date, labelled_patient_id, read_date
from echogpt.data.reports import read_reports


@pytest.mark.parametrize("header, number", [
    ("MRN: 448812", "448812"),
    ("Name: J Doe | MRN 448812 | DOB 01/02/1950", "448812"),
    ("Hosp no. K123456   Date: 27 Nov 2026", "K123456"),
    ("NHS No: 943 476 5919", "9434765919"),       # digit groups are one number
    ("Hospital number: TR 30442", "TR30442"),     # so is a short letter prefix
    ("Pt: Smith, J  ID 77123", "77123"),
    ("Study ID: ACC-1  Patient ID: P-77", "P-77"),  # the study's own id is not the patient's
    ("URN 0034512", "0034512"),
    ("Patient: [withheld]   UR: 5521907   DOB: [withheld]", "5521907"),
    ("Age/Sex: 32 Y / F    CR No.: 2026/114582", "2026/114582"),
    ("Health Card No.: 4482 113 906 ON", "4482113906"),
    ("TTE report    Unit no. HF-30411    29-Nov-2026", "HF-30411"),
    ("Unit number: 20-44189", "20-44189"),
    ("Acct #: 4471290   Patient: [redacted]", "4471290"),
    ("Pt: [redacted]   Reg. no: 55-10-2203", "55-10-2203"),
    ("Surveillance echo | reg no 44-902118 | 16 November 2026", "44-902118"),
    ("ED No: E-778201", "E-778201"),
    ("Pat.-Nr.: 7781-0032", "7781-0032"),
    ("ECHO (TTE) 02.12.2026   pt 66-1042   ILD clinic", "66-1042"),
])
def test_the_patient_number_after_its_label(header: str, number: str) -> None:
    assert labelled_patient_id(header + "\nFINDINGS: ok") == number


@pytest.mark.parametrize("header", ["MRN: John Smith", "Study ID: ACC-1", "Findings: ID not known",
                                    "pt 65 y, breathless"])
def test_no_number_without_a_label_and_a_digit(header: str) -> None:
    assert labelled_patient_id(header) is None


@pytest.mark.parametrize("header, written", [
    ("Date of study: 12.03.2026", "12.03.2026"),
    ("Name: X | DOB 01/02/1950 | Date 13/03/2026", "13/03/2026"),   # the birth date is skipped
    ("Study date: 2 December 2026", "2 December 2026"),
    ("Date: 3rd December 2026", "3rd December 2026"),
    ("Prior study: 01/05/2025\nStudy: 2026-12-02", "2026-12-02"),  # the prior's date is skipped
    ("ECHO REPORT\nPt: Smith, J  ID 77123\n29/11/2026 03:15", "29/11/2026"),  # alone on its line
    ("Dec 1, 2026 | Pt: A", "Dec 1, 2026"),
    ("TTE report    Unit no. HF-30411    29-Nov-2026", "29-Nov-2026"),
    ("Pat.-ID: 301-77245     Datum: 01.12.2026", "01.12.2026"),
    ("EMERGENCY ECHO\nDate/Time: 2026-12-04 03:25", "2026-12-04"),
    ("Patient MRN: 4410092-7    Study Date: 2026/11/30    Sex: M", "2026/11/30"),
    ("Patient: NHS No. 485 221 9034\nScanned: 1 December 2026", "1 December 2026"),
    ("Hosp No 5519023 | 03/12/2026 (dd/mm/yyyy) | Sinus", "03/12/2026 (dd/mm/yyyy)"),
    ("Acct #: 4471290   Exam date: 12/01/2026 (MM/DD/YYYY)", "12/01/2026 (MM/DD/YYYY)"),
    ("Patient ID: 1   Date of Service: Nov 30, 2026\nIndication: AF; cardioversion 10/01/2026.",
     "Nov 30, 2026"),
    ("MRN: 9   Encounter Date: 2026-12-02   Ordering Provider: X", "2026-12-02"),
    ("tte 3 Dec 2026. mrn 3340172.\nindex echo 02/09/2026: rv dilated", "3 Dec 2026"),
])
def test_the_study_date_as_written(header: str, written: str) -> None:
    assert labelled_date(header + "\nFINDINGS: ok") == written


@pytest.mark.parametrize("header", [
    "Previous echo 12/01/2025 showed a normal LV",         # an earlier study's date
    "Clinic 28/11/2026\nWard 30/11/2026",                   # two dates, none labelled: not clear
    "DOB: 01/02/1950",
    "MRN: 1\nIndication: NSTEMI 11/28/2026, circumflex lesion.",  # the date of an event in the history
])
def test_no_study_date_when_none_is_clearly_today(header: str) -> None:
    assert labelled_date(header) is None


@pytest.mark.parametrize("written, day", [
    ("3rd December 2026", date(2026, 12, 3)), ("Dec 2nd, 2026", date(2026, 12, 2)),
    ("Dec. 1, 2026", date(2026, 12, 1)), ("Tuesday, 1 Dec 2026", date(2026, 12, 1)),
    ("29/11/2026 03:15", date(2026, 11, 29)), ("12.03.2026", date(2026, 3, 12)),
    ("2026-12-02", date(2026, 12, 2)), ("29-Nov-2026", date(2026, 11, 29)),
    ("2026/11/30", date(2026, 11, 30)), ("03/12/2026 (dd/mm/yyyy)", date(2026, 12, 3)),
    ("12/01/2026 (MM/DD/YYYY)", date(2026, 12, 1)),
])
def test_dates_as_reports_write_them(written: str, day: date) -> None:
    assert read_date(written) == day


def test_a_date_that_reads_either_way_is_refused() -> None:
    with pytest.raises(ValueError, match="without guessing"):
        read_date("04/12/2026")


def test_an_imported_report_is_its_patients_and_dated(tmp_path: Path) -> None:
    body = "FINDINGS: Normal LV size, LVEF 60%.\nIMPRESSION: Normal LV function.\n"
    (tmp_path / "r1.txt").write_text("Hosp no. K123456   Date: 27 Nov 2026\n" + body)
    (tmp_path / "r2.txt").write_text("NHS No: 943 476 5919\n3rd December 2026\n" + body)
    result = read_reports(tmp_path)
    got = {s.study_id: (s.patient_id, s.study_date) for s in result.studies}
    assert got == {"r1": ("K123456", date(2026, 11, 27)), "r2": ("9434765919", date(2026, 12, 3))}
    assert not result.issues


def test_an_ambiguous_header_date_is_not_replaced_by_a_date_in_the_indication(tmp_path: Path) -> None:
    (tmp_path / "r1.txt").write_text("MRN 11-702345   Date of Service: 12/01/2026\nIndication: NSTEMI "
                                     "11/28/2026.\n\nFINDINGS: LVEF 48%.\nIMPRESSION: Mild LV dysfunction.\n")
    result = read_reports(tmp_path)
    assert result.studies[0].study_date is None
    assert [(i.type, i.value) for i in result.issues if i.type == "bad_date"] == [("bad_date", "12/01/2026")]


@pytest.mark.parametrize(("line", "when"), [
    ("FIN: 8823-11-0917    MRN: 15539004    Exam: 2026-11-19 10:42", "2026-11-19"),
    ("MRN 44790216    Exam: Nov 26, 2026", "2026-11-26"),
    ("MRN: 71204455   DOS: 11/30/2026", "2026-11-30"),
    ("ID: SC-77310      Date of test: 2026-11-25", "2026-11-25"),
    ("Patient Id: 8830-2291          Examination date: 2026.11.16", "2026-11-16"),
])
def test_exam_dos_and_test_labels_and_dotted_iso_dates_are_read(line: str, when: str) -> None:
    assert str(read_date(labelled_date(line) or "")) == when


def test_an_ambiguous_numeric_date_is_still_not_guessed() -> None:
    with pytest.raises(ValueError):
        read_date(labelled_date("MRN: 3310-8821   Exam: 12/01/2026") or "")


@pytest.mark.parametrize(("line", "number"), [
    ("Pat. n. 2026/1187       Exam date: 28/11/2026", "2026/1187"),
    ("ID atleta: BB-0458   Date: 2 December 2026", "BB-0458"),
    ("Codice: ROW-7730     Date: 2026-11-30", "ROW-7730"),
    ("Athlete code T-3309 · 25 November 2026", "T-3309"),
    ("N. cartella 40871      Date 2026-11-21", "40871"),
    ("Patient code MA-0912   Date: 20 Nov 2026", "MA-0912"),
    ("Player ref: ATH-5560         Date: 26/11/2026", "ATH-5560"),
    ("Medical Record #: 55920318    Date: Dec 2, 2026", "55920318"),
    ("EMPI 6620194 | 12/01/2026", "6620194"),
    ("Patient no. 119 204 7   Date: 25 Nov 2026", "1192047"),
])
def test_clinic_and_sports_id_labels_are_read(line: str, number: str) -> None:
    assert labelled_patient_id(line) == number


@pytest.mark.parametrize(("header", "written"), [
    ("Echo acquired 2026-11-09, read 2026-11-13. Male.", "2026-11-09"),
    ("Date of acquisition: 23 November 2026 (baseline acquisition 20 May 2026)", "23 November 2026"),
    ("N. nosologico: 2026/018842   Data: 23/11/2026", "23/11/2026"),
    ("ID paziente: PZ-00481772    Data esame: 01.12.2026", "01.12.2026"),
    ("NHC: 61.228.904     Fecha de exploración: 22/12/2026", "22/12/2026"),
    ("ID: 8821-0473          Datum der Untersuchung: 04.12.2026", "04.12.2026"),
    ("N° de dossier: 2026-44190     Date : 30 novembre 2026", "30 novembre 2026"),
])
def test_acquisition_and_translated_date_labels(header: str, written: str) -> None:
    assert labelled_date(header) == written


def test_foreign_month_names_and_no_guess() -> None:
    assert read_date("30 novembre 2026") == date(2026, 11, 30)
    assert read_date("3 diciembre 2026") == date(2026, 12, 3)
    with pytest.raises(ValueError):
        read_date("02/12/2026")


@pytest.mark.parametrize(("header", "number"), [
    ("Study: REMODEL-HF   Subject: 031-0107   Visit: SCR", "031-0107"),
    ("Study REMODEL-HF | Subj 009-0211 | Scan date 12/11/2026", "009-0211"),
    ("Patient identifier: 881-20-5539        Date of examination: 19-Nov-2026", "881-20-5539"),
    ("NHC (clinical history number): 20-558341      Date: 12/11/2026", "20-558341"),
    ("NHC: 61.228.904     Fecha de exploración: 02/12/2026", "61.228.904"),
    ("IPP (permanent patient identifier): 780021455", "780021455"),
    ("N° de dossier (file no.): 2026-44190", "2026-44190"),
    ("ID paziente: PZ-00481772    Data esame: 01.12.2026", "PZ-00481772"),
])
def test_trial_subject_and_translated_id_labels(header: str, number: str) -> None:
    assert labelled_patient_id(header) == number


@pytest.mark.parametrize("header", ["NAME: [REDACTED]   SSN4: 1234   MRN: 512 0077 310",
                                    "MRN: 512 0077 310\nSex: M"])
def test_a_header_number_written_in_groups_is_read_whole(tmp_path: Path, header: str) -> None:
    body = "\n\nFindings:\nLVEF 60 %.\n\nImpression:\nNormal study.\n"
    (tmp_path / "r1.txt").write_text(header + body)
    result = read_reports(tmp_path)
    assert result.studies[0].patient_id == "5120077310"


def test_a_number_with_more_words_after_it_keeps_its_first_token(tmp_path: Path) -> None:
    (tmp_path / "r1.txt").write_text("MRN: 448812 (old system)\n\nFindings:\nLVEF 60 %.\n\n"
                                     "Impression:\nNormal study.\n")
    assert read_reports(tmp_path).studies[0].patient_id == "448812"
