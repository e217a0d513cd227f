"""Preference tuning (DPO, TRL's DPOTrainer) on the pairs ``echogpt export-feedback`` writes:
chosen = the approved text, rejected = the model's draft. Training continues the current adapter
(the reference policy is a frozen copy of it) and registers the result as a new adapter version.

    result = train_dpo(load_train_config("cpu-quick", method="dpo"), Path("runs/dpo"),
                       pairs="feedback/preferences.jsonl", adapter="runs/sft")
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from echogpt.files import parse_json
from echogpt.model.recipes import ConfigError, TrainConfig

log = logging.getLogger(__name__)

DPO_BETA = 0.1  # KL strength; the DPO paper's (Rafailov et al. 2023) and TRL's default


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
    version: str | None = None

    def summary(self) -> str:
        """One line for the terminal."""
        loss = "n/a" if self.final_loss is None else f"{self.final_loss:.4f}"
        reg = f", registered as {self.version}" if self.version else ""
        return (f"DPO adapter saved to {self.adapter_dir}: {self.steps} steps on {self.pairs} pairs "
                f"from {self.parent_adapter or 'the base model'}, final loss {loss}{reg}, "
                f"{self.seconds:.0f} s")


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
            rec = parse_json(line)
        except ValueError as exc:
            raise ConfigError(f"{path} row {row}: not JSON ({getattr(exc, 'msg', exc)})") from None
        if not isinstance(rec, dict):
            raise ConfigError(f"{path} row {row}: expected a JSON object")
        missing = {"prompt", "chosen", "rejected"} - set(rec)
        if missing:
            raise ConfigError(f"{path} row {row}: missing {', '.join(sorted(missing))}")
        pairs.append({k: rec[k] for k in ("prompt", "chosen", "rejected")})
    if not pairs:
        raise ConfigError(f"{path} has no preference pairs (no edited drafts were exported)")
    return pairs


def _check_prompt(pairs_path: Path, prompt_fingerprint: str) -> None:
    manifest = pairs_path.with_name("manifest.json")
    if manifest.is_file():
        exported = json.loads(manifest.read_text()).get("prompt_fingerprint")
        if exported and exported != prompt_fingerprint:
            raise ConfigError(f"the pairs were exported with prompt settings {exported}, the adapter "
                              f"uses {prompt_fingerprint}: export again with the adapter's prompt")


def train_dpo(config: TrainConfig, out: str | Path, *, pairs: str | Path | None = None,
              adapter: str | Path | None = None, resume: bool | str = False,
              command: str | None = None, beta: float = DPO_BETA,
              register: bool = True) -> DPOResult:
    """Train an adapter with DPO on preference pairs and save it with its metadata.

    Args:
        config: Training settings (batch size, steps, learning rate, LoRA shape, device).
        out: Output folder for the adapter, ``echogpt_adapter.json`` and ``losses.csv``.
        pairs: The pairs file; default ``config.train_file``.
        adapter: The adapter to continue; default the active adapter in the store, else a new
            LoRA on ``config.base_model``.
        resume: Accepted for the ``train`` command's interface; DPO runs are short and restart.
        command: The command line, recorded in the metadata.
        beta: DPO KL strength.
        register: Register the result as a new adapter version in the store.

    Returns:
        A DPOResult.
    """
    import torch
    from datasets import Dataset
    from transformers import set_seed
    from trl import DPOConfig, DPOTrainer

    from echogpt.model.adapters import ADAPTER_META, AdapterMeta, read_adapter_meta, resolve_adapter_base
    from echogpt.model.base import (
        get_peft_config,
        load_base_model,
        load_tokenizer,
        pick_device,
        resolve_base_model,
        weights_fingerprint,
    )
    from echogpt.model.prompts import DEFAULT_PROMPT
    from echogpt.review.registry import active_adapter_path

    started = time.time()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pairs_path = Path(pairs or config.train_file)
    records = read_pairs(pairs_path)[: config.max_train_examples]
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    set_seed(config.seed)
    device = pick_device(config.device)
    adapter = adapter if adapter is not None else active_adapter_path()
    peft_config = None
    if adapter is not None:
        meta = read_adapter_meta(adapter)
        prompt = meta.prompt_settings
        ref = resolve_adapter_base(meta, config.base_model)
    else:
        prompt = DEFAULT_PROMPT
        ref = resolve_base_model(config.base_model)
        peft_config = get_peft_config(config.lora_r, config.lora_alpha, config.lora_dropout,
                                      config.target_modules)
    _check_prompt(pairs_path, prompt.fingerprint())
    tokenizer = load_tokenizer(ref)
    model = load_base_model(ref, device=device, dtype=config.dtype, quantize_4bit=config.quantize_4bit,
                            for_training=True, gradient_checkpointing=config.gradient_checkpointing)
    if adapter is not None:
        from peft import PeftModel

        # TRL copies this adapter into a frozen "ref" adapter: the reference policy is the
        # current adapter, not the bare base model.
        model = PeftModel.from_pretrained(model, str(adapter), is_trainable=True)
    args = DPOConfig(
        output_dir=str(out / "checkpoints"), beta=beta, max_length=config.max_length,
        per_device_train_batch_size=config.batch_size, gradient_accumulation_steps=config.grad_accum,
        num_train_epochs=config.epochs, max_steps=config.max_steps,
        learning_rate=config.learning_rate, lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_ratio, max_grad_norm=config.max_grad_norm,
        logging_steps=config.logging_steps, save_strategy="no", seed=config.seed,
        report_to="none", use_cpu=device == "cpu", disable_tqdm=True, dataloader_num_workers=0,
        # TRL turns checkpointing on by default; follow the config as SFT does.
        activation_checkpointing=config.gradient_checkpointing, gradient_checkpointing=None,
        bf16=device == "cuda" and config.dtype != "float32" and not config.quantize_4bit)
    trainer = DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(records),
                         processing_class=tokenizer, peft_config=peft_config)
    trainer.train()

    history = [h for h in trainer.state.log_history if "loss" in h]
    final_loss = history[-1]["loss"] if history else None
    accuracy = history[-1].get("rewards/accuracies") if history else None
    trainer.model.save_pretrained(out, selected_adapters=["default"])
    cfg_path = out / "adapter_config.json"
    adapter_cfg = json.loads(cfg_path.read_text())
    adapter_cfg["base_model_name_or_path"] = ref.identity  # never a machine-local path
    cfg_path.write_text(json.dumps(adapter_cfg, indent=2))
    tokenizer.save_pretrained(out)
    _write_losses(out / "losses.csv", trainer.state.log_history)
    result = DPOResult(out, trainer.state.global_step, len(records),
                       str(adapter) if adapter else None, final_loss, accuracy,
                       round(time.time() - started, 1))
    meta = AdapterMeta(
        base_model=ref.identity, base_weights_hash=ref.weights_hash,
        base_model_hint=ref.path if ref.identity.startswith("local:") else None,
        adapter_weights_hash=weights_fingerprint(out), method="dpo", prompt_settings=prompt,
        config={**config.model_dump(mode="json"), "method": "dpo", "dpo_beta": beta},
        data={"pairs_file": str(pairs_path), "pairs_hash": hashlib.sha256(
            pairs_path.read_bytes()).hexdigest()[:16], "pairs": len(records),
              "parent_adapter": result.parent_adapter},
        final_val_loss=None, steps=result.steps, seed=config.seed, command=command)
    (out / ADAPTER_META).write_text(meta.model_dump_json(indent=2))
    if register:
        from echogpt.review.registry import register_trained

        result.version = register_trained(out, adapter, metrics={
            "steps": result.steps, "pairs": result.pairs, "final_loss": result.final_loss,
            "reward_accuracy": result.reward_accuracy}).name
        log.info("registered adapter version %s", result.version)
    return result


def _write_losses(path: Path, history: list[dict[str, Any]]) -> None:
    cols = ["step", "epoch", "loss", "rewards/accuracies", "rewards/margins", "learning_rate"]
    rows = [",".join(str(h.get(c, "")) for c in cols) for h in history if "loss" in h]
    path.write_text(",".join(cols) + "\n" + "".join(r + "\n" for r in rows))

