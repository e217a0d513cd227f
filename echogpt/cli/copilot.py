"""Commands that run the copilot: the Streamlit app, the first-run quickstart and the batch worker.

    echogpt quickstart --port 8501
"""

from __future__ import annotations

import typer

from echogpt.cli.errors import fail


def app_cmd(port: int = typer.Option(8501, help="TCP port"),
            address: str = typer.Option("127.0.0.1", help="Interface (0.0.0.0: all)")) -> None:
    """Run the Streamlit copilot (headless) until stopped."""
    from echogpt.quickstart import run_app

    typer.echo(f"EchoGPT copilot: http://{address}:{port}")
    try:
        code = run_app(port, address)
    except ValueError as exc:
        fail(str(exc))
    raise typer.Exit(code)


def quickstart_cmd(port: int = typer.Option(8501, help="TCP port"),
                   address: str = typer.Option("127.0.0.1", help="Interface (0.0.0.0: all)"),
                   start: bool = typer.Option(True, help="Start the copilot after setting up")) -> None:
    """First-run setup (database, demo accounts and worklist, model), then start the copilot."""
    from echogpt.quickstart import run_app, setup

    try:
        result = setup()
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        fail(f"setup failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    typer.echo(result.summary())
    if start:
        typer.echo(f"EchoGPT copilot: http://{address}:{port}  (Ctrl-C stops it)")
        try:
            code = run_app(port, address)
        except ValueError as exc:
            fail(str(exc))
        raise typer.Exit(code)


def batch_worker_cmd(job: int = typer.Option(..., "--job", help="Batch job id (from the app)"),
                     chunk: int = typer.Option(8, min=1, help="Studies claimed per transaction")) -> None:
    """Run a batch generation job: draft and check its pending studies; safe to kill and rerun."""
    from echogpt.batch.worker import run_worker
    from echogpt.review.database import NotFound

    try:
        summary = run_worker(job, chunk=chunk,
                             progress=lambda n: typer.echo(f"job {job}: {n} studies finished"))
    except NotFound as err:
        fail(str(err))
    typer.echo(f"job {job} {summary.status}: {summary.drafted} drafted, {summary.failed} failed, "
               f"{summary.released} claims of a stopped worker released")
    raise typer.Exit(0 if summary.status in ("done", "busy") else 1)
