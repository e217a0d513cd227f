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


def main() -> None:  # pragma: no cover - console entry for `python -m echogpt`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

