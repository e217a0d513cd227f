"""The injected-error benchmark: each mutation, the scoring, and the command."""

from __future__ import annotations

import json
import random
from pathlib import Path

from typer.testing import CliRunner

from echogpt.checker.bench import format_report, run_benchmark
from echogpt.checker.facts import extract_facts
from echogpt.checker.injection import (
    ERROR_TYPES,
    Case,
    change_number,
    change_severity,
    flip_negation,
    inject,
    swap_site,
)
from echogpt.cli import app
from echogpt.schemas import Study

HANDWRITTEN = Path(__file__).parents[1] / "fixtures" / "checker_eval"
STUDY = Study.model_validate({
    "study_id": "B1", "measurements": {"lvef": 55},
    "findings_text": "Normal LV size, LVEF 55%. Mild mitral regurgitation. Mild tricuspid regurgitation. "
                     "No pericardial effusion. A 1.2 cm mobile vegetation on the aortic valve."})


def test_severity_change_moves_a_full_grade() -> None:
    assert change_severity("Mild MR.", random.Random(0), STUDY) == "Severe MR."
    assert change_severity("Moderately to severely reduced function.", random.Random(0), STUDY) is None


def test_number_change_outside_and_within_tolerance() -> None:
    far = change_number("LVEF 55%.", random.Random(0), STUDY)
    near = change_number("LVEF 55%.", random.Random(0), STUDY, within=True)
    far_v = next(f.value for f in extract_facts(far or "") if f.concept == "measurement")
    near_v = next(f.value for f in extract_facts(near or "") if f.concept == "measurement")
    assert abs(far_v - 55) > 5  # EF tolerance is 5 points
    assert 0 < abs(near_v - 55) <= 5


def test_number_change_keeps_the_text_unit() -> None:
    s = Study.model_validate({"study_id": "B2", "findings_text": "TAPSE 18 mm.",
                              "measurements": {"tapse": 1.8}})
    new = change_number("TAPSE 18 mm.", random.Random(1), s) or ""
    assert new.endswith(" mm.") and abs(float(new.split()[1]) - 18) == 6  # 3 x 0.2 cm = 6 mm


def test_negation_flip() -> None:
    rng = random.Random(0)
    assert flip_negation("No pericardial effusion.", rng, STUDY) == "Pericardial effusion."
    assert flip_negation("Mild MR.", rng, STUDY) == "No mild MR."
    assert flip_negation("Normal RV size.", rng, STUDY) is None  # "No normal RV" asserts nothing


def test_swap_skips_a_swap_that_stays_true() -> None:
    rng = random.Random(0)
    assert swap_site("Mild TR.", rng, STUDY) is None  # mild MR is also present
    assert swap_site("Aortic valve vegetation.", rng, STUDY) == "Mitral valve vegetation."


def test_inject_every_type() -> None:
    base = Case("B1", "unmodified", STUDY, ["Aortic valve vegetation.", "Mild MR.", "LVEF 55%.",
                                             "No pericardial effusion."])
    kinds = {c.kind for k in ERROR_TYPES for c in inject(base, k, random.Random(3))}
    assert set(ERROR_TYPES) | {"within_tolerance"} <= kinds
    omission = inject(base, "omitted_critical", random.Random(0))[0]
    assert omission.omission == "vegetation" and "Aortic valve vegetation." not in omission.statements


def test_benchmark_on_the_handwritten_set(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    report = run_benchmark(handwritten=HANDWRITTEN, seed=0, limit=40, out=out)
    assert json.loads(out.read_text(encoding="utf-8"))["impressions"] == 40
    for kind in ERROR_TYPES:
        assert report["counts"][kind]["injected"] > 0, kind
        assert report["recall"][kind] >= 0.9, (kind, report["recall"][kind])
    assert report["false_alarm_rate"] <= 0.02
    assert report["within_tolerance_flagged"] == 0
    assert "severity_change" in format_report(report)
    assert report["annotated"]["false_alarm_rate"] <= 0.02


def test_benchmark_on_a_synthetic_corpus_folder(tmp_path: Path) -> None:
    from echogpt.synth.corpus import write_corpus

    write_corpus(tmp_path, 60, 5)
    report = run_benchmark(studies=tmp_path, seed=1)  # a folder means its test.jsonl
    assert report["impressions"] > 0 and report["false_alarms"] == 0
    assert sum(c["injected"] for c in report["counts"].values()) > 0


def test_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    both = runner.invoke(app, ["bench-checker"])
    assert both.exit_code == 2
    missing = runner.invoke(app, ["bench-checker", "--handwritten", str(tmp_path)])
    assert missing.exit_code == 2 and "cannot read" in missing.output
    ok = runner.invoke(app, ["bench-checker", "--handwritten", str(HANDWRITTEN), "--limit", "10",
                             "--out", str(tmp_path / "r.json")])
    assert ok.exit_code == 0 and "recall" in ok.output and (tmp_path / "r.json").exists()


def test_a_moved_bound_is_no_number_change() -> None:
    assert change_number("EF <10%.", random.Random(0), STUDY) is None  # "EF <40%" still holds of 32%


def test_a_plan_is_not_negated() -> None:
    assert flip_negation("Continue surveillance of the aortic sclerosis.", random.Random(0), STUDY) is None


def test_a_severity_the_study_states_is_no_error() -> None:
    assert change_severity("Severe MR.", random.Random(0), STUDY) is None  # the study states mild MR itself


def test_a_swap_into_a_compatible_grade_is_no_error() -> None:
    both = Study.model_validate({"study_id": "B3", "findings_text": "Moderate to severe mitral "
                                 "regurgitation. Moderate tricuspid regurgitation."})
    assert swap_site("Moderate TR.", random.Random(0), both) is None  # beside moderate-to-severe MR


def test_a_grade_denied_where_the_study_grades_it_milder_is_no_error() -> None:
    assert flip_negation("Severe MR.", random.Random(0), STUDY) is None  # the study states mild MR


def test_an_omission_removes_every_statement_that_says_the_finding() -> None:
    study = Study.model_validate({"study_id": "B4", "measurements": {"rvsp": 72},
                                  "findings_text": "Normal LV. TR Vmax 4.0 m/s, RVSP 72 mmHg."})
    base = Case("B4", "unmodified", study, ["Severe pulmonary hypertension, RVSP 72 mmHg.",
                                            "Refer to the pulmonary hypertension service.", "Normal LV."])
    omission = inject(base, "omitted_critical", random.Random(0))[0]
    assert omission.statements == ["Normal LV."]  # "pulmonary hypertension" (elevated) is accepted for it
