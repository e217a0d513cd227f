"""The evaluation suite on a tiny fixed set: outputs, paired statistics, errors, CLI, notebook."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from echogpt.cli import app
from echogpt.evaluation import stats
from echogpt.evaluation.suite import EvaluationError, evaluate, parse_named_paths
from echogpt.files import data_hash, read_jsonl

FAST = ("rouge", "bleu", "length", "stop_rate")

STUDIES = [
    ("e1", "normal", "Normal LV size and function, EF 60%. No effusion.",
     "1. Normal left ventricular size and systolic function, LVEF 60%.\n2. No pericardial effusion."),
    ("e2", "hfref", "Dilated LV, EF 30%, global hypokinesis. Moderate MR.",
     "1. Dilated left ventricle with global hypokinesis, LVEF 30%.\n2. Moderate mitral regurgitation."),
    ("e3", "aortic_stenosis", "Severe AS, Vmax 4.5 m/s, mean gradient 50 mmHg, AVA 0.7 cm2. EF 60%.",
     "1. Severe aortic stenosis, mean gradient 50 mmHg, AVA 0.7 cm2.\n2. Normal LV systolic function."),
    ("e4", "tamponade", "Large pericardial effusion 2.4 cm with RV collapse; tamponade physiology.",
     "1. Large pericardial effusion with echocardiographic tamponade physiology."),
    ("e5", "normal", "Normal study. EF 65%. Trace TR.",
     "1. Normal echocardiogram, LVEF 65%."),
    ("e6", "hfref", "EF 40%. Inferior akinesis. Mild MR.",
     "1. Inferior akinesis with LVEF 40%.\n2. Mild mitral regurgitation."),
]
GENERIC = "1. Technically limited study.\n2. Clinical correlation recommended."


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture()
def inputs(tmp_path: Path) -> dict[str, Path]:
    studies = [{"study_id": sid, "phenotype": ph, "findings_text": text, "impression": imp}
               for sid, ph, text, imp in STUDIES]
    copy = [{"study_id": sid, "mode": "fine-tuned", "impression": imp, "stopped": True}
            for sid, _, _, imp in STUDIES]
    generic = [{"study_id": sid, "mode": "template", "impression": GENERIC, "stopped": i % 2 == 0}
               for i, (sid, *_rest) in enumerate(STUDIES)]
    return {"studies": _write_jsonl(tmp_path / "studies.jsonl", studies),
            "copy": _write_jsonl(tmp_path / "copy.jsonl", copy),
            "generic": _write_jsonl(tmp_path / "generic.jsonl", generic),
            "partial": _write_jsonl(tmp_path / "partial.jsonl", copy[:5])}


def _run(inputs: dict[str, Path], out: Path, systems=("copy", "generic"), metrics=FAST) -> dict:
    return evaluate(inputs["studies"], {s: inputs[s] for s in systems}, out, metrics=metrics, n_boot=300)


def test_outputs_are_written_and_consistent(inputs, tmp_path):
    out = tmp_path / "out"
    result = _run(inputs, out)
    assert {p.name for p in out.iterdir()} == {"metrics.json", "per_sample.csv", "report.html"}
    stored = json.loads((out / "metrics.json").read_text())
    assert stored == result
    assert result["systems"] == ["copy", "generic"] and result["n_studies"] == 6
    rows = list(csv.DictReader((out / "per_sample.csv").open()))
    assert len(rows) == 12
    copy_rouge = [float(r["rougeL"]) for r in rows if r["system"] == "copy"]
    assert copy_rouge == [1.0] * 6
    cell = result["summary"]["copy"]["rougeL"]
    assert (cell["mean"], cell["ci_low"], cell["ci_high"], cell["n"]) == (1.0, 1.0, 1.0, 6)
    generic_stop = result["summary"]["generic"]["stopped"]
    assert generic_stop["mean"] == pytest.approx(0.5)  # stopped on studies 0, 2, 4
    assert generic_stop["ci_low"] < 0.5 < generic_stop["ci_high"]
    # the one data hash (training records it too): key order and spacing of the JSONL do not matter
    assert result["config"]["studies_hash"] == data_hash(read_jsonl(inputs["studies"]))
    assert result["config"]["predictions"]["copy"]["hash"] == data_hash(inputs["copy"])
    assert result["config"]["n_boot"] == 300


def test_pairwise_win_rates_and_wilcoxon(inputs, tmp_path):
    result = _run(inputs, tmp_path / "out")
    rouge = next(p for p in result["pairwise"] if p["metric"] == "rougeL")
    assert (rouge["a"], rouge["b"]) == ("copy", "generic")
    # the copy reproduces every reference, the generic text shares no word with any of them
    assert (rouge["wins"], rouge["losses"], rouge["ties"], rouge["win_rate"]) == (6, 0, 0, 1.0)
    # six positive differences: exact two-sided p = 2 / 2^6 = 0.03125 when the |d| are distinct;
    # recomputed here from the per-sample file in any case
    rows = list(csv.DictReader((tmp_path / "out" / "per_sample.csv").open()))
    a = [float(r["rougeL"]) for r in rows if r["system"] == "copy"]
    b = [float(r["rougeL"]) for r in rows if r["system"] == "generic"]
    assert rouge["p_value"] == pytest.approx(stats.wilcoxon_signed_rank(a, b).p_value)
    assert rouge["p_value"] < 0.05
    words = next(p for p in result["pairwise"] if p["metric"] == "words")
    assert "wins" not in words  # length has no better direction


def test_breakdown_by_phenotype(inputs, tmp_path):
    result = _run(inputs, tmp_path / "out")
    assert set(result["by_phenotype"]) == {"normal", "hfref", "aortic_stenosis", "tamponade"}
    assert result["by_phenotype"]["hfref"]["n"] == 2
    assert result["by_phenotype"]["normal"]["copy"]["rougeL"] == 1.0


def test_only_studies_every_system_drafted_are_compared(inputs, tmp_path):
    result = _run(inputs, tmp_path / "out", systems=("copy", "partial"))
    assert result["n_studies"] == 5
    assert result["missing_predictions"] == {"copy": 0, "partial": 1}
    rouge = next(p for p in result["pairwise"] if p["metric"] == "rougeL")
    assert (rouge["ties"], rouge["p_value"]) == (5, 1.0)


def test_report_is_self_contained_and_plain(inputs, tmp_path):
    _run(inputs, tmp_path / "out")
    page = (tmp_path / "out" / "report.html").read_text()
    assert "How to read this" in page and "data:image/png;base64," in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "ROUGE-L F1" in page and "copy vs generic" in page


def test_clinical_metrics_run_or_say_why_not(inputs, tmp_path):
    result = _run(inputs, tmp_path / "out", metrics=("fact_f1", "hallucination"))
    for name in ("fact_f1", "hallucination"):
        assert name in result["metrics_run"] or result["skipped"][name]
    if "fact_f1" in result["metrics_run"]:
        assert result["summary"]["copy"]["fact_f1"]["mean"] == 1.0
    if "hallucination" in result["metrics_run"]:
        for s in ("copy", "generic"):
            assert 0.0 <= result["summary"][s]["hallucination_rate"]["mean"] <= 1.0


@pytest.mark.parametrize("problem, message", [
    ("missing_studies", "no such file"),
    ("bad_prediction", "record 2"),
    ("unknown_metric", "unknown metric"),
    ("no_reference", "no reference impression"),
])
def test_bad_input_gives_a_one_line_error(inputs, tmp_path, problem, message):
    studies, preds, metrics = inputs["studies"], {"copy": inputs["copy"]}, FAST
    if problem == "missing_studies":
        studies = tmp_path / "nope.jsonl"
    elif problem == "bad_prediction":
        preds = {"x": _write_jsonl(tmp_path / "bad.jsonl", [
            {"study_id": "e1", "mode": "template", "impression": "x"},
            {"study_id": "e2", "mode": "sampling", "impression": "x"}])}
    elif problem == "unknown_metric":
        metrics = ("rouge", "meteor")
    else:
        studies = _write_jsonl(tmp_path / "noref.jsonl", [{"study_id": "e1", "findings_text": "x"}])
    with pytest.raises(EvaluationError, match=message) as err:
        evaluate(studies, preds, tmp_path / "out", metrics=metrics)
    assert "\n" not in str(err.value)


def test_named_paths_parsing():
    assert parse_named_paths(["a=x.jsonl", "b = y.jsonl"]) == {"a": Path("x.jsonl"), "b": Path("y.jsonl")}
    for bad in (["x.jsonl"], ["=x.jsonl"], ["a=x", "a=y"]):
        with pytest.raises(EvaluationError):
            parse_named_paths(bad)


def test_cli_evaluate(inputs, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli"
    args = ["evaluate", "--studies", str(inputs["studies"]), "--predictions", f"copy={inputs['copy']}",
            "--predictions", f"generic={inputs['generic']}", "--out", str(out), "--n-boot", "200"]
    for m in FAST:
        args += ["--metric", m]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "copy:" in res.output and (out / "report.html").exists()
    bad = runner.invoke(app, ["evaluate", "--studies", str(tmp_path / "nope.jsonl"), "--predictions",
                              f"copy={inputs['copy']}", "--out", str(out)])
    assert bad.exit_code == 2
    assert "no such file" in bad.output and "Traceback" not in bad.output


@pytest.mark.slow
def test_notebook_reproduces_the_table(inputs, tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    out = tmp_path / "out"
    result = _run(inputs, out)
    monkeypatch.setenv("ECHOGPT_EVAL_DIR", str(out))
    nb = nbformat.read(Path(__file__).parents[2] / "notebooks" / "compare_systems.ipynb", as_version=4)
    started = time.monotonic()
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    assert time.monotonic() - started < 60
    text = "\n".join(str(o.get("data", {}).get("text/plain", o.get("text", "")))
                     for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "6 studies, systems: copy, generic" in text
    mean = result["summary"]["generic"]["rougeL"]
    assert f"{mean['mean']:.3f} ({mean['ci_low']:.3f}–{mean['ci_high']:.3f})" in text
