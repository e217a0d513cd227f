"""Fine-tuned vs zero-shot vs template on held-out studies (never in CI): trains a recipe (or reuses
an adapter), generates each system on the first N test studies, and prints stop rate, ROUGE-L with
paired bootstrap 95 % CIs of the differences, wall times and peak RSS.

    echogpt synth --n 2000 --seed 0 --out data/synth
    nice -n 5 python benchmarks/finetune_quality.py --config cpu-smollm2 --data data/synth --out runs/quality
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MiB; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="cpu-smollm2")
    parser.add_argument("--data", required=True, help="Folder with train/val/test.jsonl")
    parser.add_argument("--out", required=True)
    parser.add_argument("--adapter", default=None, help="Skip training; evaluate this adapter")
    parser.add_argument("--n-test", type=int, default=100)
    parser.add_argument("--max-new-tokens", type=int, default=200)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()

    from echogpt.evaluation.metrics import rouge
    from echogpt.evaluation.stats import bootstrap_ci, paired_bootstrap_diff
    from echogpt.model.generate import GenerateConfig, run_generation
    from echogpt.model.recipes import load_train_config
    from echogpt.model.train import read_studies, train_sft
    from echogpt.schemas import Prediction

    out, data = Path(args.out), Path(args.data)
    out.mkdir(parents=True, exist_ok=True)
    report: dict = {"config": args.config, "n_test": args.n_test}
    adapter = Path(args.adapter) if args.adapter else out / "adapter"
    if not args.adapter:
        cfg = load_train_config(args.config, args.overrides, train_file=str(data / "train.jsonl"),
                                val_file=str(data / "val.jsonl"))
        t0 = time.time()
        result = train_sft(cfg, adapter, command=f"benchmarks/finetune_quality.py --config {args.config}")
        report["train"] = {"seconds": round(time.time() - t0, 1), "steps": result.steps,
                           "examples": result.train_examples, "truncated": result.truncated_examples,
                           "best_val_loss": result.best_val_loss, "peak_rss_mb": round(peak_rss_mb())}
    test = out / "test.jsonl"
    studies = read_studies(data / "test.jsonl")[: args.n_test]
    test.write_text("".join(s.model_dump_json(exclude_none=True) + "\n" for s in studies))
    refs = [s.impression or "" for s in studies]
    systems = {"fine-tuned": GenerateConfig(mode="fine-tuned", adapter=str(adapter),
                                            max_new_tokens=args.max_new_tokens),
               "zero-shot": GenerateConfig(mode="zero-shot", max_new_tokens=args.max_new_tokens),
               "template": GenerateConfig(mode="template")}
    scores: dict[str, list[float]] = {}
    for name, config in systems.items():
        path = out / f"pred-{name}.jsonl"
        t0 = time.time()
        run_generation(test, path, config)
        rows = {p.study_id: p for p in map(Prediction.model_validate_json, path.read_text().splitlines())}
        preds = [rows[s.study_id] for s in studies]
        scores[name] = [r["rougeL"] for r in rouge(refs, preds)["per_sample"]]
        ci = bootstrap_ci(scores[name])
        report[name] = {"rougeL": round(ci.estimate, 4), "ci95": [round(ci.low, 4), round(ci.high, 4)],
                        "stop_rate": sum(p.stopped for p in preds) / len(preds),
                        "mean_new_tokens": sum(p.new_tokens for p in preds) / len(preds),
                        "seconds": round(time.time() - t0, 1), "peak_rss_mb": round(peak_rss_mb())}
    for other in ("zero-shot", "template"):
        d = paired_bootstrap_diff(scores["fine-tuned"], scores[other])
        report[f"fine-tuned minus {other}"] = {"rougeL": round(d.estimate, 4),
                                               "ci95": [round(d.low, 4), round(d.high, 4)]}
    (out / "quality.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
