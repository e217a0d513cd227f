"""Commands of the model part: prompts, training (with the adapter registry and the version
gate), generation, checker-ranked preference pairs and merging. Heavy libraries load inside them.

    echogpt train --config cpu-smollm2 --out runs/sft
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from echogpt.cli.errors import fail

if TYPE_CHECKING:
    from echogpt.model.recipes import TrainConfig


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
