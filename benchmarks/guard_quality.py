"""Guarded against unguarded drafting on the same studies (never in CI): draft latency, both timed in
one run and alternating which goes first, and the checker's contradicted and unsupported statement
rates and critical omissions, on synthetic test studies with the embedded model and the shipped
adapter (the llama.cpp engine where it is installed).

    echogpt synth --n 200 --seed 0 --out /tmp/synth      # 20 test studies
    python benchmarks/guard_quality.py --studies /tmp/synth/test.jsonl --out runs/guard-bench.json

Each draft starts from an empty cache (``forget``) so neither pays or profits for the other. The
guard's own numbers are what it optimises; the unguarded column is the model as it is.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path


def _rates(rows: list[dict]) -> dict:
    statements = sum(r["statements"] for r in rows) or 1
    return {"contradicted_rate": round(sum(r["contradicted"] for r in rows) / statements, 4),
            "unsupported_rate": round(sum(r["unsupported"] for r in rows) / statements, 4),
            "studies_with_omissions": round(sum(r["omissions"] > 0 for r in rows) / max(1, len(rows)), 4),
            "statements": statements,
            "seconds_median": round(statistics.median(r["seconds"] for r in rows), 2),
            "seconds_mean": round(statistics.mean(r["seconds"] for r in rows), 2)}


def _flags(row: dict) -> tuple[int, int, int, int]:
    return row["contradicted"], row["unsupported"], row["omissions"], row["statements"]


def _row(text: str, seconds: float, study) -> dict:
    from echogpt.checker.check import check

    s = check(text, study).summary
    n = sum(v for k, v in s.items() if k != "omissions")
    return {"statements": n, "contradicted": s["contradicted"], "unsupported": s["unsupported"],
            "omissions": s["omissions"], "seconds": seconds, "text": text}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", required=True, help="Studies JSONL (the synthetic test split)")
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--adapter", default="echogpt/adapters/smollm2-echo-demo")
    parser.add_argument("--engine", default="auto")
    parser.add_argument("--candidates", type=int, default=3)
    parser.add_argument("--out", default=None, help="JSON with every draft and the summary")
    args = parser.parse_args()

    from echogpt.model.generator import load_generator
    from echogpt.model.guard import GuardConfig, guarded_generate
    from echogpt.model.train import read_studies

    gen = load_generator(adapter=args.adapter, engine=args.engine)
    studies = read_studies(args.studies)[: args.n]
    config = GuardConfig(candidates=args.candidates)

    def forget() -> None:
        if gen.engine is not None:
            gen.engine.forget()

    def plain(study) -> dict:
        forget()
        t0 = time.perf_counter()
        p = gen.generate_batch([study], "fine-tuned")[0]
        return _row(p.impression, time.perf_counter() - t0, study)

    def guarded(study) -> dict:
        forget()
        t0 = time.perf_counter()
        d = guarded_generate(gen, study, config=config)
        row = _row(d.text, time.perf_counter() - t0, study)
        row["interventions"] = [i.kind for i in d.interventions]
        return row

    plain(studies[0])  # warm-up: weights paged in, nothing timed
    rows: dict[str, list[dict]] = {"unguarded": [], "guarded": []}
    for i, study in enumerate(studies):
        order = [("unguarded", plain), ("guarded", guarded)]
        for name, fn in order if i % 2 == 0 else order[::-1]:
            rows[name].append(fn(study) | {"study_id": study.study_id})
        ratio = rows["guarded"][-1]["seconds"] / max(rows["unguarded"][-1]["seconds"], 1e-6)
        print(f"{study.study_id}: unguarded {rows['unguarded'][-1]['seconds']:.1f} s, guarded "
              f"{rows['guarded'][-1]['seconds']:.1f} s ({ratio:.2f}x), "
              f"interventions {rows['guarded'][-1]['interventions']}; flags (contradicted, unsupported, "
              f"omissions, statements) unguarded {_flags(rows['unguarded'][-1])} guarded "
              f"{_flags(rows['guarded'][-1])}", flush=True)
    ratios = [g["seconds"] / u["seconds"] for g, u in zip(rows["guarded"], rows["unguarded"], strict=True)]
    kinds = [k for r in rows["guarded"] for k in r["interventions"]]
    summary = {"engine": gen.engine_name, "adapter": args.adapter, "studies": len(studies),
               "candidates": args.candidates,
               "unguarded": _rates(rows["unguarded"]), "guarded": _rates(rows["guarded"]),
               "latency_ratio_median": round(statistics.median(ratios), 2),
               "latency_ratio_mean": round(statistics.mean(ratios), 2),
               "interventions": {k: kinds.count(k) for k in sorted(set(kinds))}}
    print(json.dumps(summary, indent=2))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"summary": summary, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
