"""Analysis of a reader study: per-dimension means and distributions, one-sample Wilcoxon of
A-vs-B preferences against no preference, paired Wilcoxon of Likert scores, ordinal
Krippendorff's alpha, per-reader breakdown and Spearman correlation of per-case automatic metrics
with reader scores. Tests and intervals come from ``echogpt.evaluation.stats``.

    result = analyze(db, admin, "pilot"); result.preference[0]["p_value"]
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from echogpt.evaluation import stats
from echogpt.reader import study as records
from echogpt.reader.design import DIMENSIONS
from echogpt.review.accounts import User
from echogpt.review.database import Database


class Analysis(BaseModel):
    """Tables (lists of flat dicts, ready for a dataframe or CSV) of one study's analysis."""

    model_config = ConfigDict(extra="forbid")
    study: str
    n_ratings: int
    preference: list[dict[str, Any]]  # per design pair and dimension
    likert: list[dict[str, Any]]  # per source and dimension
    likert_tests: list[dict[str, Any]]  # per source pair and dimension
    agreement: list[dict[str, Any]]  # Krippendorff's alpha per kind and dimension
    per_reader: list[dict[str, Any]]
    correlation: list[dict[str, Any]]  # Spearman, automatic metric vs reader scores
    time_on_task: list[dict[str, Any]]
    distributions: dict[str, dict[str, dict[str, int]]]  # "A vs B" or source -> dim -> value -> n


def ordinal_alpha(data: Sequence[Sequence[float | None]]) -> float:
    """Krippendorff's alpha, ordinal metric (``krippendorff`` package), readers x units with
    None/NaN for missing; NaN when fewer than two values fall in any unit."""
    import krippendorff

    arr = np.array([[np.nan if v is None else float(v) for v in row] for row in data], float)
    pairable = (np.sum(~np.isnan(arr), axis=0) >= 2).sum() if arr.size else 0
    if pairable == 0 or np.unique(arr[~np.isnan(arr)]).size < 2:
        return math.nan
    return float(krippendorff.alpha(reliability_data=arr, level_of_measurement="ordinal"))


def spearman(x: Sequence[float | None], y: Sequence[float | None]) -> tuple[float, float, int]:
    """Spearman's rho, two-sided p and pairs used (NaN with fewer than 3 pairs or no spread)."""
    from scipy.stats import spearmanr

    a, b = stats.paired(x, y)
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan, math.nan, int(a.size)
    res = spearmanr(a, b)
    return float(res.statistic), float(res.pvalue), int(a.size)


def _r(x: float | None, k: int = 3) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), k)


def _p(p: float) -> float | None:
    """A p-value to 3 significant digits (tiny ones stay visible instead of rounding to 0)."""
    return None if math.isnan(p) else float(f"{p:.3g}")


def analyze_rows(name: str, rows: list[dict[str, Any]], texts: dict[str, dict[str, str]] | None,
                 reference: str | None, metric: str = "rouge", metric_key: str = "rougeL",
                 supplied: dict[str, dict[str, dict[str, float]]] | None = None) -> Analysis:
    """The analysis of exported rating rows (``reader.study.export_ratings``, latest answers).

    Args:
        name: Study name.
        rows: Rating rows.
        texts: case -> source -> report text, for the automatic metric (None: skip).
        reference: The reference source the metric compares each source with (None: skip).
        metric: A metric of ``echogpt.evaluation.metrics``; ``metric_key`` its per-sample value.
        metric_key: The per-sample value to correlate.
        supplied: case -> source -> {metric: value} given with the cases (also correlated).

    Returns:
        The analysis tables.
    """
    pref = [r for r in rows if r["kind"] == "ab"]
    lik = [r for r in rows if r["kind"] == "likert"]
    out: dict[str, Any] = {k: [] for k in ("preference", "likert", "likert_tests", "agreement",
                                           "per_reader", "correlation", "time_on_task")}
    dists: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    dims = sorted({r["dimension"] for r in rows}, key=_dim_order)
    pairs = sorted({(r["design_a"], r["design_b"]) for r in pref})
    for a, b in pairs:
        for d in dims:
            v = [r["toward_design_b"] for r in pref if (r["design_a"], r["design_b"]) == (a, b)
                 and r["dimension"] == d]
            if not v:
                continue
            test = stats.wilcoxon_signed_rank(v, [0] * len(v))
            ci = stats.bootstrap_ci(v)
            counts = {str(k): v.count(k) for k in (-2, -1, 0, 1, 2)}
            dists[f"{a} vs {b}"][d] = counts
            out["preference"].append({
                "A": a, "B": b, "dimension": d, "n": len(v), "mean_toward_B": _r(ci.estimate),
                "ci_low": _r(ci.low), "ci_high": _r(ci.high), "prefer_A": sum(x < 0 for x in v),
                "no_preference": v.count(0), "prefer_B": sum(x > 0 for x in v),
                "wilcoxon_W": _r(test.statistic, 2), "p_value": _p(test.p_value)})
    sources = sorted({r["source_a"] for r in lik})
    scores: dict[tuple[str, str], dict[tuple[str, str], float]] = defaultdict(dict)
    for r in lik:
        scores[(r["source_a"], r["dimension"])][(r["reader"], r["case_id"])] = r["value"]
    for src in sources:
        for d in dims:
            v = list(scores[(src, d)].values())
            if v:
                ci = stats.bootstrap_ci(v)
                dists[src][d] = {str(k): v.count(k) for k in range(1, 6)}
                out["likert"].append({"source": src, "dimension": d, "n": len(v),
                                      "mean": _r(ci.estimate), "ci_low": _r(ci.low),
                                      "ci_high": _r(ci.high), "median": float(np.median(v))})
    for s1, s2 in ((x, y) for i, x in enumerate(sources) for y in sources[i + 1:]):
        for d in dims:
            keys = sorted(set(scores[(s1, d)]) & set(scores[(s2, d)]))
            if keys:
                test = stats.wilcoxon_signed_rank([scores[(s2, d)][k] for k in keys],
                                                  [scores[(s1, d)][k] for k in keys])
                diff = np.mean([scores[(s2, d)][k] - scores[(s1, d)][k] for k in keys])
                out["likert_tests"].append({"A": s1, "B": s2, "dimension": d, "pairs": len(keys),
                                            "mean_B_minus_A": _r(diff),
                                            "wilcoxon_W": _r(test.statistic, 2),
                                            "p_value": _p(test.p_value)})
    out["agreement"] = _agreement(pref, lik, dims)
    out["per_reader"] = _per_reader(pref, lik, dims)
    out["correlation"] = _correlation(pref, lik, dims, texts, reference, metric, metric_key,
                                      supplied or {})
    for kind, group in (("A vs B", pref), ("Likert", lik)):
        secs = {(r["reader"], r["case_id"], r["position"]): r["seconds"] for r in group
                if r["seconds"] is not None}
        if secs:
            v = list(secs.values())
            out["time_on_task"].append({"kind": kind, "tasks": len(v), "median_s": _r(np.median(v), 1),
                                        "mean_s": _r(np.mean(v), 1)})
    n = len({(r["reader"], r["case_id"], r["position"]) for r in rows})
    return Analysis(study=name, n_ratings=n, distributions=dict(dists), **out)


def _dim_order(d: str) -> tuple[int, str]:
    return (DIMENSIONS.index(d) if d in DIMENSIONS else len(DIMENSIONS), d)


def _agreement(pref: list[dict], lik: list[dict], dims: list[str]) -> list[dict[str, Any]]:
    out = []
    for kind, group, unit in (("A vs B", pref, lambda r: (r["case_id"], r["design_a"], r["design_b"])),
                              ("Likert", lik, lambda r: (r["case_id"], r["source_a"]))):
        value = "toward_design_b" if kind == "A vs B" else "value"
        readers = sorted({r["reader"] for r in group})
        for d in dims:
            cells = {(r["reader"], unit(r)): r[value] for r in group if r["dimension"] == d}
            units = sorted({u for _, u in cells})
            if len(readers) < 2 or not units:
                continue
            matrix = [[cells.get((rd, u)) for u in units] for rd in readers]
            shared = sum(1 for u in units if sum((rd, u) in cells for rd in readers) >= 2)
            out.append({"kind": kind, "dimension": d, "readers": len(readers),
                        "units_rated_twice": shared, "alpha_ordinal": _r(ordinal_alpha(matrix))})
    return out


def _per_reader(pref: list[dict], lik: list[dict], dims: list[str]) -> list[dict[str, Any]]:
    out = []
    for reader in sorted({r["reader"] for r in pref + lik}):
        for (a, b) in sorted({(r["design_a"], r["design_b"]) for r in pref}):
            row: dict[str, Any] = {"reader": reader, "kind": "A vs B", "about": f"{a} vs {b}"}
            for d in dims:
                v = [r["toward_design_b"] for r in pref if r["reader"] == reader
                     and (r["design_a"], r["design_b"]) == (a, b) and r["dimension"] == d]
                row[d] = _r(np.mean(v)) if v else None
            out.append(row)
        for src in sorted({r["source_a"] for r in lik}):
            row = {"reader": reader, "kind": "Likert", "about": src}
            for d in dims:
                v = [r["value"] for r in lik if r["reader"] == reader and r["source_a"] == src
                     and r["dimension"] == d]
                row[d] = _r(np.mean(v)) if v else None
            out.append(row)
    return out


def _metric_values(texts: dict[str, dict[str, str]] | None, reference: str | None, metric: str,
                   key: str, supplied: dict) -> dict[str, dict[tuple[str, str], float]]:
    """metric name -> (case, source) -> value."""
    values: dict[str, dict[tuple[str, str], float]] = defaultdict(dict)
    if texts and reference:
        from echogpt.evaluation.metrics import compute

        items = [(c, s, t) for c, by in sorted(texts.items()) for s, t in sorted(by.items())
                 if reference in by]
        if items:
            res = compute(metric, [texts[c][reference] for c, _, _ in items], [t for _, _, t in items])
            for (c, s, _), per in zip(items, res["per_sample"], strict=True):
                if per.get(key) is not None:
                    values[f"{key} vs {reference}"][(c, s)] = float(per[key])
    for case, by in supplied.items():
        for src, ms in by.items():
            for m, v in ms.items():
                values[m][(case, src)] = float(v)
    return values


def _correlation(pref: list[dict], lik: list[dict], dims: list[str], texts: Any, reference: Any,
                 metric: str, key: str, supplied: dict) -> list[dict[str, Any]]:
    values = _metric_values(texts, reference, metric, key, supplied)
    out = []
    for m, by in values.items():
        for d in dims:
            # A vs B: metric(B) - metric(A) per case against the readers' mean preference toward B.
            for (a, b) in sorted({(r["design_a"], r["design_b"]) for r in pref}):
                per_case = defaultdict(list)
                for r in pref:
                    if (r["design_a"], r["design_b"]) == (a, b) and r["dimension"] == d:
                        per_case[r["case_id"]].append(r["toward_design_b"])
                cases = [c for c in per_case if (c, a) in by and (c, b) in by]
                rho, p, n = spearman([by[(c, b)] - by[(c, a)] for c in cases],
                                     [float(np.mean(per_case[c])) for c in cases])
                out.append({"metric": m, "kind": "A vs B", "about": f"{a} vs {b}", "dimension": d,
                            "n_cases": n, "spearman_rho": _r(rho), "p_value": _p(p)})
            per_unit = defaultdict(list)
            for r in lik:
                if r["dimension"] == d:
                    per_unit[(r["case_id"], r["source_a"])].append(r["value"])
            units = [u for u in per_unit if u in by]
            if units:
                rho, p, n = spearman([by[u] for u in units],
                                     [float(np.mean(per_unit[u])) for u in units])
                out.append({"metric": m, "kind": "Likert", "about": "all sources", "dimension": d,
                            "n_cases": n, "spearman_rho": _r(rho), "p_value": _p(p)})
    return out


def analyze(db: Database, user: User, name: str, metric: str = "rouge",
            metric_key: str = "rougeL") -> Analysis:
    """Analyse a study's latest answers (admin): tests, agreement, breakdowns, correlations.

    Args:
        db: The store.
        user: An admin.
        name: Study name.
        metric: Registered metric comparing each source with the design's reference source.
        metric_key: The metric's per-sample value to correlate with reader scores.

    Returns:
        The analysis.
    """
    rows = records.export_ratings(db, user, name)
    summary = records.study_summary(db, user, name)
    texts = records.source_texts(db, user, name) if summary.design.reference else None
    return analyze_rows(name, rows, texts, summary.design.reference, metric, metric_key,
                        records.case_metrics(db, user, name))
