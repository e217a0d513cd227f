"""Commands that bring studies in: validation, free-text and DICOM SR import, JSON Schemas and the
synthetic corpus.

    echogpt validate studies.csv --mapping lab.mapping.json
"""

from __future__ import annotations

from pathlib import Path

import typer

from echogpt.cli.errors import fail


def validate_cmd(
    file: Path = typer.Argument(..., help="Study file: .jsonl, .json, .csv, .tsv or .parquet"),
    rejects: Path | None = typer.Option(
        None, help="Rejected rows (JSONL); default <FILE>.rejects.jsonl when any row is rejected"),
    mapping: Path | None = typer.Option(None, help="Column-mapping file (JSON/YAML)"),
    out: Path | None = typer.Option(None, help="Also write the valid studies as canonical JSONL"),
) -> None:
    """Validate a study file: exit 0 all rows valid, 1 some rejected, 2 unreadable file."""
    from echogpt.data.validation import validate_file
    from echogpt.files import FileError

    try:
        report = validate_file(file, rejects=rejects, mapping=mapping, out=out)
    except FileError as err:
        fail(str(err), 2)
    typer.echo("\n".join(report.lines()))
    raise typer.Exit(report.exit_code)


def import_sr_cmd(
    paths: list[Path] = typer.Argument(..., help="DICOM SR files or folders (read recursively)"),
    out: Path = typer.Option(..., help="Studies JSONL"),
    issues: Path | None = typer.Option(None, help="Issues JSONL (default <OUT>.issues.jsonl when any)"),
) -> None:
    """DICOM echo SR (TID 5200/5300) -> Study JSONL: exit 0 all taken, 1 some rejected, 2 unreadable file."""
    from echogpt.data.dicom_sr import import_sr, write_import
    from echogpt.files import FileError

    try:
        result = import_sr(paths)
        written = write_import(result, out, issues)
    except FileError as err:
        fail(str(err), 2)
    typer.echo("\n".join(result.lines()) + "\nwritten: " + ", ".join(map(str, written)))
    raise typer.Exit(result.exit_code)


def import_reports_cmd(
    source: Path = typer.Argument(..., help="A folder of .txt reports, a .txt report, or a "
                                            ".csv/.tsv/.jsonl/.parquet file with a report-text column"),
    out: Path = typer.Option(..., help="Study JSONL to write"),
    mapping: Path | None = typer.Option(None, help="Table columns (JSON/YAML): text, study_id, patient_id, "
                                                   "study_date, delimiter"),
    rejects: Path | None = typer.Option(
        None, help="Issues file (JSONL); default <OUT>.rejects.jsonl when there is any issue"),
) -> None:
    """Free-text reports -> studies: exit 0 all imported, 1 some rejected, 2 unreadable input."""
    from echogpt.data.reports import import_reports
    from echogpt.files import FileError

    try:
        result = import_reports(source, out, rejects=rejects, mapping=mapping)
    except FileError as err:
        fail(str(err), 2)
    typer.echo("\n".join([*result.lines(), f"studies written to {out}"]))
    raise typer.Exit(result.exit_code)


def export_schemas_cmd(
    out: Path = typer.Option(Path("data_schemas"), help="Folder for the JSON Schemas and examples"),
) -> None:
    """Regenerate the JSON Schemas and example records from echogpt/schemas/."""
    from echogpt.data.record_schemas import export_schemas

    paths = export_schemas(out)
    typer.echo(f"{len(paths)} files written to {out}")


def synth_cmd(
    n: int = typer.Option(2000, "--n", min=1, help="Number of studies"),
    seed: int = typer.Option(0, help="Random seed (same seed -> byte-identical files)"),
    out: Path = typer.Option(..., help="Folder for train.jsonl, val.jsonl and test.jsonl"),
    profile: str = typer.Option("default", help="Lab profile whose grading words the impressions follow"),
) -> None:
    """Synthetic corpus: studies with findings prose and reference impressions, split 80/10/10 by patient."""
    from echogpt.synth.corpus import write_corpus

    try:
        paths = write_corpus(out, n, seed, profile=profile)
    except (OSError, ValueError) as err:
        fail(str(err))
    counts = {name: sum(1 for _ in path.open(encoding="utf-8")) for name, path in paths.items()}
    typer.echo(", ".join(f"{name} {counts[name]}" for name in paths) + f" studies written to {out}")
