"""Commands of the review part: accounts (the ``users`` group) and the feedback export.

    echogpt users add --name admin --role admin
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from echogpt.cli.errors import fail

users_app = typer.Typer(help="Accounts (cardiologist, reader, admin).", no_args_is_help=True)


@users_app.command("add")
def users_add_cmd(
    name: str = typer.Option(..., help="Log-in name (no spaces)"),
    role: str = typer.Option(..., help="cardiologist | reader | admin"),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Read the password from the first line of stdin"),
) -> None:
    """Create an account (the first admin is made this way)."""
    from echogpt.review.users import create_account

    password = (sys.stdin.readline().rstrip("\r\n") if password_stdin
                else typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    try:
        user = create_account(name, role, password)
    except ValueError as err:
        fail(str(err))
    typer.echo(f"created {user.role.value} account '{user.name}'")


@users_app.command("set-password")
def users_set_password_cmd(
    name: str = typer.Option(..., help="The account's log-in name"),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Read the new password from the first line of stdin"),
) -> None:
    """Set an account's password (asked twice, not echoed)."""
    from echogpt.review.users import reset_password

    password = (sys.stdin.readline().rstrip("\r\n") if password_stdin
                else typer.prompt("New password", hide_input=True, confirmation_prompt=True))
    try:
        reset_password(name, password)
    except ValueError as err:
        fail(str(err))
    typer.echo(f"password of '{name}' changed")


def export_feedback_cmd(out: Path = typer.Option(..., help="Folder for the exported records"),
                        adapter: Path = typer.Option(
                            None, help="Adapter folder that will train on the export (its prompt "
                            "settings render the records); default the active adapter version")) -> None:
    """Approved finals -> SFT records; edited drafts -> preference pairs (identifiers held back)."""
    from echogpt.review.feedback import export_feedback_to

    try:
        report = export_feedback_to(out, adapter=adapter)
    except (ValueError, OSError) as err:
        fail(str(err))
    typer.echo("\n".join(report.lines()))
