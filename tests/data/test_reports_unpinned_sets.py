"""The third to seventeenth held-out report sets import without errors and their annotations are
well-formed.

Unlike the second set's test, this one does not pin how the importer cuts each impression today:
these sets exist to measure importer and checker changes, so a better import must not fail them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from echogpt.data.reports import read_reports

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SETS = {"reports_heldout3": ["community", "hfclinic", "limited", "rhd"],
        "reports_heldout4": ["bse", "icu", "oncology", "valveclinic"],
        "reports_heldout5": ["achd", "cmp", "mcs", "obstetric"],
        "reports_heldout6": ["endocarditis", "masses", "pericardial", "renal"],
        "reports_heldout7": ["af", "aorta", "ph", "structured"],
        "reports_heldout8": ["athlete", "checkbox", "stroke", "transplant"],
        "reports_heldout9": ["addenda", "murmur", "syncope", "vendor"],
        "reports_heldout10": ["corelab", "prelim", "preop", "translated"],
        "reports_heldout11": ["dictation", "geriatric", "sepsis", "trainee"],
        "reports_heldout12": ["html", "infiltrative", "ocr", "pe"],
        "reports_heldout13": ["carcinoid", "consult", "email", "telehealth"],
        "reports_heldout14": ["handover", "nursing", "spreadsheet", "veterans"],
        "reports_heldout15": ["markdown", "radiology", "smarttext", "tavi"],
        "reports_heldout16": ["hl7", "intraop", "postmi", "southasian"],
        "reports_heldout17": ["device", "discharge", "legacy", "strain"]}
LABELS = {"supported", "not_factual", "not_checked"}
KEYS = {"report", "style", "correct", "impression_imported", "statements"}


def _styles(name: str) -> list[str]:
    return sorted(p.name for p in (FIXTURES / name).iterdir() if (p / "expected.jsonl").exists())


def _reports(name: str, style: str) -> list[str]:
    return sorted(p.name for p in (FIXTURES / name / style).glob("*.txt"))


@pytest.mark.parametrize("name", SETS)
def test_each_set_has_four_styles_of_twelve_reports(name: str) -> None:
    assert _styles(name) == SETS[name]
    assert all(len(_reports(name, s)) == 12 for s in SETS[name])


@pytest.mark.parametrize("name", SETS)
def test_every_report_imports_without_error(name: str) -> None:
    for style in _styles(name):
        result = read_reports(FIXTURES / name / style)
        assert not result.errors and result.exit_code == 0, result.lines()
        assert sorted(f"{s.study_id}.txt" for s in result.studies) == _reports(name, style)


@pytest.mark.parametrize("name", SETS)
def test_annotation_is_well_formed_with_one_row_per_report(name: str) -> None:
    for style in _styles(name):
        lines = (FIXTURES / name / style / "expected.jsonl").read_text("utf-8").splitlines()
        rows = [json.loads(line) for line in lines]
        assert sorted(r["report"] for r in rows) == _reports(name, style)
        for row in rows:
            assert set(row) == KEYS, row["report"]
            assert row["style"] == style and row["correct"] is True, row["report"]
            assert isinstance(row["impression_imported"], bool), row["report"]
            assert row["statements"], row["report"]
            for statement in row["statements"]:
                assert set(statement) == {"text", "expected"}, row["report"]
                assert statement["text"].strip() and statement["expected"] in LABELS, row["report"]
