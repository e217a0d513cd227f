"""Drafting systems side by side (never in CI): each adapter unguarded and guarded, and the template,
on one or more study sets, through the product's own commands (`echogpt generate`, batch size 1, then
`echogpt evaluate`). Prints one markdown table per set: the checker's contradicted and unsupported
statement rates (means per study), critical and high-severity omissions, fact-F1 against the
reference, ROUGE-L, BERTScore, the share stopped on end-of-turn and the median draft seconds.

    echogpt synth --n 2000 --seed 0 --out /tmp/synth && head -100 /tmp/synth/test.jsonl > synth100.jsonl
    python benchmarks/draft_systems.py --set synth=synth100.jsonl --set other=other.jsonl \\
        --system shipped=echogpt/adapters/smollm2-echo-demo --system new=runs/shipped --out runs/systems

Drafting resumes (each predictions file is appended to), so a stopped run continues where it was. The
systems draft one after another, not interleaved: the seconds column drifts with the machine, and the
guard's latency ratio is measured alternately by ``benchmarks/guard_quality.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

COLUMNS = [("contradicted_rate", "contradicted", 3), ("unsupported_rate", "unsupported", 3),
           ("critical_omission", "critical omitted", 2), ("high_omission", "high omitted", 2),
           ("fact_f1", "fact-F1", 3), ("rougeL", "ROUGE-L", 3), ("bertscore_f1", "BERTScore F1", 3),
           ("stopped", "stopped", 2)]


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            sys.exit(f"--{what} {item!r}: expected NAME=PATH")
        out[name] = value
    return out


def _generate(studies: str, out: Path, args: list[str]) -> None:
    cmd = ["echogpt", "generate", "--studies", studies, "--out", str(out), "--batch-size", "1", *args]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def _seconds(path: Path) -> float:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return statistics.median(r["seconds"] for r in rows) if rows else float("nan")


def _table(name: str, metrics: dict, files: dict[str, Path]) -> str:
    head = "| system | " + " | ".join(label for _, label, _ in COLUMNS) + " | median s |"
    lines = [f"**{name}** ({metrics['n_studies']} studies)", "", head,
             "|" + "---|" * (len(COLUMNS) + 2)]
    for system, summary in metrics["summary"].items():
        cells = []
        for key, _, digits in COLUMNS:
            m = summary.get(key)
            cells.append("n/a" if not m or m["mean"] is None else
                         f"{m['mean']:.{digits}f} [{m['ci_low']:.{digits}f}, {m['ci_high']:.{digits}f}]")
        seconds = "-" if system == "template" else f"{_seconds(files[system]):.1f}"
        lines.append(f"| {system} | " + " | ".join(cells) + f" | {seconds} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="sets", action="append", required=True, help="NAME=STUDIES.jsonl")
    parser.add_argument("--system", dest="systems", action="append", required=True,
                        help="NAME=ADAPTER folder; drafted with --guard off and on")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--guard-candidates", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--n-boot", type=int, default=2000)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tables = []
    for set_name, studies in _pairs(args.sets, "set").items():
        files = {"template": args.out / f"{set_name}-template.jsonl"}
        _generate(studies, files["template"], ["--mode", "template"])
        for system, adapter in _pairs(args.systems, "system").items():
            for guard in ("off", "on"):
                label = f"{system} {'guarded' if guard == 'on' else 'unguarded'}"
                files[label] = args.out / f"{set_name}-{system}-{guard}.jsonl"
                _generate(studies, files[label], ["--adapter", adapter, "--guard", guard,
                                                  "--guard-candidates", str(args.guard_candidates),
                                                  "--max-new-tokens", str(args.max_new_tokens)])
        ev = args.out / f"eval-{set_name}"
        predictions = [arg for label, path in files.items() for arg in ("--predictions", f"{label}={path}")]
        subprocess.run(["echogpt", "evaluate", "--studies", studies, "--out", str(ev),
                        "--n-boot", str(args.n_boot), *predictions],
                       check=True, stdout=subprocess.DEVNULL)
        tables.append(_table(set_name, json.loads((ev / "metrics.json").read_text()), files))
    text = "\n\n".join(tables)
    (args.out / "tables.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
