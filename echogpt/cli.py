"""The ``echogpt`` command line: each command parses its input, calls one library function and
prints the result. Heavy libraries load inside the commands that need them.

    echogpt --help
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

app = typer.Typer(
    name="echogpt",
    help="Draft, check and evaluate echocardiography report impressions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int = 2) -> None:
    """Print a one-line error to stderr and exit with ``code``."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print the EchoGPT version."""
    from echogpt import __version__

    typer.echo(__version__)


@app.command("prompt")
def prompt_cmd(
    study_json: Path = typer.Argument(..., help="A Study as a JSON file (or one JSONL line)"),
    render: bool = typer.Option(False, "--render", help="Apply the base model's chat template"),
    base_model: str = typer.Option(None, help="Base model for --render (default: ECHOGPT_BASE_MODEL)"),
) -> None:
    """Print the chat messages built for a study."""
    import json

    from echogpt.prompts import build_messages, load_study_file

    try:
        study = load_study_file(study_json)
    except ValueError as err:
        fail(str(err))
    messages = build_messages(study)
    if not render:
        typer.echo(json.dumps(messages, indent=2, ensure_ascii=False))
        return
    from echogpt.prompts import render_chat

    typer.echo(render_chat(messages, base_model))


@app.command("validate")
def validate_cmd(
    file: Path = typer.Argument(..., help="Study file: .jsonl, .json, .csv, .tsv or .parquet"),
    rejects: Path | None = typer.Option(
        None, help="Rejected rows (JSONL); default <FILE>.rejects.jsonl when any row is rejected"),
    mapping: Path | None = typer.Option(None, help="Column-mapping file (JSON/YAML)"),
    out: Path | None = typer.Option(None, help="Also write the valid studies as canonical JSONL"),
) -> None:
    """Validate a study file: exit 0 all rows valid, 1 some rejected, 2 unreadable file."""
    from echogpt.files import FileError
    from echogpt.validation import validate_file

    try:
        report = validate_file(file, rejects=rejects, mapping=mapping, out=out)
    except FileError as err:
        fail(str(err), 2)
    typer.echo("\n".join(report.lines()))
    raise typer.Exit(report.exit_code)


@app.command("export-schemas")
def export_schemas_cmd(
    out: Path = typer.Option(Path("data_schemas"), help="Folder for the JSON Schemas and examples"),
) -> None:
    """Regenerate the JSON Schemas and example records from echogpt/schemas.py."""
    from echogpt.record_schemas import export_schemas

    paths = export_schemas(out)
    typer.echo(f"{len(paths)} files written to {out}")


def main() -> None:  # pragma: no cover - console entry for `python -m echogpt`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

