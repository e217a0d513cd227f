"""The embedded model's GGUF weights with a LoRA adapter merged in, the file the llama.cpp engine runs.

The embedded base model ships as a GGUF file (``base.embedded_gguf``). A PEFT adapter is merged into a
copy of those weights once (dequantized, updated in fp32, stored as bf16 or f16 so the update
survives) and the file is cached under ``ECHOGPT_HOME``.

    path = cached_gguf(adapter="echogpt/adapters/smollm2-echo-demo")
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path

import numpy as np

from echogpt.config import Settings
from echogpt.model.base import ModelError, embedded_cache_dir, embedded_gguf

log = logging.getLogger(__name__)

# PEFT module names -> llama.cpp tensor names (Llama architecture)
_TARGETS = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
            "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
            "mlp.down_proj": "ffn_down"}
GGUF_FORMAT = 1  # bump when the written file changes, so cached files are rebuilt


def _permute(w: np.ndarray, n_head: int) -> np.ndarray:
    # llama.cpp stores Q and K rows in the rotary layout of the original checkpoints (what the GGUF
    # converter does to q_proj/k_proj); an update to those rows has to be laid out the same way
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _gguf_heads(gguf_path: Path) -> tuple[int, int]:
    from gguf import GGUFReader

    reader = GGUFReader(str(gguf_path))

    def value(key: str) -> int:
        field = reader.fields[key]
        return int(field.parts[field.data[0]][0])

    return value("llama.attention.head_count"), value("llama.attention.head_count_kv")


def _pattern(patterns: dict[str, float] | None, module: str, default: float) -> float:
    # PEFT's rank_pattern / alpha_pattern: a key matches a module name or its dotted suffix
    for key, value in (patterns or {}).items():
        if re.match(rf"(.*\.)?({key})$", module):
            return value
    return default


def lora_deltas(adapter: str | Path, base_gguf: str | Path | None = None) -> dict[str, np.ndarray]:
    """The weight update of each LoRA module, by llama.cpp tensor name (fp32, base layout).

    Each update is ``scale * B @ A`` with PEFT's scale (alpha / r, or alpha / sqrt(r) with rsLoRA;
    per-module ranks and alphas included); Q and K updates are permuted like the base weights.

    Args:
        adapter: PEFT adapter folder (``adapter_config.json`` and ``adapter_model.safetensors``).
        base_gguf: The base model's GGUF (head counts); default the embedded model's.

    Returns:
        {"blk.18.attn_q.weight": array (out, in), ...}
    """
    from safetensors.torch import load_file  # numpy has no bf16: adapters trained on bf16 bases

    adapter = Path(adapter)
    try:
        config = json.loads((adapter / "adapter_config.json").read_text())
        stored = load_file(str(adapter / "adapter_model.safetensors"))
        weights = {k: v.float().numpy() for k, v in stored.items()}
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"cannot read the adapter in {adapter}: {exc}") from None
    if config.get("peft_type") != "LORA" or config.get("use_dora") or config.get("modules_to_save"):
        raise ModelError(f"{adapter}: only plain LoRA adapters run on llama.cpp (no DoRA, no saved modules)")
    n_head, n_head_kv = _gguf_heads(Path(base_gguf) if base_gguf else embedded_gguf())
    out: dict[str, np.ndarray] = {}
    for key in sorted(weights):
        if ".lora_A." not in key:
            continue
        module = key.split(".lora_A.")[0]  # base_model.model.model.layers.18.self_attn.q_proj
        parts = module.split(".")
        if "layers" not in parts:
            raise ModelError(f"{adapter}: LoRA on {module} is not supported by the llama.cpp engine")
        layer = int(parts[parts.index("layers") + 1])
        short = ".".join(parts[parts.index("layers") + 2:])
        if short not in _TARGETS:
            raise ModelError(f"{adapter}: LoRA on {short} is not supported by the llama.cpp engine")
        short_name = module.removeprefix("base_model.model.")
        rank = int(_pattern(config.get("rank_pattern"), short_name, config["r"]))
        alpha = float(_pattern(config.get("alpha_pattern"), short_name, config["lora_alpha"]))
        scale = alpha / (rank ** 0.5 if config.get("use_rslora") else rank)
        a = weights[key].astype(np.float32)
        b = weights[f"{module}.lora_B.weight"].astype(np.float32)
        delta = (b @ a) * scale
        if short == "self_attn.q_proj":
            delta = _permute(delta, n_head)
        elif short == "self_attn.k_proj":
            delta = _permute(delta, n_head_kv)
        out[f"blk.{layer}.{_TARGETS[short]}.weight"] = delta
    if not out:
        raise ModelError(f"{adapter}: no LoRA weights found")
    return out


def write_merged_gguf(out: str | Path, adapter: str | Path | None = None, *, weights: str = "f16",
                      base_gguf: str | Path | None = None) -> Path:
    """Write the base GGUF with an adapter merged in, its matrices stored as ``weights``.

    The 4-bit base matrices are dequantized, the LoRA update added in fp32, and the result stored
    as bf16 (CPUs with native bf16) or f16 (any CPU); either keeps the update, which re-quantizing
    to 4 or 8 bits would blur (greedy drafts then part from the PyTorch engine's within a few
    tokens). Norms and the embedding keep their stored form.

    Args:
        out: The GGUF file to write.
        adapter: PEFT adapter folder, or None for the base model alone.
        weights: "bf16" or "f16".
        base_gguf: Base model GGUF; default the embedded model's.

    Returns:
        The written path.
    """
    import gguf
    from gguf.quants import dequantize, quantize

    qtype = {"bf16": gguf.GGMLQuantizationType.BF16, "f16": gguf.GGMLQuantizationType.F16}[weights]
    base = Path(base_gguf) if base_gguf else embedded_gguf()
    deltas = lora_deltas(adapter, base) if adapter else {}
    reader = gguf.GGUFReader(str(base))
    writer = gguf.GGUFWriter(str(out), arch="llama")
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        vtype = field.types[0]
        if key == "general.file_type":
            writer.add_uint32(key, {"bf16": gguf.LlamaFileType.MOSTLY_BF16,
                                    "f16": gguf.LlamaFileType.MOSTLY_F16}[weights])
        elif vtype == gguf.GGUFValueType.ARRAY:
            writer.add_key_value(key, field.contents(), vtype, sub_type=field.types[1])
        else:
            writer.add_key_value(key, field.contents(), vtype)
    for tensor in reader.tensors:
        shape = tuple(int(v) for v in reversed(tensor.shape))
        if tensor.tensor_type == gguf.GGMLQuantizationType.F32:
            writer.add_tensor(tensor.name, np.asarray(tensor.data).reshape(shape))
            continue
        if tensor.name == "token_embd.weight":  # LoRA leaves it alone: the stored blocks as they are
            writer.add_tensor(tensor.name, tensor.data, raw_shape=tensor.data.shape,
                              raw_dtype=tensor.tensor_type)
            continue
        matrix = dequantize(tensor.data, tensor.tensor_type).reshape(shape).astype(np.float32)
        if tensor.name in deltas:
            matrix += deltas.pop(tensor.name)
        data = quantize(matrix, qtype)
        writer.add_tensor(tensor.name, data, raw_shape=data.shape, raw_dtype=qtype)
    if deltas:
        raise ModelError(f"{adapter}: tensors not in the base model: {', '.join(sorted(deltas)[:3])}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Path(out)


def cached_gguf(adapter: str | Path | None = None, weights: str | None = None,
                settings: Settings | None = None) -> Path:
    """The embedded model (with ``adapter`` merged) as a GGUF under ``ECHOGPT_HOME``, written once.

    Args:
        adapter: PEFT adapter folder or None.
        weights: "bf16", "f16" or None (bf16 where the CPU computes it natively, else f16).
        settings: Installation settings.

    Returns:
        The file (keyed by the base file, the adapter's weights and config, and the format).
    """
    from echogpt.model.base import cpu_has_fast_bf16, file_sha256

    weights = weights or ("bf16" if cpu_has_fast_bf16() else "f16")
    digest = hashlib.sha256(f"{GGUF_FORMAT}:{weights}:{file_sha256(embedded_gguf())}".encode())
    if adapter is not None:
        for name in ("adapter_config.json", "adapter_model.safetensors"):
            try:
                digest.update((Path(adapter) / name).read_bytes())
            except OSError as exc:
                raise ModelError(f"cannot read the adapter in {adapter}: {exc}") from None
    folder = embedded_cache_dir(settings).parent / "gguf"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{'merged' if adapter else 'base'}-{weights}-{digest.hexdigest()[:16]}.gguf"
    if not path.exists():
        log.info("writing %s for llama.cpp (once)", path.name)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        try:
            write_merged_gguf(tmp, adapter, weights=weights)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
    return path
