"""Sex, age and body size written in prose in a report's header ("Male, 64.", "BSA 1.82 m2")."""

from __future__ import annotations

from pathlib import Path

import pytest

from echogpt.data.report_demographics import prose_demographics
from echogpt.data.report_sections import split_sections
from echogpt.data.report_text import parse_report
from echogpt.data.reports import read_reports

BODY = "\n\nFINDINGS: Normal LV size, LVIDd 4.8 cm, LVEF 60%.\n\nIMPRESSION: Normal LV function.\n"


def _patient(header: str) -> dict[str, str]:
    parsed = parse_report(header + BODY)
    return {k.split(".", 1)[1]: v for k, v in parsed.header.items() if k.startswith("patient.")}


@pytest.mark.parametrize("header, sex, age", [
    ("MRN 448812   Date: 27 Nov 2026\nMale, 64.", "male", "64"),
    ("MRN 448812   Date: 27 Nov 2026   F, 38 y   BSA 1.70 m2", "female", "38"),
    ("Hosp no. K123456 | 12/03/2026 | M 52 | BSA 2.00 m2 | SR 68", "male", "52"),
    ("Date: 1 Dec 2026          ID 300-55-871          Female, 31 y", "female", "31"),
    ("Name: withheld   Hosp. no. 2290-4471   Date: 29-Nov-2026   F 36 y   SR 70", "female", "36"),
    ("Unit number: 0771624        Date: Dec 4, 2026\n52-year-old man; chest pain.", "male", "52"),
    ("ID 5520917 :: 02.12.2026 :: 64 yo F :: BSA 1.66", "female", "64"),
    ("Patient: M, 63     Ref HTX-1188     2 Dec 2026", "male", "63"),
    ("Patient: 81F    MRN 2201-7734    Date: 28-Nov-2026", "female", "81"),
    ("Pt: 63M; hosp no 1450-772; exam 2026-12-01", "male", "63"),
    ("hosp no 0391-5520 / date of scan: 29th november 2026\n39 yr old female. pleuritic.", "female", "39"),
    ("MRN 5520193     Exam date: Dec 1, 2026     Sex: F     Age: 34", "female", "34"),
    ("Name: X   Age 24 yrs   Male   Reg. No. 6621/26   Date 21/11/2026", "male", "24"),
    ("Date: 07.10.2026 - 81 y, male - BSA 1.91 m²", "male", "81"),
    ("Date: 10/14/2026   Age/sex: 71 M   BSA 1.96 m2", "male", "71"),
    ("11/17/2026 19:05 | CCU bed 4 | RAMIREZ, ELENA 68F | MRN 3300912", "female", "68"),
    ("Patient: Smt. Sunita Yadav    45 Y/F    UHID: 100233871    Date: 20.11.2026", "female", "45"),
    ("Transthoracic echo. Indication aortic stenosis. Patient is an 81 year old female.", "female", "81"),
    ("clinical history: 54 year old man with hypertension.", "male", "54"),
])
def test_sex_and_age_written_in_the_header(header: str, sex: str, age: str) -> None:
    got = _patient(header)
    assert (got.get("sex"), got.get("age")) == (sex, age)


@pytest.mark.parametrize("header, bsa", [
    ("MRN 448812  Date: 27 Nov 2026\nBSA 1.82 m2", "1.82"),
    ("MRN 448812  Date: 27 Nov 2026\nMale, 64. BSA 1.95 m².  HR 76", "1.95"),
    ("pt no 88-21047   date 1/12/2026\n28 yo female, fevers. bsa 1.62.", "1.62"),
    ("MRN 448812 | 27 Nov 2026 | F 44 | BSA 1.69 | SR 66", "1.69"),
])
def test_bsa_after_its_label_with_m2_or_no_unit(header: str, bsa: str) -> None:
    assert _patient(header)["bsa_m2"] == bsa


def test_height_and_weight_with_their_units() -> None:
    got = _patient("MRN 448812  Date: 27 Nov 2026\nHt 164 cm  Wt 70 kg")
    assert (got["height_cm"], got["weight_kg"]) == ("164 cm", "70 kg")


@pytest.mark.parametrize("header", [
    "MRN 448812  Date: 27 Nov 2026\nHistory: G2P2, NT-proBNP 4,850 pg/mL. BP 168/88, HR 76.",
    "MRN 448812  Date: 27 Nov 2026\nHx: repair aged 2 years; BSA measured 2 m apart.",
    "MRN 448812  Date: 27 Nov 2026\nPrevious echo 2025-11-20: BSA 1.80 m2, LVEF 55%.",  # an earlier study
])
def test_other_numbers_of_the_header_are_no_demographics(header: str) -> None:
    assert _patient(header) == {}


def test_a_count_after_the_sex_is_no_age() -> None:
    assert _patient("MRN 448812  Date: 27 Nov 2026\nFemale, 3 episodes of pericarditis.") == {"sex": "female"}


def test_the_findings_are_never_read_for_demographics() -> None:
    # no blank line between the header and the findings: the heading ends the header block
    text = "MRN 448812  Date: 27 Nov 2026\nFINDINGS: M 52. BSA 1.90 m2. LVEF 60%.\n\nIMPRESSION: Normal.\n"
    parsed = parse_report(text)
    assert not any(k.startswith("patient.") for k in parsed.header)


def test_a_labelled_field_wins_over_prose() -> None:
    assert _patient("Sex: F\nAge: 70\nMRN 448812  Date: 27 Nov 2026\nMale, 64.")["sex"] == "F"


def test_imported_study_gets_sex_and_bsa_and_an_out_of_range_age_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("MRN 448812 | 27 Nov 2026 | Female, 31 y | BSA 1.75 m2" + BODY)
    (tmp_path / "young.txt").write_text("MRN 448813 | 27 Nov 2026 | M 14 | BSA 9.5 m2" + BODY)
    result = read_reports(tmp_path)
    studies = {s.study_id: s for s in result.studies}
    patient = studies["ok"].patient
    assert patient is not None and (patient.sex.value, patient.age, patient.bsa_m2) == ("female", 31, 1.75)
    young = studies["young"].patient
    assert young is not None and young.sex.value == "male" and young.age is None and young.bsa_m2 is None
    messages = [i.message for i in result.issues if i.study_id == "young"]
    assert any("age 14.0 is under 18" in m for m in messages)
    assert any("BSA 9.5 m² (given) is outside 0.9-3.2 m²" in m for m in messages)



@pytest.mark.parametrize(("header", "sex", "age"), [
    ("IPP: 780021455\nMan of 61 years, SC 1.92 m2.", "male", "61"),
    ("NHC: 20-558341\nPatient: male, 74 J. (years), BSA 1.95 m2.", "male", "74"),
    ("Patient no. 7740312 — Date 2026-11-25 — Male, 59 — BSA 1.98 m2", "male", "59"),
    ("MRN 81-22047 / 12/01/2026 / F, 63 / BSA 1.70 m2", "female", "63"),
    ("MRN: 1102873\nIndication: leg oedema, raised NT-proBNP. M, 81, BSA 1.80 m2.", "male", "81"),
])
def test_translated_and_dashed_sex_and_age(header: str, sex: str, age: str) -> None:
    got = prose_demographics(header, split_sections(header))
    assert got["patient.sex"] == sex and got["patient.age"] == age


def test_a_sex_word_before_other_fields() -> None:
    header = "Subject: 031-0107   Date: 2026-11-05\nFemale, BSA 1.72 m2, SR."
    assert prose_demographics(header, split_sections(header))["patient.sex"] == "female"


def test_an_age_and_sex_split_by_a_slash_stay_one_field() -> None:
    header = "Name: Mr. S. Babu   38 Y / M   IP 99203   Date 26.11.2026"
    assert prose_demographics(header, split_sections(header)) == {"patient.sex": "male", "patient.age": "38"}
