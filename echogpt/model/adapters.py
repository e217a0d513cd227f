"""Adapter folders: their metadata (``echogpt_adapter.json``), the checks that an adapter fits its
base model, loading base + adapter for training or inference, the one writer of a trained adapter
folder (SFT and DPO alike), and merging an adapter into a full-precision base.

    bundle = load_bundle(adapter="echogpt/adapters/smollm2-echo-demo")   # base taken from the adapter
    merge_adapter("runs/cpu-quick", "runs/cpu-quick-merged")
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from echogpt.files import data_hash
from echogpt.model.base import (
    MODEL_META,
    BaseModelRef,
    ModelError,
    get_peft_config,
    load_base_model,
    load_tokenizer,
    pick_device,
    resolve_base_model,
    weights_fingerprint,
)
from echogpt.model.prompts import DEFAULT_PROMPT, PromptSettings
from echogpt.model.recipes import ConfigError, TrainConfig

log = logging.getLogger(__name__)

ADAPTER_META = "echogpt_adapter.json"
DEMO_ADAPTER = Path(__file__).parents[1] / "adapters" / "smollm2-echo-demo"
"""The adapter shipped with the package (trained on the synthetic corpus); the copilot's default."""


class AdapterMeta(BaseModel):
    """What ``echogpt_adapter.json`` records about an adapter (unknown keys kept for newer files)."""

    model_config = ConfigDict(extra="allow")
    base_model: str = Field(description="Stable identity of the base model")
    base_weights_hash: str | None = Field(None, description="Weights hash of the base model")
    base_model_hint: str | None = Field(None, description="Local folder of a local:<name> base")
    adapter_weights_hash: str | None = None
    method: str = "sft"
    prompt_settings: PromptSettings = Field(default_factory=lambda: DEFAULT_PROMPT)
    config: dict[str, Any] = Field(default_factory=dict, description="Resolved training config")
    data: dict[str, Any] = Field(
        default_factory=dict, description="Data files, their hashes (echogpt.files.data_hash; 16 hex "
                                          "digits of the file's bytes in older folders) and counts")
    truncated_examples: int | None = None
    longest_example_tokens: int | None = None
    examples_seen: int | None = None
    final_val_loss: float | None = None
    best_val_loss: float | None = None
    best_step: int | None = None
    final_loss: float | None = Field(None, description="Last logged training loss (DPO)")
    reward_accuracy: float | None = Field(None, description="Last logged DPO reward accuracy")
    steps: int | None = None
    seconds: float | None = None
    seed: int | None = None
    command: str | None = None


def read_adapter_meta(adapter: str | Path) -> AdapterMeta:
    """Read and check an adapter folder.

    Args:
        adapter: Folder written by ``echogpt train`` (or any PEFT LoRA adapter folder).

    Returns:
        Its metadata; a plain PEFT folder yields the base from ``adapter_config.json``.
    """
    folder = Path(adapter).expanduser()
    if not folder.is_dir():
        raise ModelError(f"adapter folder {folder} does not exist")
    config_path = folder / "adapter_config.json"
    if not config_path.is_file():
        raise ModelError(f"{folder} is not a PEFT adapter folder (no adapter_config.json)")
    meta_path = folder / ADAPTER_META
    try:
        if meta_path.is_file():
            return AdapterMeta.model_validate_json(meta_path.read_text())
        base = json.loads(config_path.read_text()).get("base_model_name_or_path")
    except ValueError as exc:
        raise ModelError(f"{folder}: unreadable adapter metadata ({str(exc).splitlines()[0]})") from None
    if not base:
        raise ModelError(f"{folder}/adapter_config.json names no base model")
    return AdapterMeta(base_model=base)


def resolve_adapter_base(meta: AdapterMeta, base_model: str | None = None) -> BaseModelRef:
    """The base model an adapter needs, checked against an explicitly requested one.

    Args:
        meta: The adapter's metadata.
        base_model: A base model the user asked for; None takes the adapter's own.

    Returns:
        The resolved base. Raises ModelError when the adapter was trained on another base.
    """
    name = base_model or meta.base_model
    if name.startswith("local:") and meta.base_model_hint:
        name = meta.base_model_hint
    ref = resolve_base_model(name)
    if ref.identity != meta.base_model:
        raise ModelError(f"this adapter was trained on {meta.base_model}, not on {ref.identity}; "
                         "use its base model or an adapter trained on this one")
    if meta.base_weights_hash and ref.weights_hash != meta.base_weights_hash:
        raise ModelError(f"this adapter was trained on {meta.base_model}@{meta.base_weights_hash}, "
                         f"but the weights found are @{ref.weights_hash} (a different checkpoint)")
    return ref


def training_start(config: TrainConfig) -> tuple[TrainConfig, AdapterMeta | None]:
    """Where a training run starts: a new LoRA on ``config.base_model``, or the adapter folder
    ``config.init_adapter`` names, whose prompt settings then replace the config's (the adapter
    only works with the prompt it learned) and whose base is the one to load.

    Args:
        config: The run's config; ``init_adapter`` is a folder or None (``echogpt train`` resolves
            ``active`` to the folder of the copilot's active adapter version before training).

    Returns:
        The config to train with and the metadata of the adapter it continues (None for a new
        LoRA). One-line ConfigError or ModelError when the adapter folder cannot be continued.
    """
    if not config.init_adapter:
        return config, None
    if config.init_adapter == "active":
        raise ConfigError("init_adapter=active names the copilot's active adapter version, which "
                          "`echogpt train` looks up; give the adapter folder here")
    meta = read_adapter_meta(config.init_adapter)  # one-line ModelError if missing or not an adapter
    if meta.prompt_settings != config.prompt:
        log.info("continuing %s with the prompt settings it was trained with", config.init_adapter)
    log.info("continuing adapter %s", config.init_adapter)
    return config.model_copy(update={"prompt": meta.prompt_settings}), meta


def load_for_training(config: TrainConfig, parent: AdapterMeta | None,
                      device: str) -> tuple[Any, Any, Any, BaseModelRef]:
    """The model, tokenizer and LoRA config a trainer starts from, and their base model.

    Args:
        config: The config ``training_start`` returned.
        parent: The metadata it returned (None: a new LoRA on ``config.base_model``).
        device: ``cpu`` or ``cuda``.

    Returns:
        ``(model, tokenizer, peft_config, base)``: with a parent the model is that adapter on its
        base, trainable, and ``peft_config`` is None; otherwise the bare base and a new LoRA's config.
    """
    ref = (resolve_adapter_base(parent, config.base_model) if parent is not None
           else resolve_base_model(config.base_model))
    tokenizer = load_tokenizer(ref)
    model = load_base_model(ref, device=device, dtype=config.dtype, quantize_4bit=config.quantize_4bit,
                            for_training=True, gradient_checkpointing=config.gradient_checkpointing)
    if parent is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(config.init_adapter), is_trainable=True)
        return model, tokenizer, None, ref
    layers = None
    if config.lora_top_layers is not None:
        total = model.config.get_text_config().num_hidden_layers
        layers = list(range(max(0, total - config.lora_top_layers), total))
    peft_config = get_peft_config(config.lora_r, config.lora_alpha, config.lora_dropout,
                                  config.target_modules, layers)
    return model, tokenizer, peft_config, ref


@dataclass
class ModelBundle:
    """A model ready for generation with everything needed to label its output."""

    model: Any
    tokenizer: Any
    base: BaseModelRef
    adapter: str | None = None
    prompt: PromptSettings = field(default_factory=lambda: DEFAULT_PROMPT)
    device: str = "cpu"


def load_bundle(base_model: str | None = None, adapter: str | Path | None = None, *,
                device: str = "auto", dtype: str = "auto", merge: bool = True) -> ModelBundle:
    """Load a base model, optionally with a LoRA adapter, for inference.

    Args:
        base_model: Base model name (default: the adapter's base, else ``Settings().base_model``).
        adapter: Adapter folder; its saved PromptSettings are used.
        device: ``auto``, ``cpu`` or ``cuda``.
        dtype: Weight dtype name (``auto`` = bf16).
        merge: Merge the adapter into the weights (no adapter overhead per token).

    Returns:
        The bundle (model in eval mode).
    """
    device = pick_device(device)
    if adapter is None:
        ref = resolve_base_model(base_model)
        return ModelBundle(load_base_model(ref, device=device, dtype=dtype), load_tokenizer(ref),
                           ref, None, DEFAULT_PROMPT, device)
    meta = read_adapter_meta(adapter)
    ref = resolve_adapter_base(meta, base_model)
    model = load_base_model(ref, device=device, dtype=dtype)
    from peft import PeftModel

    try:
        model = PeftModel.from_pretrained(model, str(adapter), is_trainable=False)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"cannot load adapter {adapter}: {str(exc).splitlines()[0]}") from None
    if merge:
        model = model.merge_and_unload()
    model.eval()
    return ModelBundle(model, load_tokenizer(ref), ref, str(adapter), meta.prompt_settings, device)


def merge_adapter(adapter: str | Path, out: str | Path) -> Path:
    """Merge a LoRA adapter into a full-precision (fp32) copy of its base and save it.

    The base is always loaded unquantized, so a QLoRA adapter is merged into real weights, not
    into 4-bit ones (merging into NF4 weights would round the update away).

    Args:
        adapter: Adapter folder.
        out: New folder for the merged model (must not exist or be empty).

    Returns:
        The output folder, loadable with ``from_pretrained`` and as ``--base-model``.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ModelError(f"{out} exists and is not empty")
    bundle = load_bundle(adapter=adapter, device="cpu", dtype="float32", merge=True)
    out.mkdir(parents=True, exist_ok=True)
    bundle.model.save_pretrained(out)
    bundle.tokenizer.save_pretrained(out)
    meta = read_adapter_meta(adapter)
    identity = f"merged:{bundle.base.identity}+{meta.adapter_weights_hash or Path(adapter).name}"
    (out / MODEL_META).write_text(json.dumps(
        {"identity": identity, "weights_hash": weights_fingerprint(out),
         "base_model": bundle.base.label, "adapter": str(adapter)}, indent=2))
    return out


def write_adapter_folder(model: Any, out: Path, config: TrainConfig, ref: BaseModelRef, *,
                         train_examples: int, val_examples: int = 0, **figures: Any) -> AdapterMeta:
    """Save a trained adapter as a folder that loads on its own: the one writer for SFT and DPO.

    The folder gets the PEFT weights (``adapter_model.safetensors``, in ``config.adapter_dtype``),
    ``adapter_config.json`` naming the base by its stable identity (never a machine-local path),
    ``config.yaml`` (the resolved config), ``echogpt_adapter.json`` (base identity and weights hash,
    prompt settings, data files with their ``data_hash``, the run's figures) and ``README.md``.

    Args:
        model: The trained PeftModel; only its ``default`` adapter is saved (not DPO's reference copy).
        out: The folder.
        config: The config trained with (``training_start``'s), naming method, data and parent.
        ref: The base model.
        train_examples: Examples (or preference pairs) trained on.
        val_examples: Validation examples scored.
        **figures: AdapterMeta fields of the run (steps, losses, seconds, command, ...).

    Returns:
        The metadata written.
    """
    import yaml

    model.save_pretrained(out, selected_adapters=["default"])
    if config.adapter_dtype != "float32":
        _cast_adapter(out, config.adapter_dtype)
    cfg_path = out / "adapter_config.json"
    adapter_cfg = json.loads(cfg_path.read_text())
    adapter_cfg["base_model_name_or_path"] = ref.identity
    cfg_path.write_text(json.dumps(adapter_cfg, indent=2))
    resolved = config.model_dump(mode="json")
    (out / "config.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))
    data = {"train_file": config.train_file, "train_hash": data_hash(config.train_file),
            "parent_adapter": config.init_adapter, "train_examples": train_examples,
            "val_examples": val_examples}
    if config.val_file and val_examples:
        data.update(val_file=config.val_file, val_hash=data_hash(config.val_file))
    meta = AdapterMeta(
        base_model=ref.identity, base_weights_hash=ref.weights_hash,
        base_model_hint=ref.path if ref.identity.startswith("local:") else None,
        adapter_weights_hash=weights_fingerprint(out), method=config.method,
        prompt_settings=config.prompt, config=resolved, data=data, seed=config.seed, **figures)
    (out / ADAPTER_META).write_text(meta.model_dump_json(indent=2))
    from echogpt.model.cards import write_model_card

    write_model_card(out)
    return meta


def _cast_adapter(out: Path, dtype: str) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    path = out / "adapter_model.safetensors"
    tensors = load_file(path)
    target = getattr(torch, dtype)
    save_file({k: v.to(target) for k, v in tensors.items()}, path, metadata={"format": "pt"})


