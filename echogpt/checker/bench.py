"""Measuring the hallucination checker: errors injected into correct impressions, and false alarms.

Six error types (``injection.py``) are injected into impressions that are correct for their study
(synthetic references, or the statements of the hand-written set annotated as supported): severity
change, number change, negation flip, invented finding, valve/chamber swap and omitted critical
finding. A number changed within its tolerance is a negative case (it must not be flagged).

    report = run_benchmark(studies=Path("corpus/test.jsonl"), seed=0)
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from echogpt.checker.check import check
from echogpt.checker.injection import ERROR_TYPES, Case, inject
from echogpt.schemas import Study
from echogpt.text import number_statements, split_statements

FLAGS = ("contradicted", "unsupported")


def _flagged(result: Any, i: int) -> bool:
    return result.statements[i].verdict in FLAGS if i < len(result.statements) else False


def _load(studies: Path | None, handwritten: Path | None, limit: int | None) -> list[Case]:
    cases: list[Case] = []
    if studies is not None:
        from echogpt.data.load import FileError, load_studies

        path = Path(studies) / "test.jsonl" if Path(studies).is_dir() else Path(studies)
        try:
            loaded = load_studies(path).studies
        except FileError as err:
            raise ValueError(str(err)) from None
        for s in loaded:
            if s.impression:
                texts = [x.text for x in split_statements(s.impression)]
                cases.append(Case(s.study_id, "unmodified", s, texts))
    else:
        path = Path(handwritten or ".") / "pairs.jsonl"
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
            rows = [json.loads(line) for line in lines if line.strip()]
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"cannot read {path}: {err}") from None
        for r in rows:
            keep = [s["text"] for s in r["statements"] if s["verdict"] in ("supported", "not_factual")]
            if keep:
                cases.append(Case(r["pair_id"], "unmodified", Study.model_validate(r["study"]), keep))
    if not cases:
        raise ValueError("no studies with impressions to benchmark")
    return cases[:limit] if limit else cases


def run_benchmark(studies: Path | None = None, handwritten: Path | None = None, seed: int = 0,
                  limit: int | None = None, out: Path | None = None) -> dict[str, Any]:
    """Inject errors, check every case and score the checker.

    Args:
        studies: A study file with reference impressions (synthetic corpus).
        handwritten: The hand-written set's folder (its supported statements are the clean base).
        seed: Seed of the injection choices.
        limit: At most this many base impressions.
        out: Where to write the JSON report (optional).

    Returns:
        ``{"recall": {type: r}, "counts": …, "precision": p, "false_alarm_rate": f, "not_checked_rate": n,
        "within_tolerance_flagged": w, "misses": […]}``.
    """
    rng = random.Random(seed)
    base = _load(studies, handwritten, limit)
    cases = list(base)
    for c in base:
        for kind in ERROR_TYPES:
            cases += inject(c, kind, rng)
    # the hand-written base drops annotated errors, which may leave findings unstated
    score = _Score()
    for c in cases:
        score.add(c, check(number_statements(c.statements), c.study), omissions_count=studies is not None)
    tp = sum(score.hit.values())
    flagged = tp + score.alarms + score.near_flagged
    report = {
        "source": str(studies or handwritten), "seed": seed, "impressions": len(base),
        "recall": {k: (score.hit[k] / score.total[k] if score.total[k] else None) for k in ERROR_TYPES},
        "counts": {k: {"injected": score.total[k], "detected": score.hit[k]} for k in ERROR_TYPES},
        "precision": tp / flagged if flagged else None,
        "false_alarm_rate": score.alarms / score.statements if score.statements else None,
        "unmodified_statements": score.statements, "false_alarms": score.alarms,
        # a claim the checker cannot judge is neither a flag nor a support: its share is reported
        # beside recall and false alarms so that none of the three improves at another's expense
        "not_checked": score.not_checked,
        "not_checked_rate": score.not_checked / score.statements if score.statements else None,
        "within_tolerance_cases": score.near, "within_tolerance_flagged": score.near_flagged,
        "misses": score.misses,
    }
    if handwritten is not None:
        report["annotated"] = annotated_accuracy(handwritten, limit)
    if out is not None:
        Path(out).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return report


@dataclass
class _Score:
    """Detections per error type, false alarms on unmodified statements, and what was missed."""

    hit: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ERROR_TYPES, 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ERROR_TYPES, 0))
    alarms: int = 0
    statements: int = 0
    not_checked: int = 0
    near: int = 0
    near_flagged: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)

    def add(self, c: Case, result: Any, omissions_count: bool) -> None:
        """One case's check result (``omissions_count``: omissions of an unmodified case are alarms)."""
        if c.kind == "unmodified":
            self.statements += len(result.statements)
            self.not_checked += sum(1 for s in result.statements if s.verdict == "not_checked")
            bad = [s for s in result.statements if s.verdict in FLAGS]
            self.alarms += len(bad) + (len(result.omissions) if omissions_count else 0)
            self.misses += [{"case": c.source, "kind": "false_alarm", "text": s.text, "reason": s.reason}
                            for s in bad]
            return
        if c.kind == "within_tolerance":
            self.near += 1
            if _flagged(result, c.target or 0):
                self.near_flagged += 1
                self.misses.append({"case": c.source, "kind": "within_tolerance_flagged",
                                    "text": c.statements[c.target or 0]})
            return
        self.total[c.kind] += 1
        if c.kind == "omitted_critical":
            found = any(o.finding == c.omission for o in result.omissions)
        else:
            found = _flagged(result, c.target or 0)
        self.hit[c.kind] += found
        if not found:
            self.misses.append({"case": c.source, "kind": c.kind, "omission": c.omission,
                                "text": c.statements[c.target] if c.target is not None else None})


def annotated_accuracy(folder: Path, limit: int | None = None) -> dict[str, Any]:
    """The checker against the hand-written verdicts themselves (no injection).

    Args:
        folder: The hand-written set's folder (``pairs.jsonl``).
        limit: At most this many pairs.

    Returns:
        4-class verdict accuracy, recall of each annotated error type (flagged as contradicted or
        unsupported), false alarms on statements annotated supported or not_factual, and the
        recall of annotated critical omissions.
    """
    rows = [json.loads(x) for x in (Path(folder) / "pairs.jsonl").read_text(encoding="utf-8").splitlines()
            if x.strip()][:limit]
    same = total = clean = alarms = omitted = found = 0
    caught: dict[str, list[int]] = {}
    for r in rows:
        result = check(r["impression"], Study.model_validate(r["study"]))
        for want, got in zip(r["statements"], result.statements, strict=False):
            total += 1
            same += want["verdict"] == got.verdict
            flagged = got.verdict in FLAGS
            if want["verdict"] in FLAGS:
                caught.setdefault(want.get("error_type", "other"), []).append(flagged)
            else:
                clean += 1
                alarms += flagged
        omitted += len(r["omitted_critical"])
        found += min(len(r["omitted_critical"]), len(result.omissions))
    return {"pairs": len(rows), "verdict_accuracy": same / total if total else None,
            "error_recall": {k: sum(v) / len(v) for k, v in sorted(caught.items())},
            "false_alarm_rate": alarms / clean if clean else None,
            "omission_recall": found / omitted if omitted else None}


def format_report(report: dict[str, Any]) -> str:
    """The report as a plain-text table.

    Args:
        report: What ``run_benchmark`` returned.

    Returns:
        One line per error type (injected, detected, recall), then false alarms and precision.
    """
    head = f"checker benchmark: {report['source']} ({report['impressions']} impressions, "
    lines = [head + f"seed {report['seed']})",
             f"{'error type':<22}{'injected':>9}{'detected':>9}{'recall':>8}"]
    for k in ERROR_TYPES:
        c, r = report["counts"][k], report["recall"][k]
        lines.append(f"{k:<22}{c['injected']:>9}{c['detected']:>9}{'-' if r is None else f'{r:.3f}':>8}")
    fa = report["false_alarm_rate"]
    prec = report["precision"]
    lines.append(f"false alarms on unmodified statements: {report['false_alarms']}/"
                 f"{report['unmodified_statements']} ({0 if fa is None else fa:.2%})")
    nc = report.get("not_checked_rate")
    lines.append(f"not checked (no rule verifies them): {report.get('not_checked', 0)}/"
                 f"{report['unmodified_statements']} ({0 if nc is None else nc:.2%})")
    lines.append(f"within-tolerance number changes flagged: {report['within_tolerance_flagged']}/"
                 f"{report['within_tolerance_cases']}")
    lines.append(f"precision: {'-' if prec is None else f'{prec:.3f}'}")
    a = report.get("annotated")
    if a:
        recall = ", ".join(f"{k} {v:.3f}" for k, v in a["error_recall"].items())
        om = a["omission_recall"]
        lines.append(f"annotated verdicts ({a['pairs']} pairs): accuracy {a['verdict_accuracy']:.3f}; "
                     f"recall {recall}; false alarms {a['false_alarm_rate']:.2%}; "
                     f"omission recall {'-' if om is None else f'{om:.3f}'}")
    return "\n".join(lines)
