"""Import safeguards that hold for any report style: summary headings, a diagnosis line at the top,
suspect cuts reported per file, and study dates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from echogpt.data.report_text import parse_report
from echogpt.data.reports import read_reports

FINDINGS = (
    "Left ventricle: normal size, LVEF 60%.\nMitral valve: mild regurgitation.\n"
    "Right ventricle: normal size and function.\nNo pericardial effusion."
)


@pytest.mark.parametrize(
    "heading",
    [
        "Summary and conclusion:",
        "Summary:",
        "SUMMARY",
        "Conclusion(s):",
        "Conclusions",
        "CARDIOLOGIST'S SUMMARY",
        "Cardiologist's comments:",
        "CARDIOLOGIST REPORT",
        "Cardiologist report:",
        "Cardiologist summary",
    ],
)
def test_summary_headings_open_the_impression(heading: str) -> None:
    parsed = parse_report(f"TRANSTHORACIC ECHO\n\n{FINDINGS}\n\n{heading}\nNormal LV function. Mild MR.\n")
    assert parsed.impression == "Normal LV function. Mild MR."
    assert "Normal LV function" not in parsed.findings_text


@pytest.mark.parametrize(
    "label", ["Diagnosis:", "Diagnoses:", "History:", "Indication:", "Clinical details:"]
)
def test_a_diagnosis_or_history_line_at_the_top_is_never_the_impression(label: str) -> None:
    text = (
        f"ADULT CONGENITAL ECHO\nDate 11/11/2026\n{label} repaired tetralogy of Fallot.\n\n{FINDINGS}\n\n"
        "IMPRESSION\nNormal LV function. Mild MR.\n"
    )
    parsed = parse_report(text)
    assert parsed.impression == "Normal LV function. Mild MR."
    assert "Mitral valve: mild regurgitation." in parsed.findings_text


def test_a_diagnosis_heading_after_the_findings_is_still_the_impression() -> None:
    parsed = parse_report(f"{FINDINGS}\n\nDiagnosis:\nNormal LV function. Mild MR.\n")
    assert parsed.impression == "Normal LV function. Mild MR."


def _issues(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    (tmp_path / "r1.txt").write_text(text, "utf-8")
    return [(i.type, i.message) for i in read_reports(tmp_path).issues]


FILLER = (
    "Comment: the images were reviewed by the reporting cardiologist and compared with the worksheet. " * 4
)


@pytest.mark.parametrize(
    ("text", "suspect"),
    [
        # an impression longer than the findings
        (
            "Findings:\nMild MR.\n\nImpression:\n1. Mild mitral regurgitation with normal leaflets.\n"
            "2. Normal LV size and function, LVEF 60%.\n3. No pericardial effusion.\n",
            True,
        ),
        # findings of a title line in a long report
        (f"Findings:\nEcho.\n\nProcedure:\n{FILLER}\n\nImpression:\nMild MR.\n", True),
        # a sound cut
        (f"{FINDINGS}\n\nImpression:\nMild MR.\n", False),
    ],
)
def test_a_suspect_cut_is_reported_per_file(tmp_path: Path, text: str, suspect: bool) -> None:
    issues = _issues(tmp_path, text)
    assert any(kind == "suspect_cut" for kind, _ in issues) is suspect, issues


def test_an_unknown_summary_heading_is_named_in_the_no_impression_warning(tmp_path: Path) -> None:
    text = f"{FINDINGS}\n\nCARDIOLOGY VERDICT\nNormal LV function.\nMild MR.\n"
    issues = dict(_issues(tmp_path, text))
    assert "CARDIOLOGY VERDICT" in issues["no_impression"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Date 28.10.2026", date(2026, 10, 28)),
        ("Date: 07.10.2026 - 81 y, male - BSA 1.91 m²", date(2026, 10, 7)),
        ("Date of examination: 14.10.2026", date(2026, 10, 14)),
        ("Study date 29/10/2026   MRN 4170922", date(2026, 10, 29)),
        ("date of study 11/18/2026", date(2026, 11, 18)),
        ("Date: 08/08/2026     Patient: 19 y F", date(2026, 8, 8)),  # day = month: no ambiguity
        ("Examination date 02.03.2026 | female", date(2026, 3, 2)),  # dotted: day.month
        ("Date of birth: 01.02.1950", None),
    ],
)
def test_study_dates(tmp_path: Path, line: str, expected: date | None) -> None:
    (tmp_path / "r1.txt").write_text(f"ECHO\n{line}\n\n{FINDINGS}\n\nImpression:\nMild MR.\n", "utf-8")
    result = read_reports(tmp_path)
    assert result.studies[0].study_date == expected


def test_an_ambiguous_date_is_reported_not_dropped(tmp_path: Path) -> None:
    text = f"ECHO\nDate 03/11/2026\n\n{FINDINGS}\n\nImpression:\nMild MR.\n"
    (tmp_path / "r1.txt").write_text(text, "utf-8")
    result = read_reports(tmp_path)
    assert result.studies[0].study_date is None
    assert any(i.type == "bad_date" for i in result.issues)


def test_interpretation_after_the_findings_is_the_summary() -> None:
    parsed = parse_report(f"{FINDINGS}\n\nInterpretation\n1. Normal LV function.\n2. Mild MR.\n")
    assert parsed.impression == "1. Normal LV function.\n2. Mild MR."


def test_interpretation_before_any_findings_opens_the_findings() -> None:
    parsed = parse_report("Interpretation:\nNormal LV size. Mild MR.\n\nImpression:\nMild MR.\n")
    assert parsed.findings_text == "Normal LV size. Mild MR."
    assert parsed.impression == "Mild MR."


@pytest.mark.parametrize(
    ("after", "in_findings"),
    [
        # a dictated paragraph right under the indication line is findings, not more indication
        (
            "the left ventricle is normal in size with normal systolic function, ejection fraction "
            "60 percent. there is mild mitral regurgitation. no pericardial effusion.",
            True,
        ),
        # a short lower-case tail is the indication's wrapped line
        ("and dyspnoea on exertion", False),
    ],
)
def test_a_paragraph_under_a_one_line_indication(after: str, in_findings: bool) -> None:
    parsed = parse_report(f"tte, dictated\nindication: chest pain\n{after}\nimpression: mild mr.\n")
    assert (after in parsed.findings_text) is in_findings
    assert (after in (parsed.indication or "")) is not in_findings
