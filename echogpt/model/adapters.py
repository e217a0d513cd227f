"""Adapter folders: their metadata (``echogpt_adapter.json``), the checks that an adapter fits its
base model, loading base + adapter for inference, and merging an adapter into a full-precision base.

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

from echogpt.model.base import (
    MODEL_META,
    BaseModelRef,
    ModelError,
    load_base_model,
    load_tokenizer,
    pick_device,
    resolve_base_model,
    weights_fingerprint,
)
from echogpt.model.prompts import DEFAULT_PROMPT, PromptSettings

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
    data: dict[str, Any] = Field(default_factory=dict, description="Data files, hashes and counts")
    truncated_examples: int | None = None
    final_val_loss: float | None = None
    best_val_loss: float | None = None
    best_step: int | None = None
    steps: int | None = None
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
