"""Trial core-laboratory reports: the core lab's column is the study's value of record; the site's
column, a baseline column and a site-reported value in prose are never stored as current."""

from __future__ import annotations

from echogpt.data.report_columns import split_columns
from echogpt.data.report_core_lab import core_values
from echogpt.data.report_text import parse_report
from echogpt.data.reports import build_study


def _rows(lines: list[str]) -> list[tuple[int, str]]:
    return list(enumerate(lines, start=1))


def test_the_core_lab_column_is_this_studys() -> None:
    split = split_columns(_rows(["Measurement           Site      Core lab",
                                 "LVEDV (mL)            198       210",
                                 "LVEF biplane (%)      38        34"]), None)
    assert split is not None
    assert [t for _, t in split.current] == ["LVEDV (mL) 210", "LVEF biplane (%) 34"]
    assert "198" in split.earlier and "38" in split.earlier


def test_the_core_visit_column_beside_baseline_and_site_columns() -> None:
    split = split_columns(_rows(["              Baseline (core)   Month 6 (core)   Month 6 (site)",
                                 "LVESV (mL)    131               106              98"]), None)
    assert split is not None and [t for _, t in split.current] == ["LVESV (mL) 106"]


def test_a_visit_column_beside_baseline_is_this_studys() -> None:
    split = split_columns(_rows(["              Baseline        12 months",
                                 "IVSd (cm)     1.4             1.2"]), None)
    assert split is not None and [t for _, t in split.current] == ["IVSd (cm) 1.2"]


def test_a_row_labels_unit_and_a_site_reported_value() -> None:
    report = ("CORE LAB READ\n\nFindings:\nMeasurement        Site    Core lab\n"
              "TAPSE (mm)         19      18\n\n"
              "Site-reported LVEF 35 % (visual). Core lab: biplane LVEF not measurable. LVIDd 6.5 cm.\n\n"
              "Conclusion:\n1. LVEF not measurable.\n")
    study, _ = build_study(parse_report(report), "c1", {})
    assert study is not None and study.measurements is not None
    assert study.measurements.tapse == 1.8 and study.measurements.lvef is None
    assert study.measurements.lvidd == 6.5


def test_site_and_core_pairs_in_one_line_keep_the_core_value() -> None:
    assert core_values("- LVEF (biplane): site 38 % / core 43 %") == "- LVEF (biplane): 43 % (site 38 %)"
    assert core_values("- LAVI: site 33 / core 34 mL/m2") == "- LAVI: 34 mL/m2 (site 33)"
    assert core_values("- RVSP: core 30 mmHg") == "- RVSP: 30 mmHg"


def test_rows_under_a_site_vs_core_heading_keep_the_core_column() -> None:
    text = "Site vs core\n  sPAP, mmHg ........ 69 / 72\n  TAPSE, mm ......... 17 / 16\n\nTAPSE 9 / 10"
    assert core_values(text) == ("Site vs core\n  sPAP ........ 72 mmHg (site 69)\n"
                                 "  TAPSE ......... 16 mm (site 17)\n\nTAPSE 9 / 10")
    report = ("CORE LAB READ\n\nFindings:\n" + text.rsplit("\n\n", 1)[0]
              + "\n\nConclusion:\n1. sPAP 72 mmHg.\n")
    study, _ = build_study(parse_report(report), "c2", {})
    assert study is not None and study.measurements is not None
    assert study.measurements.rvsp == 72 and study.measurements.tapse == 1.6
