"""The evaluation suite: systems side by side on the same studies, with uncertainty.

Runs each metric on each system's predictions, then writes ``metrics.json`` (means with
bootstrap 95 % CIs, paired Wilcoxon tests, win rates, per-phenotype and per-critical-finding
breakdowns, resolved config and data hashes), ``per_sample.csv`` and a self-contained
``report.html``.

    evaluate("test.jsonl", {"template": "t.jsonl", "fine-tuned": "ft.jsonl"}, "eval_out")
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from echogpt.evaluation.metrics import COLUMNS, METRICS, get_metric
from echogpt.files import FileError, csv_safe, data_hash, read_jsonl
from echogpt.schemas import Prediction, Study

DEFAULT_METRICS: tuple[str, ...] = ("rouge", "bleu", "bertscore", "fact_f1", "hallucination",
                                    "stop_rate", "length")
"""Metrics ``echogpt evaluate`` runs unless told otherwise."""

REFERENCE_FREE = {"hallucination", "critical_omission", "stop_rate", "length"}
"""Metrics that need no reference impression."""


class EvaluationError(Exception):
    """Input that cannot be evaluated (one-line message; exit 2 in the CLI)."""


def parse_named_paths(items: Sequence[str]) -> dict[str, Path]:
    """``["NAME=FILE", ...]`` -> {name: path}, in order.

    Raises:
        EvaluationError: an item without ``=``, an empty name or a repeated name.
    """
    out: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        name = name.strip()
        if not sep or not name or not path.strip():
            raise EvaluationError(f"--predictions '{item}': expected NAME=FILE, e.g. template=t.jsonl")
        if name in out:
            raise EvaluationError(f"--predictions: system name '{name}' given twice")
        out[name] = Path(path.strip())
    return out


def load_predictions(path: str | Path) -> dict[str, Prediction]:
    """Predictions of one system by study id (a repeated study id keeps the last line).

    Raises:
        EvaluationError: unreadable file or a line that is not a valid Prediction.
    """
    try:
        rows = read_jsonl(path)
    except FileError as e:
        raise EvaluationError(str(e)) from None
    out: dict[str, Prediction] = {}
    for number, row in enumerate(rows, start=1):
        try:
            p = Prediction.model_validate(row)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "record"
            raise EvaluationError(f"{path} record {number}: {where}: {first['msg']}") from None
        out[p.study_id] = p
    if not out:
        raise EvaluationError(f"{path}: no predictions")
    return out


def _load_studies(path: str | Path) -> list[Study]:
    from echogpt.data.load import load_studies

    try:
        result = load_studies(path)
    except FileError as e:
        raise EvaluationError(str(e)) from None
    if result.rejects:
        first = result.rejects[0]
        raise EvaluationError(f"{path}: {len(result.rejects)} invalid row(s), first at row "
                              f"{first.row}; run `echogpt validate {path}`")
    if not result.studies:
        raise EvaluationError(f"{path}: no studies")
    return result.studies


def _run_metric(name: str, refs: list[str], preds: list[Prediction], studies: list[Study],
                options: dict[str, Any]) -> list[dict[str, Any]]:
    opts = {k: v for k, v in options.items() if v is not None}
    result = get_metric(name)(refs, preds, studies=studies, **opts)
    return result["per_sample"]


def _metric_options(name: str, profile: str, bertscore_model: str | None) -> dict[str, Any]:
    if name in ("hallucination", "critical_omission"):
        return {"profile": profile}
    if name == "bertscore":
        return {"model": bertscore_model}
    return {}


def score_systems(studies: list[Study], predictions: dict[str, dict[str, Prediction]],
                  metrics: Sequence[str], profile: str = "default",
                  bertscore_model: str | None = None) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Per-sample rows (one per system and study) and the metrics skipped with their reason.

    A metric whose optional part is missing (``RuntimeError``) or that fails is skipped with its
    reason, not fatal: the other metrics are still computed and written.
    """
    from echogpt.evaluation.clinical import study_critical_findings

    refs = [s.impression or "" for s in studies]
    skipped: dict[str, str] = {}
    critical: list[list[str]] = [[] for _ in studies]
    if {"hallucination", "critical_omission"} & set(metrics):
        critical = [study_critical_findings(s, profile) for s in studies]
    rows: list[dict[str, Any]] = []
    for system, by_id in predictions.items():
        preds = [by_id[s.study_id] for s in studies]
        columns: list[dict[str, Any]] = [{} for _ in studies]
        for name in metrics:
            if name in skipped:
                continue
            try:
                per_sample = _run_metric(name, refs, preds, studies,
                                         _metric_options(name, profile, bertscore_model))
            except RuntimeError as e:
                skipped[name] = str(e)
                continue
            except Exception as e:  # noqa: BLE001 - one failing metric must not lose the others
                skipped[name] = f"failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                continue
            for col, values in zip(columns, per_sample, strict=True):
                col.update(values)
        for study, crit, col in zip(studies, critical, columns, strict=True):
            omitted = col.pop("omitted", None)
            row = {"system": system, "study_id": study.study_id,
                   "phenotype": study.phenotype or "unlabelled", "critical_findings": ";".join(crit)}
            row.update({k: v for k, v in col.items() if k in COLUMNS})
            if omitted is not None:
                row["omitted"] = ";".join(omitted)
            rows.append(row)
    return rows, skipped


def summarise(rows: list[dict[str, Any]], systems: list[str], n_boot: int = 2000,
              seed: int = 0) -> dict[str, Any]:
    """Means with bootstrap CIs, pairwise tests and win rates, and breakdowns from per-sample rows."""
    import pandas as pd

    from echogpt.evaluation import stats

    df = pd.DataFrame(rows)
    columns = [c for c in COLUMNS if c in df.columns]
    summary: dict[str, Any] = {}
    for system in systems:
        part = df[df["system"] == system]
        summary[system] = {}
        for c in columns:
            ci = stats.bootstrap_ci(part[c].tolist(), n_boot=n_boot, seed=seed)
            summary[system][c] = {"mean": ci.estimate, "ci_low": ci.low, "ci_high": ci.high,
                                  "n": int(part[c].notna().sum())}
    pairwise = []
    for a, b in itertools.combinations(systems, 2):
        pa = df[df["system"] == a].set_index("study_id")
        pb = df[df["system"] == b].set_index("study_id").loc[pa.index]
        for c in columns:
            x, y = pa[c].tolist(), pb[c].tolist()
            test = stats.wilcoxon_signed_rank(x, y)
            diff = stats.paired_bootstrap_diff(x, y, n_boot=n_boot, seed=seed)
            entry = {"a": a, "b": b, "metric": c, "mean_a": _mean(pa[c]), "mean_b": _mean(pb[c]),
                     "diff": diff.estimate,
                     "diff_ci_low": diff.low, "diff_ci_high": diff.high,
                     "wilcoxon_statistic": test.statistic, "p_value": test.p_value, "n": test.n}
            better = COLUMNS[c].higher_is_better
            if better is not None:
                entry.update(stats.win_rate(x, y, higher_is_better=better)._asdict())
            pairwise.append(entry)
    for c in columns:
        idx = [i for i, e in enumerate(pairwise) if e["metric"] == c]
        for i, p in zip(idx, stats.holm([pairwise[i]["p_value"] for i in idx]), strict=True):
            pairwise[i]["p_holm"] = p
    by_phenotype: dict[str, Any] = {}
    for phen, part in df.groupby("phenotype", sort=True):
        by_phenotype[str(phen)] = {"n": int(part["study_id"].nunique()),
                                   **{s: {c: _mean(part[part["system"] == s][c]) for c in columns}
                                      for s in systems}}
    return {"summary": summary, "pairwise": pairwise, "by_phenotype": by_phenotype,
            "by_critical_finding": _by_finding(df, systems)}


def _mean(series: Any) -> float | None:
    value = series.mean()
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _by_finding(df: Any, systems: list[str]) -> dict[str, Any]:
    findings = sorted({f for cell in df["critical_findings"] for f in str(cell).split(";") if f})
    out: dict[str, Any] = {}
    for f in findings:
        has = df[df["critical_findings"].map(lambda cell, f=f: f in str(cell).split(";"))]
        entry: dict[str, Any] = {"n": int(has["study_id"].nunique())}
        for s in systems:
            part = has[has["system"] == s]
            stats_s: dict[str, Any] = {}
            if "omitted" in part.columns:
                stats_s["omitted_share"] = _mean(part["omitted"].map(
                    lambda cell, f=f: 1.0 if f in str(cell).split(";") else 0.0))
            for c in ("hallucination_rate", "fact_f1"):
                if c in part.columns:
                    stats_s[c] = _mean(part[c])
            entry[s] = stats_s
        out[f] = entry
    return out


def evaluate(studies_path: str | Path, predictions: dict[str, str | Path], out_dir: str | Path,
             metrics: Sequence[str] = DEFAULT_METRICS, n_boot: int = 2000, seed: int = 0,
             profile: str = "default", bertscore_model: str | None = None) -> dict[str, Any]:
    """Evaluate systems side by side and write metrics.json, per_sample.csv and report.html.

    Args:
        studies_path: studies with reference ``impression`` (JSONL/JSON/CSV/Parquet).
        predictions: system name -> Prediction JSONL (output of ``echogpt generate``).
        out_dir: output folder (created).
        metrics: registered metric names (see ``echogpt.evaluation.metrics.METRICS``).
        n_boot: bootstrap resamples for CIs.
        seed: bootstrap seed.
        profile: hallucination-checker profile.
        bertscore_model: encoder folder for BERTScore (embedded MiniLM by default).

    Returns:
        The content written to metrics.json. Only studies every system has a prediction for are
        compared (paired); the counts left out are recorded.

    Raises:
        EvaluationError: unreadable or invalid inputs, unknown metrics, no common studies.
    """
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise EvaluationError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}")
    if not predictions:
        raise EvaluationError("no predictions given; use --predictions NAME=FILE")
    studies = _load_studies(studies_path)
    preds = {name: load_predictions(path) for name, path in predictions.items()}
    common = [s for s in studies if all(s.study_id in p for p in preds.values())]
    if not common:
        raise EvaluationError("no study has a prediction from every system")
    if set(metrics) - REFERENCE_FREE:
        missing = [s.study_id for s in common if not (s.impression or "").strip()]
        if missing:
            raise EvaluationError(f"{len(missing)} studies have no reference impression (first: "
                                  f"{missing[0]}); reference metrics need one, or choose "
                                  f"{', '.join(sorted(REFERENCE_FREE))}")
    ids = {s.study_id for s in studies}
    rows, skipped = score_systems(common, preds, metrics, profile, bertscore_model)
    systems = list(preds)
    result: dict[str, Any] = {
        "systems": systems, "n_studies": len(common),
        "metrics_run": [m for m in metrics if m not in skipped], "skipped": skipped,
        "missing_predictions": {n: sum(1 for s in studies if s.study_id not in p) for n, p in preds.items()},
        "unknown_study_predictions": {n: sum(1 for k in p if k not in ids) for n, p in preds.items()},
        "columns": {c: {"label": COLUMNS[c].label, "higher_is_better": COLUMNS[c].higher_is_better,
                        "scale": COLUMNS[c].scale} for c in COLUMNS if any(c in r for r in rows)},
        **summarise(rows, systems, n_boot=n_boot, seed=seed),
        "config": _config(studies_path, predictions, metrics, n_boot, seed, profile, bertscore_model),
    }
    result = clean_json(result)
    _write(Path(out_dir), result, rows)
    return result


def clean_json(value: Any) -> Any:
    """Plain JSON values: numpy scalars become Python numbers, NaN and infinities become None."""
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _config(studies_path: str | Path, predictions: dict[str, str | Path], metrics: Sequence[str],
            n_boot: int, seed: int, profile: str, bertscore_model: str | None) -> dict[str, Any]:
    from echogpt import __version__

    return {"studies": str(studies_path), "studies_hash": data_hash(studies_path),
            "predictions": {n: {"path": str(p), "hash": data_hash(p)} for n, p in predictions.items()},
            "metrics": list(metrics), "n_boot": n_boot, "seed": seed, "profile": profile,
            "bertscore_model": bertscore_model or "embedded:all-MiniLM-L6-v2",
            "echogpt_version": __version__}


def _write(out: Path, result: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    import pandas as pd

    from echogpt.evaluation.report_html import render_report

    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(result, indent=2, ensure_ascii=False),
                                      encoding="utf-8")
    pd.DataFrame(rows).map(csv_safe).to_csv(out / "per_sample.csv", index=False)
    (out / "report.html").write_text(render_report(result), encoding="utf-8")


def summary_lines(result: dict[str, Any]) -> list[str]:
    """A short plain-text table of the key metrics (mean and 95 % CI per system)."""
    keys = [c for c in ("fact_f1", "hallucination_rate", "critical_omission", "rougeL", "bleu",
                        "bertscore_f1", "stopped") if c in result["columns"]]
    lines = [f"{result['n_studies']} studies"]
    lines += [f"not computed: {name} ({why})" for name, why in result["skipped"].items()]
    for system in result["systems"]:
        cells = []
        for c in keys:
            cell = result["summary"][system][c]
            if cell["mean"] is not None:
                cells.append(f"{c} {cell['mean']:.3g} [{cell['ci_low']:.3g}, {cell['ci_high']:.3g}]")
        lines.append(f"{system}: " + ", ".join(cells))
    return lines
