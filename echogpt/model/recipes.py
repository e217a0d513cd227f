"""Training configuration: the TrainConfig model (every default in one place) and the YAML recipes in
``echogpt/configs/`` that hold only the differences, plus ``--set key=value`` overrides.

    config = load_train_config("cpu-quick", ["max_steps=20", "lora_r=8"])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from echogpt.files import parse_yaml
from echogpt.model.prompts import DEFAULT_PROMPT, PromptSettings

CONFIG_DIR = Path(__file__).parents[1] / "configs"


class ConfigError(ValueError):
    """A recipe or override that cannot be used; the message is one line."""


class TrainConfig(BaseModel):
    """One fine-tuning run. Recipes override only what differs from these defaults."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["sft", "dpo"] = Field("sft", description="Supervised fine-tuning or DPO")
    base_model: str | None = Field(None, description="Base model; None = ECHOGPT_BASE_MODEL/embedded")
    train_file: str = Field("data/synth/train.jsonl", description="Training studies (JSONL)")
    val_file: str | None = Field("data/synth/val.jsonl", description="Validation studies (JSONL)")
    max_train_examples: int | None = Field(None, ge=1, description="Use only the first N train rows")
    val_subset: int = Field(64, ge=1, description="Validation studies scored at each evaluation")
    prompt: PromptSettings = Field(DEFAULT_PROMPT, description="How studies become chat messages")
    max_length: int = Field(1024, ge=32, description="Tokens per example; longer ones are truncated")
    lora_r: int = Field(16, ge=1, description="LoRA rank")
    lora_alpha: int = Field(32, ge=1, description="LoRA alpha (scale = alpha / r)")
    lora_dropout: float = Field(0.05, ge=0, lt=1, description="Dropout on the LoRA input")
    target_modules: list[str] | None = Field(None, description="Modules to adapt; None = all linear")
    lora_top_layers: int | None = Field(
        None, ge=1, description="Adapt only the top N decoder layers (faster backward); None = all")
    quantize_4bit: bool = Field(False, description="QLoRA: NF4 4-bit base (CUDA only)")
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field(
        "auto", description="Base weight dtype (auto = bf16 on GPUs and on CPUs with native bf16, else fp32)")
    init_adapter: str | None = Field(
        None, description="Continue training this adapter folder (its base and prompt settings are "
                          "used); 'active' = the adapter version active in the database (looked up "
                          "by `echogpt train`)")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where to train")
    epochs: float = Field(2.0, gt=0, description="Passes over the training set")
    max_steps: int = Field(-1, description="Stop after this many optimizer steps (-1 = epochs)")
    max_minutes: float | None = Field(
        None, gt=0, description="Time budget: after the step that reaches it, evaluate, save and stop")
    batch_size: int = Field(8, ge=1, description="Examples per device step")
    grad_accum: int = Field(1, ge=1, description="Device steps per optimizer step")
    learning_rate: float = Field(2e-4, gt=0, description="Peak learning rate")
    lr_scheduler: Literal["cosine", "linear", "constant", "constant_with_warmup"] = Field(
        "cosine", description="Learning-rate schedule")
    warmup_ratio: float = Field(0.03, ge=0, lt=1, description="Fraction of steps warming up")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping norm")
    eval_steps: int = Field(50, ge=1, description="Evaluate on the validation subset every N steps")
    save_steps: int | None = Field(None, ge=1, description="Checkpoint every N steps (= eval_steps)")
    save_total_limit: int = Field(2, ge=1, description="Checkpoints kept (the best is always kept)")
    early_stopping_patience: int = Field(3, ge=0, description="Evaluations without improvement (0=off)")
    early_stopping_threshold: float = Field(0.0, ge=0, description="Smallest val-loss gain that counts")
    logging_steps: int = Field(10, ge=1, description="Log the training loss every N steps")
    gradient_checkpointing: bool = Field(False, description="Trade compute for memory")
    seed: int = Field(0, description="Seed for weights init, data order and dropout")
    num_threads: int | None = Field(None, ge=1, description="torch CPU threads (None = torch default)")
    adapter_dtype: Literal["float32", "bfloat16", "float16"] = Field(
        "float32", description="Dtype of the saved adapter weights (bf16 halves the file)")
    # Rafailov et al. 2023 and TRL's default
    dpo_beta: float = Field(0.1, gt=0, description="DPO: KL strength holding the policy near its reference")
    # Pang et al. 2024 (RPO): an NLL term on the chosen drafts keeps their likelihood from falling
    dpo_sft_weight: float = Field(0.0, ge=0, description="DPO: weight of an SFT loss on the chosen "
                                  "drafts added to the preference loss (0 = preference loss alone)")

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        if self.save_steps is None:
            self.save_steps = self.eval_steps
        if self.val_file and self.save_steps % self.eval_steps:
            raise ValueError(f"save_steps ({self.save_steps}) must be a multiple of eval_steps "
                             f"({self.eval_steps}) so the best checkpoint is on disk")
        if self.early_stopping_patience and not self.val_file:
            raise ValueError("early_stopping_patience needs a val_file (or set it to 0)")
        if self.max_steps == 0 or self.max_steps < -1:
            raise ValueError("max_steps must be positive, or -1 to train for `epochs`")
        if self.quantize_4bit and self.device == "cpu":
            raise ValueError("quantize_4bit (QLoRA) needs device cuda or auto")
        return self


def _parse_override(item: str) -> tuple[list[str], Any]:
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected key=value")
    key, raw = item.split("=", 1)
    try:
        value = parse_yaml(raw) if raw.strip() else None
    except (yaml.YAMLError, ValueError):
        value = raw
    return key.strip().split("."), value


def recipe_path(name_or_path: str) -> Path:
    """A recipe name (``cpu-quick``) or a YAML path, as a path that exists."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    named = CONFIG_DIR / f"{name_or_path.removesuffix('.yaml')}.yaml"
    if named.is_file():
        return named
    known = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")))
    raise ConfigError(f"no recipe {name_or_path!r}: give a YAML file or one of {known}")


def load_train_config(name_or_path: str | None = None, overrides: list[str] | None = None,
                      **fields: Any) -> TrainConfig:
    """Build a TrainConfig from a recipe, ``--set`` overrides and keyword fields.

    Args:
        name_or_path: Recipe name in ``echogpt/configs/`` or a YAML file; None = defaults only.
        overrides: ``key=value`` strings (values parsed as YAML; dotted keys reach into ``prompt``).
        **fields: Further fields, applied last.

    Returns:
        The validated config. Raises ConfigError (one line) for unknown keys or bad values.
    """
    data: dict[str, Any] = {}
    if name_or_path:
        path = recipe_path(name_or_path)
        try:
            data = parse_yaml(path.read_text()) or {}
        except (yaml.YAMLError, ValueError) as exc:
            raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a recipe is a mapping of config keys")
    for item in overrides or []:
        keys, value = _parse_override(item)
        target = data
        for k in keys[:-1]:
            target = target.setdefault(k, {})
        target[keys[-1]] = value
    data.update(fields)
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "config"
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(TrainConfig.model_fields)
            raise ConfigError(f"unknown config key {where!r}; allowed keys: {allowed}") from None
        raise ConfigError(f"config {where}: {err['msg']}") from None
