"""Batch-job throughput on this machine (never in CI): studies per minute for a batch drafted by
the worker (claims, drafting, the hallucination check, one database write per study) on the
embedded default model, measured end to end from a queued job to its last row.

    python benchmarks/batch_throughput.py --n 1000            # the reported figure
    python benchmarks/batch_throughput.py --n 48 --mode template   # quick; extrapolated to 1,000

With ``--n`` below 1,000 the 1,000-study time is extrapolated linearly from the measured rate
(model load excluded, then added once); the output says which numbers were measured.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="Studies in the batch")
    parser.add_argument("--mode", default="zero-shot", choices=["zero-shot", "template"])
    parser.add_argument("--base-model", default=None, help="Default: the embedded model")
    parser.add_argument("--chunk", type=int, default=8, help="Studies per claim (= generate batch)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from echogpt.batch import jobs as batch
    from echogpt.batch import worker as batch_worker
    from echogpt.review.store import Store
    from echogpt.synth.corpus import generate_corpus

    work = Path(tempfile.mkdtemp(prefix="echogpt-batch-bench-"))
    db = Store(f"sqlite:///{work / 'bench.sqlite'}")
    user = db.cli_user()
    studies = generate_corpus(args.n, args.seed)[: args.n]
    job = batch.create_job(db, user, studies, mode=args.mode, base_model=args.base_model)
    load = 0.0
    if args.mode != "template":
        t0 = time.perf_counter()
        from echogpt.model.generator import load_generator

        load_generator(args.base_model, None)  # cached: the worker reuses it
        load = time.perf_counter() - t0
    t0 = time.perf_counter()
    summary = batch_worker.run_worker(job.id, db.url, chunk=args.chunk)
    seconds = time.perf_counter() - t0
    view = batch.get_job(db, user, job.id)
    rate = 60.0 * summary.drafted / seconds if seconds else float("nan")
    print(f"mode {args.mode}, model {args.base_model or 'embedded default'}, chunk {args.chunk}, "
          f"{summary.drafted} drafted, {summary.failed} failed, {view.flagged} flagged")
    print(f"measured: {summary.drafted} studies in {seconds:.1f} s = {rate:.1f} studies/min "
          f"(model load {load:.1f} s, not included)")
    if args.n < 1000 and rate > 0:
        print(f"extrapolated (linear, from {args.n} studies): 1,000 studies in about "
              f"{1000 / rate:.1f} min + {load:.0f} s model load")
    db.dispose()


if __name__ == "__main__":
    main()
