"""Metrics: the contract, hand-reasoned cases and snapshots (tests/fixtures/metric_snapshots.json).

Rewrite the snapshots after an intended change with ECHOGPT_UPDATE_SNAPSHOTS=1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from echogpt.evaluation.clinical import check_row, match_facts, values_match
from echogpt.evaluation.metrics import METRICS, compute, get_metric
from echogpt.schemas import CheckResult, Fact, Prediction, StatementCheck, Study

SNAPSHOTS = Path(__file__).parents[1] / "fixtures" / "metric_snapshots.json"
TOLERANCE = 1e-4

REFS = [
    "1. Normal left ventricular size and systolic function, LVEF 60-65%.\n"
    "2. No significant valvular disease.\n3. No pericardial effusion.",
    "1. Severe aortic stenosis: peak velocity 4.5 m/s, mean gradient 52 mmHg, AVA 0.7 cm2.\n"
    "2. Mild aortic regurgitation.",
    "1. Large circumferential pericardial effusion with tamponade physiology.\n2. Hyperdynamic LV, EF 70%.",
    "1. Moderately reduced LV systolic function, LVEF 35%.\n2. Inferior akinesis.\n"
    "3. Mild mitral regurgitation.",
    "1. Normal biventricular function.",
    "1. Mild concentric LVH.\n2. Grade I diastolic dysfunction.",
]
HYPS = [
    "1. Normal left ventricular size and systolic function, LVEF 60-65%.\n"
    "2. No significant valvular disease.\n3. No pericardial effusion.",
    "1. Moderate aortic stenosis, mean gradient 52 mmHg.\n2. Mild aortic regurgitation.",
    "1. Small pericardial effusion.\n2. EF 70%.",
    "LVEF 35%, inferior akinesis, mild MR.",
    "",
    "1. Severe concentric LVH.\n2. Normal diastolic function.\n3. Technically limited study.",
]
TEXT_METRICS = ("rouge", "bleu", "length")


def _facts(*specs: dict) -> list[Fact]:
    return [Fact(**s) for s in specs]


def _snapshot_values() -> dict[str, list[dict]]:
    return {name: compute(name, REFS, HYPS)["per_sample"] for name in TEXT_METRICS}


def _compare(actual: dict, expected: dict) -> None:
    for name, rows in expected.items():
        assert len(actual[name]) == len(rows), name
        for i, (got, want) in enumerate(zip(actual[name], rows, strict=True)):
            assert set(got) == set(want), (name, i)
            for key, value in want.items():
                assert got[key] == pytest.approx(value, abs=TOLERANCE), (name, i, key)


# ---------------------------------------------------------------- registry and contract


def test_every_registered_metric_resolves_to_a_function():
    for name in METRICS:
        assert callable(get_metric(name))
    with pytest.raises(KeyError, match="known"):
        get_metric("meteor")


def test_importing_metrics_loads_no_heavy_library():
    code = ("import sys, echogpt.evaluation.metrics, echogpt.evaluation.clinical, "
            "echogpt.evaluation.bertscore, echogpt.evaluation.suite, echogpt.evaluation.stats; "
            "heavy = {'torch', 'transformers', 'bert_score', 'rouge_score', 'sacrebleu', 'matplotlib'} "
            "& set(sys.modules); print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_contract_shape_and_alignment_check():
    result = compute("rouge", REFS[:2], HYPS[:2])
    assert set(result) == {"aggregate", "per_sample"}
    assert len(result["per_sample"]) == 2
    assert result["aggregate"]["rougeL"] == pytest.approx(
        sum(r["rougeL"] for r in result["per_sample"]) / 2)
    with pytest.raises(ValueError, match="references"):
        compute("rouge", REFS[:2], HYPS[:1])


# ---------------------------------------------------------------- hand-reasoned text metrics


def test_identical_texts_score_one():
    rouge = compute("rouge", REFS[:1], REFS[:1])["aggregate"]
    assert rouge == {"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0}
    assert compute("bleu", REFS[:1], REFS[:1])["aggregate"]["bleu"] == pytest.approx(100.0)


def test_empty_prediction_scores_zero():
    assert compute("rouge", ["Mild MR."], [""])["per_sample"][0]["rougeL"] == 0.0
    assert compute("bleu", ["Mild MR."], [""])["per_sample"][0]["bleu"] == 0.0


def test_rouge1_by_hand():
    # reference tokens: mild, mitral, regurgitation; prediction: mild, aortic, regurgitation
    # 2 of 3 unigrams shared: P = R = F = 2/3
    r = compute("rouge", ["Mild mitral regurgitation."], ["Mild aortic regurgitation."])
    assert r["per_sample"][0]["rouge1"] == pytest.approx(2 / 3)


def test_length_counts_statements_and_words():
    row = compute("length", ["x"], ["1. Mild MR.\n2. No pericardial effusion."])["per_sample"][0]
    assert row == {"statements": 2, "words": 5}  # "Mild MR." 2 + "No pericardial effusion." 3


def test_stop_rate_reads_predictions():
    preds = [Prediction(study_id="a", mode="template", impression="x", stopped=True),
             Prediction(study_id="b", mode="template", impression="x", stopped=False)]
    assert compute("stop_rate", ["r", "r"], preds)["aggregate"]["stopped"] == 0.5
    with pytest.raises(ValueError, match="Prediction"):
        compute("stop_rate", ["r"], ["bare text"])


# ---------------------------------------------------------------- fact matching (hand-built facts)


def test_lvef_within_tolerance_matches_and_a_changed_number_does_not():
    ref = Fact(concept="lv_systolic_function", value=58, unit="%")
    assert values_match(ref, Fact(concept="lv_systolic_function", value=55, value_max=60, unit="%"))
    assert values_match(ref, Fact(concept="lv_systolic_function", value=62, unit="%"))
    assert not values_match(ref, Fact(concept="lv_systolic_function", value=40, unit="%"))


def test_lengths_match_across_mm_and_cm():
    ref = Fact(concept="aortic_dilation", location="root", value=4.0, unit="cm")
    assert values_match(ref, Fact(concept="aortic_dilation", location="root", value=40.5, unit="mm"))
    assert not values_match(ref, Fact(concept="aortic_dilation", location="root", value=46, unit="mm"))


def test_fact_prf_by_hand():
    ref = _facts({"concept": "valve_stenosis", "location": "aortic", "grade": "severe"},
                 {"concept": "valve_regurgitation", "location": "aortic", "grade": "mild"},
                 {"concept": "lv_systolic_function", "grade": "normal"})
    hyp = _facts({"concept": "valve_stenosis", "location": "aortic", "grade": "moderate"},  # grade
                 {"concept": "valve_regurgitation", "location": "aortic", "grade": "mild"},  # match
                 {"concept": "lv_systolic_function", "grade": "normal"},  # match
                 {"concept": "valve_regurgitation", "location": "aortic", "grade": "mild"})  # dup
    m = match_facts(ref, hyp)
    # unique hypothesis facts 3, matched 2: P = 2/3; reference 3: R = 2/3; F1 = 2/3
    assert (m["fact_precision"], m["fact_recall"]) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert m["fact_f1"] == pytest.approx(2 / 3)


def test_fact_matching_respects_location_polarity_and_generic_grades():
    mitral = Fact(concept="valve_regurgitation", location="mitral", grade="moderate")
    assert match_facts([mitral], [mitral.model_copy(update={"location": "tricuspid"})])["fact_f1"] == 0
    effusion = Fact(concept="pericardial_effusion", polarity="absent")
    assert match_facts([effusion], [effusion.model_copy(update={"polarity": "present"})])["fact_f1"] == 0
    dilated = Fact(concept="la_size", grade="mildly_dilated")
    assert match_facts([dilated], [Fact(concept="la_size", grade="dilated")])["fact_f1"] == 1.0


def test_fact_prf_with_empty_sides():
    one = _facts({"concept": "tamponade"})
    assert match_facts([], [])["fact_f1"] == 1.0
    assert match_facts(one, [])["fact_recall"] == 0.0 and match_facts(one, [])["fact_f1"] == 0.0
    assert match_facts([], one)["fact_precision"] == 0.0


# ---------------------------------------------------------------- hallucination arithmetic


def test_hallucination_row_from_a_check_result():
    verdicts = ["supported", "contradicted", "unsupported", "not_factual"]
    result = CheckResult(study_id="s", statements=[
        StatementCheck(text=v, start=0, end=1, verdict=v, reason="r") for v in verdicts],
        omissions=[{"finding": "tamponade", "severity": "critical", "evidence": "effusion.tamponade"}])
    row = check_row(result)
    assert row["hallucination_rate"] == 0.5  # 2 of 4 statements
    assert (row["contradicted_rate"], row["unsupported_rate"]) == (0.25, 0.25)
    assert (row["critical_omission"], row["omissions"], row["omitted"]) == (1.0, 1, ["tamponade"])
    empty = check_row(CheckResult(study_id="s", statements=[]))
    assert (empty["hallucination_rate"], empty["critical_omission"]) == (0.0, 0.0)


def test_hallucination_needs_studies():
    with pytest.raises(ValueError, match="studies"):
        compute("hallucination", ["r"], ["p"])


# ---------------------------------------------------------------- with the real extractor/checker


def test_fact_f1_identical_is_one_and_a_changed_ef_drops_it_while_rouge_barely_moves():
    ref = ("1. Normal left ventricular size with moderately reduced systolic function, LVEF 35%.\n"
           "2. Mild mitral regurgitation.\n3. No pericardial effusion.\n"
           "4. Normal right ventricular size and function.")
    changed = ref.replace("LVEF 35%", "LVEF 55%")
    assert compute("fact_f1", [ref], [ref])["aggregate"]["fact_f1"] == 1.0
    f1 = compute("fact_f1", [ref], [changed])["aggregate"]["fact_f1"]
    rouge = compute("rouge", [ref], [changed])["aggregate"]["rougeL"]
    assert f1 < 0.95
    assert rouge > 0.95


def test_hallucination_rate_with_the_checker_on_a_clear_case():
    study = Study.model_validate({
        "study_id": "tamp", "measurements": {"effusion_width": 2.4},
        "findings": {"effusion": {"size": "large", "tamponade": True, "rv_collapse": True}},
        "findings_text": "Large circumferential pericardial effusion with RV diastolic collapse; "
                         "tamponade physiology."})
    row = compute("hallucination", [""], ["1. No pericardial effusion."], studies=[study])["per_sample"][0]
    assert row["hallucination_rate"] == 1.0
    assert row["critical_omission"] == 1.0


# ---------------------------------------------------------------- snapshots


def test_text_metrics_match_the_snapshot():
    actual = _snapshot_values()
    if os.environ.get("ECHOGPT_UPDATE_SNAPSHOTS") == "1":
        stored = json.loads(SNAPSHOTS.read_text()) if SNAPSHOTS.exists() else {}
        stored.update(actual)
        SNAPSHOTS.write_text(json.dumps(stored, indent=1) + "\n")
    _compare(actual, {k: v for k, v in json.loads(SNAPSHOTS.read_text()).items() if k in TEXT_METRICS})


@pytest.mark.slow
def test_bertscore_identical_is_one_paraphrase_beats_unrelated_and_matches_snapshot():
    r = compute("bertscore", ["Severe aortic stenosis.", "Severe aortic stenosis."],
                ["Severe aortic stenosis.", "Normal right ventricular function."])["per_sample"]
    assert r[0]["bertscore_f1"] == pytest.approx(1.0, abs=1e-5)
    assert r[1]["bertscore_f1"] < 0.9
    actual = {"bertscore": compute("bertscore", REFS, HYPS)["per_sample"]}
    if os.environ.get("ECHOGPT_UPDATE_SNAPSHOTS") == "1":
        stored = json.loads(SNAPSHOTS.read_text()) if SNAPSHOTS.exists() else {}
        stored.update(actual)
        SNAPSHOTS.write_text(json.dumps(stored, indent=1) + "\n")
    _compare(actual, {"bertscore": json.loads(SNAPSHOTS.read_text())["bertscore"]})
