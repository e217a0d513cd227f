"""Dumps every checker verdict, evidence fact and prose/field conflict, one line each, for comparing
the checker's behaviour before and after a change (the dump must stay byte-identical unless a
difference is explained).

    python3 benchmarks/checker_dump.py --out /tmp/before.txt
    python3 benchmarks/checker_dump.py --out /tmp/after.txt && diff /tmp/before.txt /tmp/after.txt
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

PAIRS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "checker_eval" / "pairs.jsonl"


def _fact_line(e: object) -> str:
    fact = e.located()
    accepted = sorted(e.accepted)
    return json.dumps({"origin": e.origin, "accepted": accepted, "fact": fact.model_dump(mode="json")},
                      sort_keys=True)


def _dump_study(study: object, impression: str, profile: str, out: list[str]) -> None:
    from echogpt.checker.check import check
    from echogpt.checker.study_facts import study_facts

    result = check(impression, study, profile=profile)
    out.append("check " + result.model_dump_json())
    sf = study_facts(study, profile)
    out.extend("evidence " + _fact_line(e) for e in sf.evidence)
    for c in sf.conflicts:
        out.append("conflict " + json.dumps({
            "concept": c.concept, "location": c.location, "reason": c.reason,
            "text": c.text_fact.model_dump(mode="json"), "field": c.field_fact.model_dump(mode="json"),
        }, sort_keys=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1500, help="number of synthetic studies")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    from echogpt.schemas import Study
    from echogpt.synth.corpus import generate_corpus

    out: list[str] = []
    studies = [s for s in generate_corpus(args.n, seed=args.seed) if s.impression]
    for i, s in enumerate(studies):
        _dump_study(s, s.impression or "", "default", out)
        nxt = studies[(i + 1) % len(studies)]
        out.append("cross " + check_only(nxt.impression or "", s))
    rows = [json.loads(line) for line in PAIRS.read_text("utf-8").splitlines() if line.strip()]
    for profile in ("default", "esc"):
        for r in rows:
            _dump_study(Study.model_validate(r["study"]), r["impression"], profile, out)
    Path(args.out).write_text("\n".join(out) + "\n", "utf-8")
    print(f"{len(out)} lines, {len(studies)} synthetic studies, {len(rows)} hand-written pairs x 2 profiles")


def check_only(impression: str, study: object) -> str:
    """One impression checked against another study (many contradictions), as JSON."""
    from echogpt.checker.check import check

    return check(impression, study).model_dump_json()


if __name__ == "__main__":
    main()
