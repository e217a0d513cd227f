"""Supervised fine-tuning (LoRA / QLoRA) with TRL's SFTTrainer: studies become prompt/completion chat
records, the loss covers the completion only (ending in the end-of-turn token), evaluation on a
validation subset drives early stopping, and the best adapter is saved with its metadata.

    result = train_sft(load_train_config("cpu-quick"), Path("runs/quick"))
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from echogpt.model.adapters import ADAPTER_META, AdapterMeta
from echogpt.model.base import (
    get_peft_config,
    load_base_model,
    load_tokenizer,
    pick_device,
    resolve_base_model,
    weights_fingerprint,
)
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


def file_hash(path: str | Path) -> str:
    """SHA-256 (16 hex digits) of a data file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


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


def _continued(config: TrainConfig) -> tuple[TrainConfig, Path | None, AdapterMeta | None]:
    """Resolve ``init_adapter``: the adapter to continue and its metadata (its prompt settings
    replace the config's, since the adapter only works with the prompt it learned), or None twice
    for a new LoRA."""
    if not config.init_adapter:
        return config, None, None
    from echogpt.model.adapters import read_adapter_meta

    path = config.init_adapter
    if path == "active":
        from echogpt.review.registry import active_adapter_path

        path = active_adapter_path()
        if path is None:
            raise ConfigError("init_adapter=active, but no adapter version is active in the database "
                              "(an admin selects one in the app, or give the adapter folder)")
    meta = read_adapter_meta(path)  # one-line ModelError if missing or not an adapter
    if meta.prompt_settings != config.prompt:
        log.info("continuing %s with the prompt settings it was trained with", path)
    log.info("continuing SFT from adapter %s", path)
    update = {"prompt": meta.prompt_settings, "init_adapter": str(path)}
    return config.model_copy(update=update), Path(path), meta


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


def _top_layers(model: Any, top: int | None) -> list[int] | None:
    if top is None:
        return None
    total = model.config.get_text_config().num_hidden_layers
    return list(range(max(0, total - top), total))


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


def train_sft(config: TrainConfig, out: str | Path, *, resume: bool | str = True,
              callbacks: list[Any] | None = None, command: str | None = None) -> TrainResult:
    """Fine-tune a LoRA adapter on studies and save it with its metadata and model card.

    Args:
        config: The resolved training config.
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
    from transformers import EarlyStoppingCallback, set_seed
    from trl import SFTTrainer

    started = time.time()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    set_seed(config.seed)
    device = pick_device(config.device)
    config, parent, parent_meta = _continued(config)
    train_studies = read_studies(config.train_file)[: config.max_train_examples]
    records = sft_records(train_studies, config.prompt)
    if not records:
        raise ConfigError(f"{config.train_file} has no studies with an impression to learn from")
    val_records: list[dict[str, Any]] = []
    if config.val_file:
        val_records = sft_records(read_studies(config.val_file), config.prompt)[: config.val_subset]
        if not val_records:
            raise ConfigError(f"{config.val_file} has no studies with an impression")

    if parent_meta is not None:
        from echogpt.model.adapters import resolve_adapter_base

        ref = resolve_adapter_base(parent_meta, config.base_model)
    else:
        ref = resolve_base_model(config.base_model)
    tokenizer = load_tokenizer(ref)
    truncated, longest = count_truncated(records + val_records, tokenizer, config.max_length)
    if truncated:
        log.warning("%d of %d examples exceed max_length=%d tokens (longest %d) and are truncated",
                    truncated, len(records) + len(val_records), config.max_length, longest)
    model = load_base_model(ref, device=device, dtype=config.dtype, quantize_4bit=config.quantize_4bit,
                            for_training=True, gradient_checkpointing=config.gradient_checkpointing)
    if parent is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(parent), is_trainable=True)

    from datasets import Dataset

    callbacks = [loss_csv_callback(out / "losses.csv"), *(callbacks or [])]
    if config.max_minutes:
        callbacks.append(time_budget_callback(config.max_minutes, bool(val_records)))
    if config.val_file and config.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(config.early_stopping_patience,
                                               config.early_stopping_threshold))
    trainer = SFTTrainer(
        model=model, args=_sft_args(config, out, device), train_dataset=Dataset.from_list(records),
        eval_dataset=Dataset.from_list(val_records) if val_records else None,
        processing_class=tokenizer, peft_config=None if parent is not None else get_peft_config(
            config.lora_r, config.lora_alpha, config.lora_dropout, config.target_modules,
            _top_layers(model, config.lora_top_layers)),
        callbacks=callbacks,
    )
    checkpoint = None
    if isinstance(resume, str | Path):
        checkpoint = Path(resume)
        if not (checkpoint / "trainer_state.json").is_file():
            raise ConfigError(f"{checkpoint} is not a training checkpoint (no trainer_state.json)")
    elif resume:
        checkpoint = latest_checkpoint(out / "checkpoints")
    if checkpoint is not None:
        log.info("resuming from %s", checkpoint)
    with _score_completions_only(device):
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)

    evals = [h["eval_loss"] for h in trainer.state.log_history if "eval_loss" in h]
    best = trainer.state.best_metric if val_records else None
    final = evals[-1] if evals else None
    if val_records and trainer.state.best_model_checkpoint is None:
        best = trainer.evaluate()["eval_loss"]
    steps = trainer.state.global_step
    seen = min(steps * config.batch_size * config.grad_accum, round(len(records) * config.epochs))
    best_step = min(((h["eval_loss"], h["step"]) for h in trainer.state.log_history if "eval_loss" in h),
                    default=(None, None))[1]
    result = TrainResult(out, steps, len(records), len(val_records), seen, truncated, longest, best,
                         final, round(time.time() - started, 1), str(checkpoint) if checkpoint else None,
                         best_step, str(parent) if parent is not None else None)
    save_adapter(trainer.model, out, config, ref, result, command)
    return result


def run_training(config: str | Path | None, out: str | Path, *, overrides: list[str] | None = None,
                 method: str | None = None, resume: bool | str = True,
                 command: str | None = None, register: bool = True) -> Any:
    """Load a recipe with overrides and run the chosen method (the ``echogpt train`` command).

    Args:
        config: Recipe name or YAML path.
        out: Output folder.
        overrides: ``key=value`` strings.
        method: ``sft`` or ``dpo``; None keeps the recipe's.
        resume: As in ``train_sft``.
        command: Command line to record.
        register: Register the adapter as a new version in the configured database.

    Returns:
        The method's result (a TrainResult for SFT).
    """
    from echogpt.model.recipes import load_train_config

    extra = {"method": method} if method else {}
    cfg = load_train_config(str(config) if config else None, overrides, **extra)
    if cfg.method == "dpo":
        try:
            from echogpt.model.dpo import train_dpo
        except ImportError:
            raise ConfigError("DPO training is not available in this installation") from None
        return train_dpo(cfg, Path(out), resume=resume, command=command)
    if method == "sft" and cfg.init_adapter is None:
        # the feedback loop: `--method sft` continues the adapter the copilot uses, when one is active
        from sqlalchemy.exc import SQLAlchemyError

        from echogpt.review.registry import active_adapter_path

        try:
            cfg = cfg.model_copy(update={"init_adapter": active_adapter_path()})
        except SQLAlchemyError as err:
            log.warning("no active adapter to continue (database: %s): training a new LoRA",
                        str(err).splitlines()[0])
    result = train_sft(cfg, out, resume=resume, command=command)
    if register:
        _register(result, result.parent_adapter)
    return result


def _register(result: TrainResult, parent: str | None = None) -> None:
    """Register a finished SFT adapter as a new (inactive) adapter version for the copilot."""
    from sqlalchemy.exc import SQLAlchemyError

    from echogpt.review.registry import register_trained

    try:
        version = register_trained(result.adapter_dir, parent, metrics={
            "best_val_loss": result.best_val_loss, "steps": result.steps})
    except (SQLAlchemyError, OSError, ValueError) as err:
        log.warning("adapter saved but not registered in the database: %s", str(err).splitlines()[0])
        return
    log.info("registered adapter version %s", version.name)


def _cast_adapter(out: Path, dtype: str) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    path = out / "adapter_model.safetensors"
    tensors = load_file(path)
    target = getattr(torch, dtype)
    save_file({k: v.to(target) for k, v in tensors.items()}, path, metadata={"format": "pt"})


def save_adapter(model: Any, out: Path, config: TrainConfig, ref: Any, result: TrainResult,
                 command: str | None) -> None:
    """Write the PEFT adapter with a stable base identity, its metadata and a model card."""
    import yaml

    model.save_pretrained(out)
    if config.adapter_dtype != "float32":
        _cast_adapter(out, config.adapter_dtype)
    cfg_path = out / "adapter_config.json"
    adapter_cfg = json.loads(cfg_path.read_text())
    adapter_cfg["base_model_name_or_path"] = ref.identity  # never a machine-local path
    cfg_path.write_text(json.dumps(adapter_cfg, indent=2))
    resolved = config.model_dump(mode="json")
    (out / "config.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))
    data = {"train_file": config.train_file, "train_hash": file_hash(config.train_file),
            "parent_adapter": config.init_adapter,
            "train_examples": result.train_examples, "val_examples": result.val_examples}
    if config.val_file:
        data.update(val_file=config.val_file, val_hash=file_hash(config.val_file))
    meta = AdapterMeta(
        base_model=ref.identity, base_weights_hash=ref.weights_hash,
        base_model_hint=ref.path if ref.identity.startswith("local:") else None,
        adapter_weights_hash=weights_fingerprint(out), method="sft", prompt_settings=config.prompt,
        config=resolved, data=data, truncated_examples=result.truncated_examples,
        final_val_loss=result.final_val_loss, best_val_loss=result.best_val_loss,
        best_step=result.best_step, steps=result.steps, examples_seen=result.examples_seen,
        seed=config.seed, command=command,
        longest_example_tokens=result.longest_example_tokens, seconds=result.seconds)
    (out / ADAPTER_META).write_text(meta.model_dump_json(indent=2))
    (out / "README.md").write_text(model_card(meta, result))


def _fmt_loss(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def model_card(meta: AdapterMeta, result: TrainResult) -> str:
    """A short model card (README.md) with the run's figures."""
    c = meta.config
    source = ("findings prose" if meta.prompt_settings.layout == "prose"
              else "measurements, structured findings and findings prose")
    return f"""# EchoGPT LoRA adapter

Drafts the impression section of transthoracic echocardiography reports from the study's
{source}. A research tool: every draft needs review by a qualified echocardiographer; it is not
a medical device.

| | |
|---|---|
| Base model | `{meta.base_model}` (weights `{meta.base_weights_hash}`) |
| Method | {meta.method.upper()}, LoRA r={c.get('lora_r')}, alpha={c.get('lora_alpha')}, \
layers: {f"top {c['lora_top_layers']}" if c.get('lora_top_layers') else 'all'}, \
4-bit base: {c.get('quantize_4bit')} |
| Training data | `{meta.data.get('train_file')}` (sha256 `{meta.data.get('train_hash')}`), \
{result.train_examples} examples, {result.examples_seen} seen in training |
| Validation | {result.val_examples} examples |
| Truncated at {c.get('max_length')} tokens | {result.truncated_examples} \
(longest {result.longest_example_tokens}) |
| Optimizer steps | {result.steps} (lr {c.get('learning_rate')}, {c.get('lr_scheduler')}, \
batch {c.get('batch_size')}x{c.get('grad_accum')}) |
| Best / final validation loss | {_fmt_loss(result.best_val_loss)} (step {result.best_step}) / \
{_fmt_loss(result.final_val_loss)} |
| Wall time | {result.seconds:.0f} s |
| Seed | {meta.seed} |
| Prompt | `{meta.prompt_settings.name}` v{meta.prompt_settings.version} \
(`{meta.prompt_settings.fingerprint()}`) |

Command: `{meta.command or 'n/a'}`

## Use

```
echogpt generate --studies test.jsonl --out predictions.jsonl --mode fine-tuned --adapter <this folder>
```

The adapter is a standard PEFT folder (`PeftModel.from_pretrained(base, folder)`);
`adapter_config.json` names the base by its stable identity, and `echogpt_adapter.json` holds the
prompt settings, resolved config and data hashes. Trained only on the data named above; expect
errors on studies unlike it.
"""
