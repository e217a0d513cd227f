"""The ``echogpt`` command line: the root Typer app and its commands in the order ``--help`` lists
them. Each command parses its input, calls one library function and prints the result; the commands
live beside this file, one module per part of the product, and load heavy libraries inside them.

    echogpt --help
"""

from __future__ import annotations

import typer

from echogpt.cli import checker, copilot, data, evaluation, interop, model, reader, review

app = typer.Typer(
    name="echogpt",
    help="Draft, check and evaluate echocardiography report impressions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def version() -> None:
    """Print the EchoGPT version."""
    from echogpt import __version__

    typer.echo(__version__)


app.command("prompt")(model.prompt_cmd)
app.command("train")(model.train_cmd)
app.command("generate")(model.generate_cmd)
app.command("preference-pairs")(model.preference_pairs_cmd)
app.command("merge")(model.merge_cmd)
app.command("validate")(data.validate_cmd)
app.command("import-sr")(data.import_sr_cmd)
app.command("import-reports")(data.import_reports_cmd)
app.command("export-schemas")(data.export_schemas_cmd)
app.command("app")(copilot.app_cmd)
app.command("quickstart")(copilot.quickstart_cmd)
app.add_typer(review.users_app, name="users")
app.command("export-feedback")(review.export_feedback_cmd)
app.command("export-fhir")(interop.export_fhir_cmd)
app.command("export-report")(interop.export_report_cmd)
app.command("evaluate")(evaluation.evaluate_cmd)
app.command("synth")(data.synth_cmd)
app.command("check")(checker.check_cmd)
app.command("bench-checker")(checker.bench_checker_cmd)
app.command("batch-worker")(copilot.batch_worker_cmd)
app.add_typer(reader.reader_app, name="reader-study")


def main() -> None:  # pragma: no cover - console entry for `python -m echogpt`
    app()
