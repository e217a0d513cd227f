"""Could a sentence-similarity judge tell the checker's false alarms from the errors it catches?

A tempting fix for ``unsupported`` false alarms ("nothing in the study states it") is to let an
encoder excuse a statement that is close in meaning to some findings sentence. This measures whether
that could work before anyone builds it. On the annotated report sets (every impression correct), each
statement the checker calls ``unsupported`` is a false alarm; on the same studies, each injected error
(``bench-checker``'s mutations) that it calls ``unsupported`` is a catch. For both, the cosine
similarity between the statement and its closest findings sentence is computed with the embedded
all-MiniLM-L6-v2 (mean pooling). A judge is only worth building if some threshold excuses many false
alarms and loses few catches.

    python3 benchmarks/similarity_judge.py                       # the tuning sets
    python3 benchmarks/similarity_judge.py --sets reports,reports_heldout7 --json out.json
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
TUNING = ("reports", "reports_heldout", "reports_heldout2", "reports_heldout3", "reports_heldout4",
          "reports_heldout5", "reports_heldout6", "reports_heldout7")
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def unsupported_statements(sets: list[str], seed: int = 0) -> list[dict[str, Any]]:
    """Every statement called unsupported: false alarms on the correct impressions, and caught
    injected errors on the same studies; each with its study's findings sentences."""
    from echogpt.checker.check import check
    from echogpt.checker.injection import ERROR_TYPES, Case, inject
    from echogpt.data.reports import read_reports
    from echogpt.text import number_statements, split_statements

    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for name in sets:
        styles = sorted(p for p in (FIXTURES / name).iterdir() if (p / "expected.jsonl").exists())
        for folder in styles:
            for study in read_reports(folder).studies:
                if not study.impression:
                    continue
                sentences = [s.text for s in split_statements(study.findings_text)]
                for s in check(study.impression, study).statements:
                    if s.verdict == "unsupported":
                        rows.append({"group": "false alarm", "text": s.text, "sentences": sentences})
                base = Case(study.study_id, "unmodified", study,
                            [s.text for s in split_statements(study.impression)])
                for kind in ERROR_TYPES:
                    for case in inject(base, kind, rng):
                        if case.kind == "within_tolerance" or case.target is None:
                            continue
                        got = check(number_statements(case.statements), study).statements
                        if case.target < len(got) and got[case.target].verdict == "unsupported":
                            rows.append({"group": f"caught {kind}", "text": got[case.target].text,
                                         "sentences": sentences})
    return rows


def sentence_vectors(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The embedded all-MiniLM-L6-v2's unit vector (mean pooling) of every statement and findings
    sentence of the rows, by text."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from echogpt.evaluation.bertscore import embedded_encoder_path

    folder = embedded_encoder_path()
    tokenizer, encoder = AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).eval()
    texts = list(dict.fromkeys(t for r in rows for t in [r["text"], *r["sentences"]]))
    vectors: dict[str, Any] = {}
    for i in range(0, len(texts), 64):
        batch = tokenizer(texts[i:i + 64], return_tensors="pt", padding=True, truncation=True,
                          max_length=128)
        with torch.no_grad():
            hidden = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
        vectors.update(zip(texts[i:i + 64], pooled, strict=True))
    return vectors


def closest_similarity(rows: list[dict[str, Any]]) -> None:
    """Adds ``similarity``: the cosine between each statement and its closest findings sentence."""
    import torch

    vectors = sentence_vectors(rows)
    for r in rows:
        if not r["sentences"]:
            r["similarity"] = 0.0
            continue
        found = torch.stack([vectors[t] for t in r["sentences"]])
        r["similarity"] = float((found @ vectors[r["text"]]).max())


def _quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per group: count, quartiles of the similarity, and the share at or above each threshold."""
    groups: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        groups[r["group"]].append(r["similarity"])
    out = {}
    for group, values in sorted(groups.items()):
        values.sort()
        out[group] = {"n": len(values), "p25": _quantile(values, 0.25), "median": _quantile(values, 0.5),
                      "p75": _quantile(values, 0.75),
                      "max": values[-1],
                      "share_at_or_above": {t: sum(v >= t for v in values) / len(values)
                                            for t in THRESHOLDS}}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(TUNING), help="comma-separated fixture folders")
    parser.add_argument("--seed", type=int, default=0, help="seed of the injected errors")
    parser.add_argument("--json", type=Path, help="write the summary here")
    args = parser.parse_args()
    rows = unsupported_statements(args.sets.split(","), args.seed)
    closest_similarity(rows)
    table = summary(rows)
    print("group | n | p25 | median | p75 | max | " + " | ".join(f">= {t}" for t in THRESHOLDS))
    print(" | ".join(["---"] * (6 + len(THRESHOLDS))))
    for group, s in table.items():
        shares = " | ".join(f"{s['share_at_or_above'][t]:6.1%}" for t in THRESHOLDS)
        print(f"{group} | {s['n']} | {s['p25']:.2f} | {s['median']:.2f} | {s['p75']:.2f} | "
              f"{s['max']:.2f} | {shares}")
    if args.json:
        args.json.write_text(json.dumps(table, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
