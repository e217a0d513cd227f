"""Checks per second of the hallucination checker on one core (synthetic studies and their impressions).

Cold: every study seen for the first time (its findings prose extracted and its structured fields
graded). Warm: each study checked again right after (study facts cached, as in the copilot's edit loop).

    python3 benchmarks/checker_speed.py --n 1000
    python3 benchmarks/checker_speed.py --pairs tests/fixtures/checker_eval/pairs.jsonl  # hand-written
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of synthetic studies")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pairs", help="check the study/impression pairs of this JSONL file instead")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    from echogpt.checker import facts, study_facts
    from echogpt.checker.check import check
    from echogpt.synth.corpus import generate_corpus

    if args.pairs:
        import json

        from echogpt.schemas import Study

        with open(args.pairs, encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        studies = [Study.model_validate(r["study"]).model_copy(update={"impression": r["impression"]})
                   for r in rows]
    else:
        studies = [s for s in generate_corpus(args.n, seed=args.seed) if s.impression]
    check(studies[0].impression or "", studies[0])  # compile the rules once
    for cached in (study_facts._study_facts, facts._sentence):
        cached.cache_clear()  # every cache of the checker's: nothing of a study is seen before
    spent = {"cold": [0.0, 0.0], "warm": [0.0, 0.0]}  # label -> [wall, CPU] seconds
    for s in studies:
        for label in ("cold", "warm"):
            wall, cpu = time.perf_counter(), time.process_time()
            check(s.impression or "", s)
            spent[label][0] += time.perf_counter() - wall
            spent[label][1] += time.process_time() - cpu
    n = len(studies)
    rates = {label: (n / wall, n / cpu) for label, (wall, cpu) in spent.items()}
    print(f"studies: {len(studies)}")
    # CPU time is the one-core figure; wall time also counts waiting for a busy machine
    for label, what in (("cold", "new studies"), ("warm", "cached study facts")):
        wall_rate, cpu_rate = rates[label]
        print(f"{label} checks/s ({what}): {cpu_rate:.0f} per CPU-second, {wall_rate:.0f} wall")


if __name__ == "__main__":
    main()
