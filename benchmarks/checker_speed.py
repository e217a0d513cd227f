"""Checks per second of the hallucination checker on one core (synthetic studies and their impressions).

Cold: every study seen for the first time (its findings prose extracted and its structured fields
graded). Warm: the same studies checked again (study facts cached, as in the copilot's edit loop).

    python3 benchmarks/checker_speed.py --n 1000
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of synthetic studies")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    from echogpt import facts, study_facts
    from echogpt.hallucination import check
    from echogpt.synthetic import generate_corpus

    studies = [s for s in generate_corpus(args.n, seed=args.seed) if s.impression]
    check(studies[0].impression or "", studies[0])  # compile the rules once
    study_facts._CACHE.clear()
    facts._extract_cached.cache_clear()
    t0 = time.perf_counter()
    for s in studies:
        check(s.impression or "", s)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    for s in studies:
        check(s.impression or "", s)
    warm = time.perf_counter() - t0
    print(f"studies: {len(studies)}")
    print(f"cold checks/s (new studies): {len(studies) / cold:.0f}")
    print(f"warm checks/s (cached study facts): {len(studies) / warm:.0f}")


if __name__ == "__main__":
    main()
