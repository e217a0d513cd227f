"""The evaluation command: metrics per system, side by side, with the HTML report.

    echogpt evaluate --studies test.jsonl --predictions ft=ft.jsonl --out eval/
"""

from __future__ import annotations

from pathlib import Path

import typer

from echogpt.cli.errors import fail


def evaluate_cmd(
    studies: Path = typer.Option(..., help="Studies with reference impressions (JSONL/JSON/CSV/Parquet)"),
    predictions: list[str] = typer.Option(..., help="NAME=FILE, a system's predictions; repeat per system"),
    out: Path = typer.Option(..., help="Folder for metrics.json, per_sample.csv and report.html"),
    metric: list[str] = typer.Option(None, help="Metric (repeatable); default: all but critical_omission"),
    n_boot: int = typer.Option(2000, min=100, help="Bootstrap resamples for the 95 % CIs"),
    bertscore_model: str = typer.Option(None, help="Encoder folder for BERTScore (default: embedded MiniLM)"),
) -> None:
    """Metrics per system, side by side: CIs, paired tests, win rates, breakdowns, HTML report."""
    from echogpt.evaluation.suite import (
        DEFAULT_METRICS,
        EvaluationError,
        evaluate,
        parse_named_paths,
        summary_lines,
    )

    try:
        result = evaluate(studies, parse_named_paths(predictions), out, metrics=metric or DEFAULT_METRICS,
                          n_boot=n_boot, bertscore_model=bertscore_model)
    except EvaluationError as err:
        fail(str(err))
    typer.echo("\n".join(summary_lines(result)) + f"\nwrote {out}/metrics.json, per_sample.csv, report.html")
