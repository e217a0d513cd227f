"""``python -m echogpt`` runs the command line."""

from echogpt.cli import app

app()
