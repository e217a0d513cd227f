"""Metrics of generated impressions: one contract, a lazy registry, the text metrics.

Every metric is ``compute(references, predictions, studies=None) -> {"aggregate": {...},
"per_sample": [{...}, ...]}`` (CONTRACTS.md); ``METRICS`` maps names to import paths so heavy
libraries load only when a metric is used. Clinical metrics live in ``metrics_clinical.py``,
BERTScore in ``metrics_bertscore.py``.

    get_metric("rouge")(["Mild MR."], ["Mild mitral regurgitation."])["aggregate"]["rougeL"]
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from echogpt.schemas import Prediction, Study
from echogpt.text import split_statements

MetricResult = dict[str, Any]
"""``{"aggregate": {name: float | None}, "per_sample": [{name: value}, ...]}``."""

MetricFn = Callable[..., MetricResult]

METRICS: dict[str, str] = {
    "rouge": "echogpt.evaluation.metrics:rouge",
    "bleu": "echogpt.evaluation.metrics:bleu",
    "bertscore": "echogpt.evaluation.bertscore:bertscore",
    "fact_f1": "echogpt.evaluation.clinical:fact_f1",
    "hallucination": "echogpt.evaluation.clinical:hallucination",
    "critical_omission": "echogpt.evaluation.clinical:critical_omission",
    "stop_rate": "echogpt.evaluation.metrics:stop_rate",
    "length": "echogpt.evaluation.metrics:length",
}
"""Metric name -> ``module:function``; imported on first use by :func:`get_metric`."""


class Column(NamedTuple):
    """How to show and compare one per-sample value."""

    label: str
    higher_is_better: bool | None  # None: neither (lengths), no win rate
    scale: str


COLUMNS: dict[str, Column] = {
    "fact_precision": Column("Clinical-fact precision", True, "0-1"),
    "fact_recall": Column("Clinical-fact recall", True, "0-1"),
    "fact_f1": Column("Clinical-fact F1", True, "0-1"),
    "hallucination_rate": Column("Hallucinated statements (share)", False, "0-1"),
    "contradicted_rate": Column("Contradicted statements (share)", False, "0-1"),
    "unsupported_rate": Column("Unsupported statements (share)", False, "0-1"),
    "critical_omission": Column("Critical finding omitted (share of studies)", False, "0-1"),
    "high_omission": Column("High-severity finding omitted (share of studies)", False, "0-1"),
    "omissions": Column("Critical findings omitted (count)", False, "count"),
    "rouge1": Column("ROUGE-1 F1", True, "0-1"),
    "rouge2": Column("ROUGE-2 F1", True, "0-1"),
    "rougeL": Column("ROUGE-L F1", True, "0-1"),
    "bleu": Column("BLEU (sentence)", True, "0-100"),
    "bertscore_precision": Column("BERTScore precision", True, "0-1"),
    "bertscore_recall": Column("BERTScore recall", True, "0-1"),
    "bertscore_f1": Column("BERTScore F1", True, "0-1"),
    "stopped": Column("Stopped on end-of-turn (share)", True, "0-1"),
    "statements": Column("Statements", None, "count"),
    "words": Column("Words", None, "count"),
}
"""Per-sample value name -> label, direction and scale (for tables, win rates and plots), clinical
measures first."""


def get_metric(name: str) -> MetricFn:
    """The compute function of a registered metric, imported on first use.

    Raises:
        KeyError: an unknown name (the message lists the known ones).
    """
    if name not in METRICS:
        raise KeyError(f"unknown metric '{name}'; known: {', '.join(METRICS)}")
    module, _, attr = METRICS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def compute(name: str, references: Sequence[str], predictions: Sequence[Any],
            studies: Sequence[Study] | None = None, **options: Any) -> MetricResult:
    """Run one registered metric (see :func:`get_metric`)."""
    return get_metric(name)(references, predictions, studies=studies, **options)


def prediction_text(p: Any) -> str:
    """The impression text of a string, a :class:`Prediction` or a prediction dict."""
    if isinstance(p, str):
        return p
    if isinstance(p, Prediction):
        return p.impression
    if isinstance(p, dict) and "impression" in p:
        return str(p["impression"])
    raise TypeError(f"expected an impression string or Prediction, got {type(p).__name__}")


def check_lengths(references: Sequence[Any], predictions: Sequence[Any],
                  studies: Sequence[Any] | None = None) -> None:
    """Raise ValueError unless references, predictions (and studies) align one to one."""
    if len(references) != len(predictions):
        raise ValueError(f"{len(references)} references but {len(predictions)} predictions")
    if studies is not None and len(studies) != len(predictions):
        raise ValueError(f"{len(studies)} studies but {len(predictions)} predictions")


def mean(values: Sequence[float | None]) -> float | None:
    """Mean of the finite values (None when there are none)."""
    kept = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    return sum(kept) / len(kept) if kept else None


def aggregate_means(per_sample: list[dict[str, Any]]) -> dict[str, float | None]:
    """Mean of every numeric per-sample value."""
    keys = [k for k in (per_sample[0] if per_sample else {}) if k in COLUMNS]
    return {k: mean([row.get(k) for row in per_sample]) for k in keys}


# ---------------------------------------------------------------- text metrics


def rouge(references: Sequence[str], predictions: Sequence[Any], studies: Sequence[Study] | None = None,
          use_stemmer: bool = True) -> MetricResult:
    """ROUGE-1, ROUGE-2 and ROUGE-L F1 (rouge-score; lower-cased, Porter-stemmed tokens).

    Args:
        references: reference impressions.
        predictions: generated impressions (strings or Predictions), aligned with references.
        studies: unused.
        use_stemmer: stem tokens before matching.

    Returns:
        Per-sample ``rouge1``, ``rouge2``, ``rougeL`` and their means.
    """
    from rouge_score import rouge_scorer

    check_lengths(references, predictions)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=use_stemmer)
    per_sample = []
    for ref, pred in zip(references, predictions, strict=True):
        scores = scorer.score(ref, prediction_text(pred))
        per_sample.append({k: scores[k].fmeasure for k in ("rouge1", "rouge2", "rougeL")})
    return {"aggregate": aggregate_means(per_sample), "per_sample": per_sample}


def bleu(references: Sequence[str], predictions: Sequence[Any],
         studies: Sequence[Study] | None = None) -> MetricResult:
    """BLEU (sacrebleu, 13a tokenisation, 0-100): sentence BLEU per sample, corpus BLEU overall.

    Returns:
        Per-sample ``bleu``; aggregate ``bleu`` (corpus BLEU) and ``bleu_sentence_mean``.
    """
    import sacrebleu

    check_lengths(references, predictions)
    hyps = [prediction_text(p) for p in predictions]
    per_sample = [{"bleu": sacrebleu.sentence_bleu(h, [r]).score}
                  for r, h in zip(references, hyps, strict=True)]
    corpus = sacrebleu.corpus_bleu(hyps, [list(references)]).score if hyps else None
    return {"aggregate": {"bleu": corpus, "bleu_sentence_mean": mean([s["bleu"] for s in per_sample])},
            "per_sample": per_sample}


def length(references: Sequence[str], predictions: Sequence[Any],
           studies: Sequence[Study] | None = None) -> MetricResult:
    """Length of each prediction: statements (``split_statements``) and their words (whitespace
    separated, list markers not counted)."""
    check_lengths(references, predictions)
    per_sample = []
    for p in predictions:
        statements = split_statements(prediction_text(p))
        per_sample.append({"statements": len(statements),
                           "words": sum(len(s.text.split()) for s in statements)})
    return {"aggregate": aggregate_means(per_sample), "per_sample": per_sample}


def stop_rate(references: Sequence[str], predictions: Sequence[Any],
              studies: Sequence[Study] | None = None) -> MetricResult:
    """Share of generations that ended on the end-of-turn token (``Prediction.stopped``).

    Raises:
        ValueError: a prediction that is a bare string (it carries no stop information).
    """
    check_lengths(references, predictions)
    per_sample = []
    for p in predictions:
        if isinstance(p, str):
            raise ValueError("stop_rate needs Prediction records, not bare impression strings")
        stopped = p.stopped if isinstance(p, Prediction) else bool(p.get("stopped", True))
        per_sample.append({"stopped": 1.0 if stopped else 0.0})
    return {"aggregate": aggregate_means(per_sample), "per_sample": per_sample}
