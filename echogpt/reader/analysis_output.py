"""A reader-study analysis written out: ``analysis.json``, one CSV per table and the plots in a
folder, and the terminal summary ``echogpt reader-study analyze`` prints.

    result = analyze_to_folder("pilot", Path("out")); print(format_analysis(result))
"""

from __future__ import annotations

from pathlib import Path

from echogpt.files import csv_safe
from echogpt.reader.plots import plot_analysis
from echogpt.reader.stats import Analysis, analyze
from echogpt.review.store import Store


def write_analysis(result: Analysis, out_dir: str | Path) -> list[Path]:
    """Write the analysis as ``analysis.json``, one CSV per table and the plots; returns the paths."""
    import csv

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "analysis.json"]
    paths[0].write_text(result.model_dump_json(indent=2), encoding="utf-8")
    for name in ("preference", "likert", "likert_tests", "agreement", "per_reader", "correlation",
                 "time_on_task"):
        rows = getattr(result, name)
        if rows:
            path = out / f"{name}.csv"
            with open(path, "w", newline="", encoding="utf-8") as f:
                writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
                writer.writeheader()
                writer.writerows({k: csv_safe(v) for k, v in r.items()} for r in rows)
            paths.append(path)
    return paths + plot_analysis(result, out)


def agreement_note(result: Analysis) -> str | None:
    """Why the agreement table is empty or holds no alpha, in a line; None when it has one."""
    readers = len({r["reader"] for r in result.per_reader})
    if any(r["units_rated_twice"] for r in result.agreement):
        return None
    answered = f"{readers} reader{'s' if readers != 1 else ''} answered so far"
    if readers < 2:
        return f"Agreement needs two or more readers on the same cases: {answered}."
    return f"Agreement needs two or more readers on the same cases: {answered}, on different cases."


def format_analysis(result: Analysis) -> str:
    """A terminal summary: preference means with Wilcoxon p, Likert means, alpha per dimension."""
    lines = [f"reader study {result.study}: {result.n_ratings} answered tasks"]
    lines += [f"  {r['A']} vs {r['B']} {r['dimension']}: mean {r['mean_toward_B']:+.2f} toward "
              f"{r['B']} (n={r['n']}, Wilcoxon p={r['p_value']})" for r in result.preference]
    lines += [f"  Likert {r['source']} {r['dimension']}: {r['mean']:.2f} (n={r['n']})"
              for r in result.likert]
    note = agreement_note(result)
    if note:
        lines.append(f"  {note}")
    else:
        lines += [f"  alpha ({r['kind']}, {r['dimension']}): {r['alpha_ordinal']}"
                  for r in result.agreement]
    return "\n".join(lines)


def analyze_to_folder(name: str, out_dir: str | Path, metric: str = "rouge") -> Analysis:
    """``analyze`` as the local admin, written to ``out_dir`` (``write_analysis``)."""
    db = Store()
    try:
        result = analyze(db, db.cli_user(), name, metric)
    finally:
        db.dispose()
    write_analysis(result, out_dir)
    return result
