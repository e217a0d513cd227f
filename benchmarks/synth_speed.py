"""Synthetic corpus speed on this machine (never in CI): studies/s for generating 10,000 studies,
and for generating plus writing them as train/val/test JSONL.

    python benchmarks/synth_speed.py [--n 10000] [--seed 0]

Target: 10,000 studies in well under a minute.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from echogpt.synth.corpus import generate_corpus, write_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    start = time.perf_counter()
    studies = generate_corpus(args.n, args.seed)
    generate_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write_corpus(tmp, args.n, args.seed)
        write_s = time.perf_counter() - start
    rate = len(studies) / generate_s
    print(f"generate: {len(studies)} studies in {generate_s:.1f} s = {rate:.0f} studies/s")
    print(f"generate + split + write: {args.n} studies in {write_s:.1f} s = {args.n / write_s:.0f} studies/s")


if __name__ == "__main__":
    main()
