"""The ``reader-study`` group: create a blinded reader study, export its ratings, analyse them.

    echogpt reader-study analyze --name pilot --out pilot/
"""

from __future__ import annotations

from pathlib import Path

import typer

from echogpt.cli.errors import fail

reader_app = typer.Typer(help="Blinded reader studies (admin): create, export, analyze.",
                         no_args_is_help=True)


@reader_app.command("create")
def reader_create_cmd(
    name: str = typer.Option(..., help="Unique study name"),
    cases: Path = typer.Option(..., help="Cases JSONL (docs/reader_study.md)"),
    readers: str = typer.Option(..., help="Comma-separated reader account names"),
    cases_per_reader: int = typer.Option(None, help="Cases each reader rates (default: all)"),
    design: str = typer.Option("preference", help="preference | likert | both"),
    pairs: str = typer.Option("all", help="all | vs_reference (which pairs are shown)"),
    reference: str = typer.Option(None, help="Reference source (metrics; vs_reference pairs)"),
    seed: int = typer.Option(None, help="Seed of the randomisation (default: drawn, recorded)"),
) -> None:
    """Create a reader study from a cases file."""
    from echogpt.reader.admin import create_from_file

    try:
        summary = create_from_file(name, cases, readers.split(","), cases_per_reader, design, pairs,
                                   reference, seed)
    except (ValueError, LookupError) as err:
        fail(str(err))
    typer.echo(f"reader study {name}: {summary.cases} cases, {len(summary.readers)} readers, "
               f"seed {summary.seed}")


@reader_app.command("export")
def reader_export_cmd(name: str = typer.Option(..., help="Study name"),
                      out: Path = typer.Option(..., help="CSV of raw ratings with the source key")) -> None:
    """Export the raw ratings with the unblinding key (admin)."""
    from echogpt.reader.admin import export_to_file

    try:
        n = export_to_file(name, out)
    except LookupError as err:
        fail(str(err))
    typer.echo(f"{n} rating rows written to {out}")


@reader_app.command("analyze")
def reader_analyze_cmd(name: str = typer.Option(..., help="Study name"),
                       out: Path = typer.Option(..., help="Folder for tables and plots"),
                       metric: str = typer.Option("rouge", help="Automatic metric to correlate")) -> None:
    """Analyse a reader study: tests, agreement, per-reader breakdown, correlations, plots."""
    from echogpt.reader.analysis_output import analyze_to_folder, format_analysis

    try:
        result = analyze_to_folder(name, out, metric)
    except (LookupError, ValueError) as err:
        fail(str(err))
    typer.echo(format_analysis(result) + f"\ntables and plots in {out}")
