"""How a command fails: one red line on stderr and an exit code, never a traceback.

    fail("no such study", 2)
"""

from __future__ import annotations

import typer


def fail(message: str, code: int = 2) -> None:
    """Print a one-line error to stderr and exit with ``code``."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)
