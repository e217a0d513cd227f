"""Commands of the checker: check one impression against its study, and its injected-error benchmark.

    echogpt check --study study.json --impression @impression.txt
"""

from __future__ import annotations

from pathlib import Path

import typer

from echogpt.cli.errors import fail


def check_cmd(
    study: Path = typer.Option(..., help="The study as a JSON file (or one JSONL line)"),
    impression: str = typer.Option(..., help="Impression text, or @FILE to read it from a file"),
    as_json: bool = typer.Option(False, "--json", help="Print the CheckResult as JSON"),
    profile: str = typer.Option("default", help="Lab profile (guideline schemes the lab grades by)"),
) -> None:
    """Check an impression against its study. Exit 0: nothing flagged; 1: flagged; 2: bad input."""
    from echogpt.checker.check import check, format_result, read_impression
    from echogpt.model.prompts import load_study_file

    try:
        result = check(read_impression(impression), load_study_file(study), profile)
    except (ValueError, KeyError) as err:
        fail(str(err.args[0]) if isinstance(err, KeyError) else str(err))
    typer.echo(result.model_dump_json(indent=2) if as_json else format_result(result))
    raise typer.Exit(1 if result.flagged else 0)


def bench_checker_cmd(
    studies: Path = typer.Option(None, help="Studies with reference impressions (echogpt synth output)"),
    handwritten: Path = typer.Option(None, help="Folder of the hand-written set (pairs.jsonl)"),
    seed: int = typer.Option(0, help="Random seed for the injected errors"),
    out: Path = typer.Option(None, help="Write the full report as JSON here"),
    limit: int = typer.Option(None, min=1, help="Use at most this many studies"),
) -> None:
    """Inject six kinds of error into correct impressions; report recall per type and false alarms."""
    from echogpt.checker.bench import format_report, run_benchmark

    if (studies is None) == (handwritten is None):
        fail("give exactly one of --studies FILE or --handwritten DIR")
    try:
        report = run_benchmark(studies=studies, handwritten=handwritten, seed=seed, limit=limit, out=out)
    except ValueError as err:
        fail(str(err))
    typer.echo(format_report(report))
