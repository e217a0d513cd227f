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


def main() -> None:  # pragma: no cover - console entry for `python -m echogpt`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

