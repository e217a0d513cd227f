"""False alarms of the checker on correct impressions of free-text reports, per report style.

Each style folder of ``tests/fixtures/reports/`` is imported with ``import-reports``; every
impression there is correct for its findings, so any statement the checker calls contradicted or
unsupported, and any omission it reports, is a false alarm; the share of statements it could not
judge (``not_checked``) is reported beside it. ``--root`` points at another folder of style folders
(a held-out set). With ``--recall`` the injected-error
benchmark (``bench-checker``) also runs on each style's imported studies.

    python3 benchmarks/reports_checker.py                 # false alarms per style
    python3 benchmarks/reports_checker.py --recall --json out.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "reports"
FLAGS = ("contradicted", "unsupported")
NOT_STYLES = ("broken", "csv")


def expected_verdicts(folder: Path) -> dict[str, list[dict[str, str]]]:
    """The annotated statements of one style: report file name -> [{text, expected}]."""
    path = folder / "expected.jsonl"
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return {r["report"]: r["statements"] for r in rows}


def measure_style(folder: Path) -> dict[str, Any]:
    """Import one style's reports, check each impression, count false alarms and crashes."""
    from echogpt.checker.check import check
    from echogpt.data.reports import read_reports

    result = read_reports(folder)
    annotated = expected_verdicts(folder)
    pairs = alarmed = statements = flagged = omissions = crashes = agree = 0
    verdicts: Counter[str] = Counter()
    alarms: list[dict[str, Any]] = []
    for study in result.studies:
        if not study.impression:
            continue
        pairs += 1
        try:
            checked = check(study.impression, study)
        except Exception as err:  # noqa: BLE001 - a crash is what this counts
            crashes += 1
            alarms.append({"report": study.study_id, "crash": f"{type(err).__name__}: {err}",
                           "trace": traceback.format_exc(limit=3)})
            continue
        bad = [s for s in checked.statements if s.verdict in FLAGS]
        statements += len(checked.statements)
        flagged += len(bad)
        omissions += len(checked.omissions)
        verdicts.update(s.verdict for s in checked.statements)
        expected = {a["text"]: a["expected"] for a in annotated.get(f"{study.study_id}.txt", [])}
        agree += sum(1 for s in checked.statements if expected.get(s.text) == s.verdict)
        if bad or checked.omissions:
            alarmed += 1
            alarms.append({"report": study.study_id,
                           "statements": [{"text": s.text, "verdict": s.verdict, "reason": s.reason}
                                          for s in bad],
                           "omissions": [o.finding for o in checked.omissions]})
    return {"style": folder.name, "reports": result.reports, "imported": len(result.studies),
            "import_errors": len(result.errors), "pairs": pairs, "crashes": crashes,
            "impressions_flagged": alarmed, "false_alarm_impressions": alarmed / pairs if pairs else None,
            "statements": statements, "statements_flagged": flagged,
            "false_alarm_statements": flagged / statements if statements else None,
            "omissions": omissions, "verdicts": dict(verdicts), "not_checked": verdicts["not_checked"],
            "not_checked_statements": verdicts["not_checked"] / statements if statements else None,
            "agreement": agree / statements if statements else None, "alarms": alarms}


def recall_style(folder: Path, seed: int) -> dict[str, Any]:
    """Injected-error recall per error type on one style's imported studies (bench-checker):
    recall and counts per type, bench-checker's false-alarm rate (omissions included) and the
    within-tolerance number changes flagged, as [flagged, cases]."""
    from echogpt.checker.bench import run_benchmark
    from echogpt.data.reports import read_reports
    from echogpt.files import write_jsonl

    studies = [s for s in read_reports(folder).studies if s.impression]
    if not studies:
        return {"recall": {}, "counts": {}, "bench_false_alarm_rate": None, "within_tolerance": [0, 0]}
    with tempfile.TemporaryDirectory() as tmp:
        path = write_jsonl(studies, Path(tmp) / "studies.jsonl", exclude_none=True)
        report = run_benchmark(studies=path, seed=seed)
    return {"recall": report["recall"], "counts": report["counts"],
            "bench_false_alarm_rate": report["false_alarm_rate"],
            "within_tolerance": [report["within_tolerance_flagged"], report["within_tolerance_cases"]]}


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:5.1f}%"


def table(rows: list[dict[str, Any]]) -> str:
    """The per-style table: pairs, crashes, flagged impressions, statement false alarms (and which
    flags: contradicted / unsupported / omissions, counts only, so a held-out set's texts stay
    unread), recall."""
    types = sorted({k for r in rows for k in r.get("recall", {})})
    head = ["style", "pairs", "crashes", "impr. flagged", "stmt FA", "c/u/o", "not checked", "agree"]
    head += [t[:12] for t in types]
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    total = {"pairs": 0, "crashes": 0, "impressions_flagged": 0, "statements": 0, "statements_flagged": 0,
             "not_checked": 0, "contradicted": 0, "unsupported": 0, "omissions": 0}
    for r in rows:
        kinds = {"contradicted": r["verdicts"].get("contradicted", 0),
                 "unsupported": r["verdicts"].get("unsupported", 0), "omissions": r["omissions"]}
        for k in total:
            total[k] += kinds[k] if k in kinds else r[k]
        cells = [r["style"], str(r["pairs"]), str(r["crashes"]),
                 f"{r['impressions_flagged']} ({_pct(r['false_alarm_impressions']).strip()})",
                 _pct(r["false_alarm_statements"]), "/".join(str(v) for v in kinds.values()),
                 _pct(r["not_checked_statements"]), _pct(r["agreement"])]
        cells += [_pct(r.get("recall", {}).get(t)) for t in types]
        lines.append(" | ".join(cells))
    p, s = total["pairs"], total["statements"]
    share = _pct(total["impressions_flagged"] / p if p else None).strip()
    flagged = f"{total['impressions_flagged']} ({share})"
    kinds = f"{total['contradicted']}/{total['unsupported']}/{total['omissions']}"
    lines.append(" | ".join(["all", str(p), str(total["crashes"]), flagged,
                             _pct(total["statements_flagged"] / s if s else None), kinds,
                             _pct(total["not_checked"] / s if s else None), ""] + ["" for _ in types]))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="folder of style folders")
    parser.add_argument("--style", action="append", help="only this style (repeatable)")
    parser.add_argument("--recall", action="store_true", help="also run the injected-error benchmark")
    parser.add_argument("--seed", type=int, default=0, help="seed of the injected errors")
    parser.add_argument("--json", type=Path, help="write every row, with each false alarm, here")
    parser.add_argument("--show", action="store_true", help="print each false alarm")
    args = parser.parse_args()
    folders = [f for f in sorted(args.root.iterdir()) if f.is_dir() and f.name not in NOT_STYLES
               and (not args.style or f.name in args.style)]
    rows = []
    for folder in folders:
        row = measure_style(folder)
        if args.recall:
            row.update(recall_style(folder, args.seed))
        rows.append(row)
    print(table(rows))
    if args.show:
        for r in rows:
            for a in r["alarms"]:
                rest = {k: v for k, v in a.items() if k != "report"}
                print(f"{r['style']}/{a['report']}: {json.dumps(rest)}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
