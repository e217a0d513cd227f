"""Supervised fine-tuning (LoRA / QLoRA) with TRL's SFTTrainer: studies become prompt/completion chat
records, the loss covers the completion only (ending in the end-of-turn token), evaluation on a
validation subset drives early stopping, and the best adapter is saved with its metadata. Training
writes a folder and returns; registering it as an adapter version is ``echogpt train``'s step.

    result = train_sft(load_train_config("cpu-quick"), Path("runs/quick"))
"""

from __future__ import annotations

import contextlib
import csv
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from echogpt.model.adapters import load_for_training, training_start, write_adapter_folder
from echogpt.model.base import pick_device
from echogpt.model.prompts import PromptSettings, build_messages
from echogpt.model.recipes import ConfigError, TrainConfig
from echogpt.schemas import Study

log = logging.getLogger(__name__)

LOSS_COLUMNS = ["step", "epoch", "train_loss", "val_loss", "learning_rate"]


def read_studies(path: str | Path) -> list[Study]:
    """Read a JSONL file of studies; the first bad row is a one-line error.

    Args:
        path: JSONL file, one Study per line (blank lines ignored).

    Returns:
        The studies in file order. Raises ConfigError naming the file, row and reason.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"studies file {path} does not exist")
    studies = []
    with open(path, encoding="utf-8") as f:
        for row, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                studies.append(Study.model_validate_json(line))
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(x) for x in err["loc"]) or "row"
                raise ConfigError(f"{path} row {row}: {where}: {err['msg']}") from None
    return studies


def sft_records(studies: list[Study], prompt: PromptSettings) -> list[dict[str, Any]]:
    """Conversational prompt/completion records (TRL format) from studies with an impression.

    Args:
        studies: Training studies; those without an impression are skipped.
        prompt: Prompt settings (the same ones generation will use).

    Returns:
        ``{"prompt": [system, user], "completion": [assistant]}`` records.
    """
    records = []
    for study in studies:
        if not study.impression:
            continue
        messages = build_messages(study, prompt, answer=study.impression)
        records.append({"prompt": messages[:-1], "completion": messages[-1:]})
    return records


def count_truncated(records: list[dict[str, Any]], tokenizer: Any, max_length: int) -> tuple[int, int]:
    """How many records exceed ``max_length`` tokens once rendered with the chat template.

    Returns:
        ``(truncated, longest)``: the count over the limit and the longest length in tokens.
    """
    lengths = [len(tokenizer.apply_chat_template(r["prompt"] + r["completion"], tokenize=True,
                                                 return_dict=True)["input_ids"]) for r in records]
    return sum(n > max_length for n in lengths), max(lengths, default=0)


def _trainer_callback_base() -> type:
    from transformers import TrainerCallback

    return TrainerCallback


def loss_csv_callback(path: Path) -> Any:
    """A TrainerCallback appending ``step, epoch, train_loss, val_loss, learning_rate`` rows to a CSV.

    On resume, rows past the restored step (written after the last checkpoint) are dropped first.
    """

    class LossCSV(_trainer_callback_base()):
        def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001
            rows = []
            if path.is_file():
                with open(path, newline="") as f:
                    rows = [r for r in csv.DictReader(f) if int(r["step"]) <= state.global_step]
            with open(path, "w", newline="") as f:
                writer = csv.DictWriter(f, LOSS_COLUMNS)
                writer.writeheader()
                writer.writerows(rows)

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            logs = logs or {}
            if "loss" not in logs and "eval_loss" not in logs:
                return
            row = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4),
                   "train_loss": logs.get("loss", ""), "val_loss": logs.get("eval_loss", ""),
                   "learning_rate": logs.get("learning_rate", "")}
            with open(path, "a", newline="") as f:
                csv.DictWriter(f, LOSS_COLUMNS).writerow(row)

    return LossCSV()


def time_budget_callback(minutes: float, has_val: bool) -> Any:
    """A TrainerCallback that ends training after the optimizer step at which ``minutes`` have passed
    (counted from this run's first step), with a last evaluation and checkpoint, so a recipe keeps
    its wall-clock budget on a slower machine; the best checkpoint is still the one kept."""

    class TimeBudget(_trainer_callback_base()):
        started: float | None = None

        def on_step_begin(self, args, state, control, **kwargs):  # noqa: ANN001
            self.started = self.started or time.monotonic()

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
            if time.monotonic() - self.started >= minutes * 60 and state.global_step < state.max_steps:
                log.warning("time budget of %g min reached at step %d of %d: stopping",
                            minutes, state.global_step, state.max_steps)
                control.should_training_stop = True
                control.should_save = True
                control.should_evaluate = has_val

    return TimeBudget()


def latest_checkpoint(folder: Path) -> Path | None:
    """The ``checkpoint-N`` subfolder with the largest N that holds a trainer state."""
    found = [(int(m.group(1)), p) for p in folder.glob("checkpoint-*")
             if (m := re.fullmatch(r"checkpoint-(\d+)", p.name)) and (p / "trainer_state.json").is_file()]
    return max(found)[1] if found else None


@dataclass
class TrainResult:
    """What a training run produced."""

    adapter_dir: Path
    steps: int
    train_examples: int
    val_examples: int
    examples_seen: int
    truncated_examples: int
    longest_example_tokens: int
    best_val_loss: float | None
    final_val_loss: float | None
    seconds: float
    resumed_from: str | None
    best_step: int | None = None
    parent_adapter: str | None = None

    def summary(self) -> str:
        """One line for the terminal."""
        best = "n/a" if self.best_val_loss is None else f"{self.best_val_loss:.4f}"
        return (f"adapter saved to {self.adapter_dir}: {self.steps} steps, {self.train_examples} "
                f"examples ({self.truncated_examples} truncated), best val loss {best}, "
                f"{self.seconds:.0f} s")

    def metrics(self) -> dict[str, Any]:
        """The figures shown next to the adapter version in the copilot's admin page."""
        return {"best_val_loss": self.best_val_loss, "steps": self.steps}


@contextlib.contextmanager
def _score_completions_only(device: str) -> Iterator[None]:
    """On CPU, let TRL's fused LM head project only the completion tokens (the ones with a label).

    TRL compacts to the labelled positions only where it uses Triton kernels, since elsewhere a
    changing count could trigger recompilation; eager CPU training does not compile, and projecting
    the ~85 % prompt positions through the 49k-word head cost about a fifth of each step for nothing.
    Loss and gradients are the same either way.
    """
    try:
        from trl.trainer import utils as trl_utils
    except ImportError:  # pragma: no cover - TRL is a core dependency
        yield
        return
    original = getattr(trl_utils, "_use_triton", None)
    if device != "cpu" or original is None:
        yield
        return
    trl_utils._use_triton = lambda dev: dev.type == "cpu" or original(dev)
    try:
        yield
    finally:
        trl_utils._use_triton = original


def _sft_args(config: TrainConfig, out: Path, device: str) -> Any:
    from trl import SFTConfig

    has_val = bool(config.val_file)
    return SFTConfig(
        output_dir=str(out / "checkpoints"), completion_only_loss=True, max_length=config.max_length,
        per_device_train_batch_size=config.batch_size, per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum, num_train_epochs=config.epochs,
        max_steps=config.max_steps, learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler, warmup_steps=config.warmup_ratio,
        weight_decay=config.weight_decay, max_grad_norm=config.max_grad_norm,
        eval_strategy="steps" if has_val else "no", eval_steps=config.eval_steps,
        save_strategy="steps", save_steps=config.save_steps, save_total_limit=config.save_total_limit,
        load_best_model_at_end=has_val, metric_for_best_model="eval_loss", greater_is_better=False,
        logging_steps=config.logging_steps, seed=config.seed, data_seed=config.seed,
        report_to="none", use_cpu=device == "cpu", bf16=device == "cuda" and config.dtype != "float32"
        and not config.quantize_4bit, activation_checkpointing=config.gradient_checkpointing,
        gradient_checkpointing=None,
        dataloader_num_workers=0, save_only_model=False, disable_tqdm=False,
        include_num_input_tokens_seen="non_padding",
        # validation needs the loss only: gathering every batch's logits (vocab 49k x length) took GBs
        prediction_loss_only=True,
        # on a CPU every new sequence length leaves its own allocator fragments and oneDNN kernels
        # behind (peak RSS grew 2.4 -> 5.8 GB over cpu-smollm2's 160 steps); lengths rounded up to
        # a multiple of 64 repeat, for a few percent more (masked) tokens
        pad_to_multiple_of=64 if device == "cpu" else None,
    )


def _read_records(config: TrainConfig) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The training records and the validation subset's, built with the config's prompt."""
    records = sft_records(read_studies(config.train_file)[: config.max_train_examples], config.prompt)
    if not records:
        raise ConfigError(f"{config.train_file} has no studies with an impression to learn from")
    val_records: list[dict[str, Any]] = []
    if config.val_file:
        val_records = sft_records(read_studies(config.val_file), config.prompt)[: config.val_subset]
        if not val_records:
            raise ConfigError(f"{config.val_file} has no studies with an impression")
    return records, val_records


def _callbacks(config: TrainConfig, out: Path, has_val: bool, extra: list[Any] | None) -> list[Any]:
    from transformers import EarlyStoppingCallback

    callbacks = [loss_csv_callback(out / "losses.csv"), *(extra or [])]
    if config.max_minutes:
        callbacks.append(time_budget_callback(config.max_minutes, has_val))
    if has_val and config.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(config.early_stopping_patience,
                                               config.early_stopping_threshold))
    return callbacks


def _resume_checkpoint(resume: bool | str | Path, out: Path) -> Path | None:
    """The checkpoint to resume from: the one named, the latest in ``out``, or None."""
    if isinstance(resume, str | Path):
        checkpoint = Path(resume)
        if not (checkpoint / "trainer_state.json").is_file():
            raise ConfigError(f"{checkpoint} is not a training checkpoint (no trainer_state.json)")
        return checkpoint
    return latest_checkpoint(out / "checkpoints") if resume else None


def _sft_result(trainer: Any, config: TrainConfig, out: Path, counts: tuple[int, int, int, int],
                started: float, checkpoint: Path | None) -> TrainResult:
    """The run's figures from the trainer's log: steps, examples seen, best and final val loss."""
    n_train, n_val, truncated, longest = counts

    def evals() -> list[tuple[float, int]]:
        return [(h["eval_loss"], h["step"]) for h in trainer.state.log_history if "eval_loss" in h]

    final = evals()[-1][0] if evals() else None
    best = trainer.state.best_metric if n_val else None
    if n_val and trainer.state.best_model_checkpoint is None:  # no evaluation during training
        best = trainer.evaluate()["eval_loss"]
    steps = trainer.state.global_step
    seen = min(steps * config.batch_size * config.grad_accum, round(n_train * config.epochs))
    return TrainResult(out, steps, n_train, n_val, seen, truncated, longest, best, final,
                       round(time.time() - started, 1), str(checkpoint) if checkpoint else None,
                       min(evals(), default=(None, None))[1], config.init_adapter)


def train_sft(config: TrainConfig, out: str | Path, *, resume: bool | str = True,
              callbacks: list[Any] | None = None, command: str | None = None) -> TrainResult:
    """Fine-tune a LoRA adapter on studies and save it with its metadata and model card.

    Args:
        config: The resolved training config; ``init_adapter`` (a folder) continues that adapter.
        out: Output folder: the adapter, ``echogpt_adapter.json``, ``README.md``, ``losses.csv``,
            ``config.yaml`` and ``checkpoints/``.
        resume: True resumes from the latest checkpoint in ``out`` if any; a path resumes from it;
            False starts afresh.
        callbacks: Extra TrainerCallbacks.
        command: The command line, recorded in the metadata.

    Returns:
        A TrainResult with the figures also written to the model card.
    """
    import torch
    from datasets import Dataset
    from transformers import set_seed
    from trl import SFTTrainer

    started = time.time()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    set_seed(config.seed)
    device = pick_device(config.device)
    config, parent = training_start(config.model_copy(update={"method": "sft"}))
    records, val_records = _read_records(config)
    model, tokenizer, peft_config, ref = load_for_training(config, parent, device)
    truncated, longest = count_truncated(records + val_records, tokenizer, config.max_length)
    if truncated:
        log.warning("%d of %d examples exceed max_length=%d tokens (longest %d) and are truncated",
                    truncated, len(records) + len(val_records), config.max_length, longest)
    trainer = SFTTrainer(
        model=model, args=_sft_args(config, out, device), train_dataset=Dataset.from_list(records),
        eval_dataset=Dataset.from_list(val_records) if val_records else None,
        processing_class=tokenizer, peft_config=peft_config,
        callbacks=_callbacks(config, out, bool(val_records), callbacks))
    checkpoint = _resume_checkpoint(resume, out)
    if checkpoint is not None:
        log.info("resuming from %s", checkpoint)
    with _score_completions_only(device):
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    result = _sft_result(trainer, config, out, (len(records), len(val_records), truncated, longest),
                         started, checkpoint)
    write_adapter_folder(
        trainer.model, out, config, ref, train_examples=result.train_examples,
        val_examples=result.val_examples, truncated_examples=truncated, longest_example_tokens=longest,
        examples_seen=result.examples_seen, final_val_loss=result.final_val_loss,
        best_val_loss=result.best_val_loss, best_step=result.best_step, steps=result.steps,
        seconds=result.seconds, command=command)
    return result


def run_training(config: TrainConfig, out: str | Path, *, resume: bool | str = True,
                 command: str | None = None) -> Any:
    """Train with the config's method (``sft`` or ``dpo``) and return its result; nothing is registered.

    Args:
        config: The resolved config (``load_train_config``); ``init_adapter`` a folder or None.
        out: Output folder.
        resume: As in ``train_sft`` (DPO runs restart).
        command: Command line to record.

    Returns:
        A TrainResult or a DPOResult (``adapter_dir``, ``parent_adapter``, ``summary()``, ``metrics()``).
    """
    if config.method == "dpo":
        from echogpt.model.dpo import train_dpo

        return train_dpo(config, out, resume=resume, command=command)
    return train_sft(config, out, resume=resume, command=command)
