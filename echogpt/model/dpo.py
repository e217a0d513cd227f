"""Preference tuning (DPO, TRL's DPOTrainer) on preference pairs: those ``echogpt export-feedback``
writes (``source: review``; chosen = the approved text, rejected = the model's draft), those
``echogpt preference-pairs`` writes (``source: checker``), or both in one file. Every record must
have been rendered with the prompt settings of the adapter that trains (its ``prompt_fingerprint``,
or the export's ``manifest.json`` beside the file); a mismatch is refused. Training continues the adapter
``init_adapter`` names (the reference policy is a frozen copy of it), else starts a new LoRA, and
writes an adapter folder; ``echogpt train`` continues the active version and registers the result.

    result = train_dpo(load_train_config("cpu-quick", method="dpo", train_file="feedback/preferences.jsonl",
                                         init_adapter="runs/sft"), Path("runs/dpo"))
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from echogpt.model.recipes import ConfigError, TrainConfig

log = logging.getLogger(__name__)

SOURCES = ("review", "checker")
"""Where a pair came from: a cardiologist's edit (``review``) or the checker's ranking (``checker``)."""


@dataclass
class DPOResult:
    """What a DPO run produced."""

    adapter_dir: Path
    steps: int
    pairs: int
    parent_adapter: str | None
    final_loss: float | None
    reward_accuracy: float | None
    seconds: float

    def summary(self) -> str:
        """One line for the terminal."""
        loss = "n/a" if self.final_loss is None else f"{self.final_loss:.4f}"
        return (f"DPO adapter saved to {self.adapter_dir}: {self.steps} steps on {self.pairs} pairs "
                f"from {self.parent_adapter or 'the base model'}, final loss {loss}, "
                f"{self.seconds:.0f} s")

    def metrics(self) -> dict[str, Any]:
        """The figures shown next to the adapter version in the copilot's admin page."""
        return {"steps": self.steps, "pairs": self.pairs, "final_loss": self.final_loss,
                "reward_accuracy": self.reward_accuracy}


def read_pairs(path: str | Path) -> list[dict[str, Any]]:
    """Preference pairs (conversational prompt/chosen/rejected), checked line by line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such pairs file (write one with `echogpt export-feedback`)")
    pairs = []
    for row, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path} row {row}: not JSON ({exc.msg})") from None
        missing = {"prompt", "chosen", "rejected"} - set(rec)
        if missing:
            raise ConfigError(f"{path} row {row}: missing {', '.join(sorted(missing))}")
        if rec.get("source", "review") not in SOURCES:
            raise ConfigError(f"{path} row {row}: source {rec['source']!r} is not one of "
                              f"{', '.join(SOURCES)}")
        pairs.append({k: rec[k] for k in ("prompt", "chosen", "rejected")})
    if not pairs:
        raise ConfigError(f"{path} has no preference pairs (no edited drafts were exported)")
    return pairs


def record_fingerprints(path: str | Path) -> dict[str, tuple[int, str]]:
    """Prompt settings fingerprint -> (first row, its source) over the records that carry one."""
    found: dict[str, tuple[int, str]] = {}
    for row, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            rec = json.loads(line)
            if rec.get("prompt_fingerprint"):
                found.setdefault(rec["prompt_fingerprint"], (row, rec.get("source", "review")))
    return found


def check_prompt(pairs_path: Path, prompt_fingerprint: str) -> None:
    """Refuse pairs rendered with other prompt settings than the training adapter's: those of the
    export's ``manifest.json`` beside the file, and each record's own ``prompt_fingerprint``."""
    manifest = pairs_path.with_name("manifest.json")
    if manifest.is_file():
        exported = json.loads(manifest.read_text()).get("prompt_fingerprint")
        if exported and exported != prompt_fingerprint:
            raise ConfigError(f"the pairs were exported with prompt settings {exported}, the adapter "
                              f"uses {prompt_fingerprint}: export again with the adapter's prompt")
    for fingerprint, (row, source) in record_fingerprints(pairs_path).items():
        if fingerprint != prompt_fingerprint:
            again = "echogpt export-feedback" if source == "review" else "echogpt preference-pairs"
            raise ConfigError(f"{pairs_path} row {row} ({source}) was rendered with prompt settings "
                              f"{fingerprint}, the adapter uses {prompt_fingerprint}: run {again} "
                              "again with the adapter that trains")


def _dpo_args(config: TrainConfig, out: Path, device: str) -> Any:
    from trl import DPOConfig

    losses = {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, config.dpo_sft_weight]} \
        if config.dpo_sft_weight > 0 else {"loss_type": ["sigmoid"]}
    return DPOConfig(
        output_dir=str(out / "checkpoints"), beta=config.dpo_beta, max_length=config.max_length, **losses,
        per_device_train_batch_size=config.batch_size, gradient_accumulation_steps=config.grad_accum,
        num_train_epochs=config.epochs, max_steps=config.max_steps,
        learning_rate=config.learning_rate, lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_ratio, max_grad_norm=config.max_grad_norm,
        logging_steps=config.logging_steps, save_strategy="no", seed=config.seed,
        report_to="none", use_cpu=device == "cpu", disable_tqdm=True, dataloader_num_workers=0,
        # TRL turns checkpointing on by default; follow the config as SFT does.
        activation_checkpointing=config.gradient_checkpointing, gradient_checkpointing=None,
        bf16=device == "cuda" and config.dtype != "float32" and not config.quantize_4bit)


def train_dpo(config: TrainConfig, out: str | Path, *, resume: bool | str = False,
              command: str | None = None) -> DPOResult:
    """Train an adapter with DPO on preference pairs and save it with its metadata.

    Args:
        config: Training settings; ``train_file`` is the pairs file, ``init_adapter`` the adapter to
            continue (None: a new LoRA on ``config.base_model``), ``dpo_beta`` the KL strength.
        out: Output folder for the adapter, ``echogpt_adapter.json``, ``README.md`` and ``losses.csv``.
        resume: Accepted for the ``train`` command's interface; DPO runs are short and restart.
        command: The command line, recorded in the metadata.

    Returns:
        A DPOResult.
    """
    import torch
    from datasets import Dataset
    from transformers import set_seed
    from trl import DPOTrainer

    from echogpt.model.adapters import load_for_training, training_start, write_adapter_folder
    from echogpt.model.base import pick_device

    started = time.time()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    records = read_pairs(config.train_file)[: config.max_train_examples]
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    set_seed(config.seed)
    device = pick_device(config.device)
    config, parent = training_start(config.model_copy(update={"method": "dpo"}))
    check_prompt(Path(config.train_file), config.prompt.fingerprint())
    # With a parent adapter TRL copies it into a frozen "ref" adapter: the reference policy is the
    # current adapter, not the bare base model.
    model, tokenizer, peft_config, ref = load_for_training(config, parent, device)
    trainer = DPOTrainer(model=model, args=_dpo_args(config, out, device),
                         train_dataset=Dataset.from_list(records), processing_class=tokenizer,
                         peft_config=peft_config)
    trainer.train()

    history = [h for h in trainer.state.log_history if "loss" in h]
    result = DPOResult(out, trainer.state.global_step, len(records), config.init_adapter,
                       history[-1]["loss"] if history else None,
                       history[-1].get("rewards/accuracies") if history else None,
                       round(time.time() - started, 1))
    _write_losses(out / "losses.csv", trainer.state.log_history)
    write_adapter_folder(trainer.model, out, config, ref, train_examples=result.pairs,
                         final_loss=result.final_loss, reward_accuracy=result.reward_accuracy,
                         steps=result.steps, seconds=result.seconds, command=command)
    return result


def _write_losses(path: Path, history: list[dict[str, Any]]) -> None:
    cols = ["step", "epoch", "loss", "rewards/accuracies", "rewards/margins", "learning_rate"]
    rows = [",".join(str(h.get(c, "")) for c in cols) for h in history if "loss" in h]
    path.write_text(",".join(cols) + "\n" + "".join(r + "\n" for r in rows))
