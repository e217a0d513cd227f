"""The ``echogpt`` command line: each command parses its input, calls one library function and
prints the result. Heavy libraries load inside the commands that need them.

    echogpt --help
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from echogpt.model.recipes import TrainConfig

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

    from echogpt.model.prompts import build_messages, load_study_file

    try:
        study = load_study_file(study_json)
    except ValueError as err:
        fail(str(err))
    messages = build_messages(study)
    if not render:
        typer.echo(json.dumps(messages, indent=2, ensure_ascii=False))
        return
    from echogpt.model.prompts import render_chat

    typer.echo(render_chat(messages, base_model))


@app.command("train")
def train_cmd(
    config: str = typer.Option("cpu-smollm2", help="Recipe name in echogpt/configs/ or a YAML file"),
    out: Path = typer.Option(..., help="Output folder for the adapter and checkpoints"),
    method: str = typer.Option(None, help="sft | dpo (default: the recipe's)"),
    set_: list[str] = typer.Option(None, "--set", help="Override a config key: key=value"),
    resume: Path = typer.Option(None, help="Resume from this checkpoint folder"),
    fresh: bool = typer.Option(False, help="Ignore checkpoints already in --out"),
) -> None:
    """Fine-tune a LoRA adapter (auto-resumes from the latest checkpoint in --out) and register it as
    a new, inactive adapter version. DPO and `--method sft` continue the active version."""
    from echogpt.model.recipes import load_train_config
    from echogpt.model.train import run_training

    try:
        cfg = load_train_config(config, set_ or [], **({"method": method} if method else {}))
        cfg = _continue_active(cfg, cfg.method == "dpo" or method == "sft")
        result = run_training(cfg, out, resume=str(resume) if resume else not fresh,
                              command=" ".join(["echogpt", *sys.argv[1:]]))
    except ValueError as err:
        fail(str(err))
    typer.echo(result.summary())
    _register_trained(result)


def _continue_active(cfg: TrainConfig, feedback_loop: bool) -> TrainConfig:
    """``init_adapter=active``, or none with DPO or an explicit ``--method sft`` (the feedback loop):
    the folder of the adapter version active in the copilot's database."""
    wanted = cfg.init_adapter == "active" or (cfg.init_adapter is None and feedback_loop)
    if not wanted:
        return cfg
    from sqlalchemy.exc import SQLAlchemyError

    from echogpt.review.registry import active_adapter_path

    try:
        path = active_adapter_path()
    except (SQLAlchemyError, OSError) as err:
        if cfg.init_adapter == "active":
            fail(f"init_adapter=active, but the database cannot be read: {str(err).splitlines()[0]}")
        typer.secho(f"warning: no active adapter to continue (database: {str(err).splitlines()[0]}): "
                    "training a new LoRA", err=True, fg=typer.colors.YELLOW)
        return cfg
    if path is None and cfg.init_adapter == "active":
        fail("init_adapter=active, but no adapter version is active in the database "
             "(an admin selects one in the app, or give the adapter folder)")
    if path is not None:
        typer.echo(f"continuing the active adapter version ({path})")
    return cfg.model_copy(update={"init_adapter": path})


def _register_trained(result: Any) -> None:
    """Register the adapter folder of a TrainResult or DPOResult as a new, inactive adapter version."""
    from sqlalchemy.exc import SQLAlchemyError

    from echogpt.review.registry import register_trained

    try:
        version = register_trained(result.adapter_dir, result.parent_adapter, metrics=result.metrics())
    except (SQLAlchemyError, OSError, ValueError) as err:
        typer.secho(f"warning: adapter saved but not registered in the database: "
                    f"{str(err).splitlines()[0]}", err=True, fg=typer.colors.YELLOW)
        return
    parent = f", continuing {version.parent}" if version.parent else ""
    typer.echo(f"registered as adapter version {version.name} ({version.method}{parent}); "
               "inactive until an admin selects it in the copilot")
    _start_gate(version.name)


def _start_gate(name: str) -> None:
    """Evaluate a registered version on the held-out set in the background (the version gate)."""
    from sqlalchemy.exc import SQLAlchemyError

    from echogpt.batch.worker import start_gate
    from echogpt.review.store import Store

    db = Store()
    try:
        job = start_gate(db, db.cli_user(), name)
    except (SQLAlchemyError, OSError, ValueError) as err:
        typer.secho(f"warning: the version gate could not start: {str(err).splitlines()[0]} "
                    "(an admin can start it on the admin page)", err=True, fg=typer.colors.YELLOW)
        return
    finally:
        db.dispose()
    typer.echo(f"version gate: {name} is being evaluated on the held-out set in the background "
               f"(batch job {job}); its figures appear on the admin page when it finishes")


@app.command("generate")
def generate_cmd(
    studies: Path = typer.Option(..., help="Studies JSONL"),
    out: Path = typer.Option(..., help="Predictions JSONL (appended; existing studies skipped)"),
    mode: str = typer.Option("fine-tuned", help="fine-tuned | zero-shot | few-shot | template"),
    adapter: str = typer.Option(None, help="Adapter folder (fine-tuned mode)"),
    shots: int = typer.Option(3, help="Examples in few-shot mode"),
    train: str = typer.Option(None, "--train", help="Studies to draw few-shot examples from"),
    base_model: str = typer.Option(None, help="Base model (default: the adapter's or ECHOGPT_BASE_MODEL)"),
    batch_size: int = typer.Option(16, help="Studies per batch"),
    max_new_tokens: int = typer.Option(256, help="Token bound per impression"),
    engine: str = typer.Option("auto", help="auto | torch | llama.cpp (auto: llama.cpp for the embedded "
                                            "model on a CPU when installed)"),
    guard: str = typer.Option("on", help="on | off: checker-guided drafting (each statement checked as it "
                                         "is written; failing ones repaired, rewritten or dropped)"),
    guard_candidates: int = typer.Option(3, help="Rewrites the guard tries for a failing statement"),
) -> None:
    """Draft impressions for a file of studies; rerunning resumes."""
    from echogpt.model.generate import generate_file

    if guard not in ("on", "off"):
        fail(f"--guard must be on or off, not {guard!r}")
    try:
        summary = generate_file(studies, out, mode=mode, adapter=adapter, shots=shots, train_file=train,
                                base_model=base_model, batch_size=batch_size,
                                max_new_tokens=max_new_tokens, engine=engine, guard=guard == "on",
                                guard_candidates=guard_candidates)
    except ValueError as err:
        fail(str(err))
    typer.echo(summary.line(out))


@app.command("preference-pairs")
def preference_pairs_cmd(
    studies: Path = typer.Option(..., help="Training studies JSONL (with reference impressions)"),
    adapter: str = typer.Option(..., help="Adapter folder that drafts (its prompt settings go in the pairs)"),
    samples: int = typer.Option(2, help="Sampled drafts per study besides the greedy one"),
    out: Path = typer.Option(..., help="Preference pairs JSONL (appended; studies already done skipped)"),
    guard: str = typer.Option("on", help="on | off: the guarded draft is one of the candidates"),
    temperature: float = typer.Option(None, help="Sampling temperature (default: generate's)"),
    top_p: float = typer.Option(None, help="Nucleus sampling mass (default: generate's)"),
    max_new_tokens: int = typer.Option(None, help="Token bound per draft"),
    seed: int = typer.Option(0, help="Sampling seed"),
    batch_size: int = typer.Option(None, help="Studies drafted together (default 1; more on a GPU)"),
    engine: str = typer.Option("auto", help="auto | torch | llama.cpp"),
) -> None:
    """Checker-ranked preference pairs (source: checker) for `echogpt train --method dpo`; resumable."""
    from echogpt.evaluation.pair_round import write_pairs_file

    if guard not in ("on", "off"):
        fail(f"--guard must be on or off, not {guard!r}")
    try:
        summary = write_pairs_file(studies, out, adapter=adapter, samples=samples, guard=guard == "on",
                                   temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens,
                                   seed=seed, batch_size=batch_size, engine=engine)
    except ValueError as err:
        fail(str(err))
    if guard == "on" and not summary.guarded and summary.studies:
        typer.secho("warning: no guard installed (echogpt.model.guard): unguarded drafts only",
                    err=True, fg=typer.colors.YELLOW)
    typer.echo("\n".join(summary.lines(out)))


@app.command("merge")
def merge_cmd(
    adapter: Path = typer.Option(..., help="Adapter folder"),
    out: Path = typer.Option(..., help="New folder for the merged full-precision model"),
) -> None:
    """Merge a LoRA adapter into a full-precision copy of its base model."""
    from echogpt.model.adapters import merge_adapter

    try:
        folder = merge_adapter(adapter, out)
    except ValueError as err:
        fail(str(err))
    typer.echo(f"merged model written to {folder}")


@app.command("validate")
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


@app.command("import-sr")
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


@app.command("import-reports")
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


@app.command("export-schemas")
def export_schemas_cmd(
    out: Path = typer.Option(Path("data_schemas"), help="Folder for the JSON Schemas and examples"),
) -> None:
    """Regenerate the JSON Schemas and example records from echogpt/schemas/."""
    from echogpt.data.record_schemas import export_schemas

    paths = export_schemas(out)
    typer.echo(f"{len(paths)} files written to {out}")


@app.command("app")
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


@app.command("quickstart")
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


users_app = typer.Typer(help="Accounts (cardiologist, reader, admin).", no_args_is_help=True)
app.add_typer(users_app, name="users")


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


@app.command("export-feedback")
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


@app.command("export-fhir")
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


@app.command("export-report")
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


@app.command("evaluate")
def evaluate_cmd(
    studies: Path = typer.Option(..., help="Studies with reference impressions (JSONL/JSON/CSV/Parquet)"),
    predictions: list[str] = typer.Option(..., help="NAME=FILE, a system's predictions; repeat per system"),
    out: Path = typer.Option(..., help="Folder for metrics.json, per_sample.csv and report.html"),
    metric: list[str] = typer.Option(None, help="Metric (repeatable); default: all but critical_omission"),
    n_boot: int = typer.Option(2000, min=100, help="Bootstrap resamples for the 95 % CIs"),
    bertscore_model: str = typer.Option(None, help="Encoder folder for BERTScore (default: embedded MiniLM)"),
) -> None:
    """Metrics per system, side by side: CIs, paired tests, win rates, breakdowns, HTML report."""
    from echogpt.evaluation.suite import (
        DEFAULT_METRICS,
        EvaluationError,
        evaluate,
        parse_named_paths,
        summary_lines,
    )

    try:
        result = evaluate(studies, parse_named_paths(predictions), out, metrics=metric or DEFAULT_METRICS,
                          n_boot=n_boot, bertscore_model=bertscore_model)
    except EvaluationError as err:
        fail(str(err))
    typer.echo("\n".join(summary_lines(result)) + f"\nwrote {out}/metrics.json, per_sample.csv, report.html")


@app.command("synth")
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


@app.command("check")
def check_cmd(
    study: Path = typer.Option(..., help="The study as a JSON file (or one JSONL line)"),
    impression: str = typer.Option(..., help="Impression text, or @FILE to read it from a file"),
    as_json: bool = typer.Option(False, "--json", help="Print the CheckResult as JSON"),
    profile: str = typer.Option("default", help="Lab profile (guideline schemes the lab grades by)"),
) -> None:
    """Check an impression against its study. Exit 0: nothing flagged; 1: flagged; 2: bad input."""
    from echogpt.checker.check import check, format_result, read_impression
    from echogpt.model.prompts import load_study_file

    try:
        result = check(read_impression(impression), load_study_file(study), profile)
    except (ValueError, KeyError) as err:
        fail(str(err.args[0]) if isinstance(err, KeyError) else str(err))
    typer.echo(result.model_dump_json(indent=2) if as_json else format_result(result))
    raise typer.Exit(1 if result.flagged else 0)


@app.command("bench-checker")
def bench_checker_cmd(
    studies: Path = typer.Option(None, help="Studies with reference impressions (echogpt synth output)"),
    handwritten: Path = typer.Option(None, help="Folder of the hand-written set (pairs.jsonl)"),
    seed: int = typer.Option(0, help="Random seed for the injected errors"),
    out: Path = typer.Option(None, help="Write the full report as JSON here"),
    limit: int = typer.Option(None, min=1, help="Use at most this many studies"),
) -> None:
    """Inject six kinds of error into correct impressions; report recall per type and false alarms."""
    from echogpt.checker.bench import format_report, run_benchmark

    if (studies is None) == (handwritten is None):
        fail("give exactly one of --studies FILE or --handwritten DIR")
    try:
        report = run_benchmark(studies=studies, handwritten=handwritten, seed=seed, limit=limit, out=out)
    except ValueError as err:
        fail(str(err))
    typer.echo(format_report(report))


@app.command("batch-worker")
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


reader_app = typer.Typer(help="Blinded reader studies (admin): create, export, analyze.",
                         no_args_is_help=True)
app.add_typer(reader_app, name="reader-study")


@reader_app.command("create")
def reader_create_cmd(
    name: str = typer.Option(..., help="Unique study name"),
    cases: Path = typer.Option(..., help="Cases JSONL (docs/reader_study.md)"),
    readers: str = typer.Option(..., help="Comma-separated reader account names"),
    cases_per_reader: int = typer.Option(None, help="Cases each reader rates (default: all)"),
    design: str = typer.Option("preference", help="preference | likert | both"),
    pairs: str = typer.Option("all", help="all | vs_reference (which pairs are shown)"),
    reference: str = typer.Option(None, help="Reference source (metrics; vs_reference pairs)"),
    seed: int = typer.Option(None, help="Seed of the randomisation (default: drawn, recorded)"),
) -> None:
    """Create a reader study from a cases file."""
    from echogpt.reader.admin import create_from_file

    try:
        summary = create_from_file(name, cases, readers.split(","), cases_per_reader, design, pairs,
                                   reference, seed)
    except (ValueError, LookupError) as err:
        fail(str(err))
    typer.echo(f"reader study {name}: {summary.cases} cases, {len(summary.readers)} readers, "
               f"seed {summary.seed}")


@reader_app.command("export")
def reader_export_cmd(name: str = typer.Option(..., help="Study name"),
                      out: Path = typer.Option(..., help="CSV of raw ratings with the source key")) -> None:
    """Export the raw ratings with the unblinding key (admin)."""
    from echogpt.reader.admin import export_to_file

    try:
        n = export_to_file(name, out)
    except LookupError as err:
        fail(str(err))
    typer.echo(f"{n} rating rows written to {out}")


@reader_app.command("analyze")
def reader_analyze_cmd(name: str = typer.Option(..., help="Study name"),
                       out: Path = typer.Option(..., help="Folder for tables and plots"),
                       metric: str = typer.Option("rouge", help="Automatic metric to correlate")) -> None:
    """Analyse a reader study: tests, agreement, per-reader breakdown, correlations, plots."""
    from echogpt.reader.analysis_output import analyze_to_folder, format_analysis

    try:
        result = analyze_to_folder(name, out, metric)
    except (LookupError, ValueError) as err:
        fail(str(err))
    typer.echo(format_analysis(result) + f"\ntables and plots in {out}")


def main() -> None:  # pragma: no cover - console entry for `python -m echogpt`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

