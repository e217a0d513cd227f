"""Commands that send signed reports out: FHIR R4 Bundles and printable PDFs.

    echogpt export-report --study S1 --out S1.pdf
"""

from __future__ import annotations

from pathlib import Path

import typer

from echogpt.cli.errors import fail


def export_fhir_cmd(out: Path = typer.Option(..., help="Folder for one <study_id>.fhir.json Bundle each"),
                    study: list[str] = typer.Option(None, help="Only this study (repeatable)")) -> None:
    """Signed reports as FHIR R4 Bundles: DiagnosticReport, one Observation per measurement, Provenance."""
    from echogpt.interop.fhir import write_bundles
    from echogpt.review.store import NotFound, Store

    db = Store()
    try:
        files = write_bundles(db, db.cli_user(), out, study or None)
    except (NotFound, ValueError, OSError) as err:
        fail(str(err))
    typer.echo(f"{len(files)} FHIR bundle(s) written to {out}")


def export_report_cmd(study: str = typer.Option(..., help="Study ID"),
                      out: Path = typer.Option(..., help="The PDF file to write")) -> None:
    """The report of one study as a printable PDF ("DRAFT" across it until it is signed)."""
    from echogpt.interop.pdf import write_report_pdf
    from echogpt.review.store import NotFound, Store

    db = Store()
    try:
        path = write_report_pdf(db, db.cli_user(), study, out)
    except (NotFound, ValueError, OSError) as err:
        fail(str(err))
    typer.echo(f"report written to {path}")
