"""The llama.cpp engine: CPU drafting with the embedded model's own GGUF weights and a LoRA adapter.

The embedded base model ships as a GGUF file (``modeling.embedded_gguf``). llama.cpp runs it on a
CPU several times faster than PyTorch does. A PEFT adapter is merged into a copy of those weights
once (dequantized, updated in fp32, stored as bf16 or f16 so the update survives) and the
file is cached under ``ECHOGPT_HOME``. Prompts are rendered and tokenized by the Hugging Face
tokenizer exactly as for the PyTorch engine; llama.cpp only sees token ids. Decoding is greedy
unless sampling is asked for.

The engine needs the optional ``llama-cpp-python`` package (``pip install -e '.[fast]'``, built from
source with the machine's compiler); without it generation uses PyTorch.

    engine = LlamaCppEngine.load(adapter="echogpt/adapters/smollm2-echo-demo")
    ids = engine.generate([prompt_ids], max_new_tokens=256, stop_ids={eos})[0]
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from echogpt.config import Settings
from echogpt.model.base import ModelError, embedded_cache_dir, embedded_gguf

log = logging.getLogger(__name__)

# PEFT module names -> llama.cpp tensor names (Llama architecture)
_TARGETS = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
            "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
            "mlp.down_proj": "ffn_down"}
GGUF_FORMAT = 1  # bump when the written file changes, so cached files are rebuilt


def available() -> bool:
    """Whether the ``llama_cpp`` package is installed."""
    return importlib.util.find_spec("llama_cpp") is not None


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


def _common_length(seqs: Sequence[Sequence[int]], limit: int) -> int:
    """How many leading tokens all sequences share (at most ``limit``)."""
    n = 0
    first = seqs[0]
    while n < limit and all(len(s) > n and s[n] == first[n] for s in seqs):
        n += 1
    return n


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_LOG_CALLBACK: Any = None


def _quiet(lib: Any) -> None:
    """Route llama.cpp's own log lines to Python logging at debug level (once per process)."""
    global _LOG_CALLBACK
    if _LOG_CALLBACK is not None:
        return

    @lib.llama_log_callback
    def callback(level: int, text: bytes, user_data: Any) -> None:  # noqa: ARG001
        log.debug("llama.cpp: %s", text.decode("utf-8", "replace").rstrip())

    _LOG_CALLBACK = callback  # kept alive: llama.cpp holds the pointer
    lib.llama_log_set(callback, ctypes.c_void_p(0))


class LlamaCppEngine:
    """Decoding with llama.cpp (greedy, or seeded nucleus sampling), one sequence or a batch of them
    in one context, each sequence in its own cache cells.

    One context serves one call at a time (a lock); it grows when a call needs more sequences or
    tokens than it holds.
    """

    def __init__(self, model_path: str | Path, *, threads: int | None = None, n_batch: int = 512) -> None:
        import llama_cpp as lib

        self.lib = lib
        _quiet(lib)
        lib.llama_backend_init()
        params = lib.llama_model_default_params()
        # No repacked weight buffers: on CPUs with AMX (Sapphire Rapids and later) llama.cpp moves the
        # Q8_0 embedding/output matrix into an AMX buffer whose matmul crashes on the first batch
        # (ggml-org/llama.cpp#20824, unfixed). The other weights are bf16/f16, which no repack covers.
        params.use_extra_bufts = False
        self.model = lib.llama_model_load_from_file(str(model_path).encode(), params)
        if not self.model:
            raise ModelError(f"llama.cpp cannot load {model_path}")
        self.n_vocab = lib.llama_vocab_n_tokens(lib.llama_model_get_vocab(self.model))
        self.threads = threads or _threads()
        self.n_batch = n_batch
        self.lock = threading.Lock()
        self._ctx: Any = None
        self._shape = (0, 0)  # (sequences, tokens) the context holds
        self._held: list[int] = []  # the tokens (a prompt and what followed) sequence 0's cells hold
        self.computed = 0  # prompt tokens the last call computed (the rest came from the cache)
        self.reuse = True  # compute a shared prompt beginning once (False: every prompt whole)

    def __del__(self) -> None:  # pragma: no cover - interpreter shutdown order varies
        try:
            if self._ctx:
                self.lib.llama_free(self._ctx)
            if self.model:
                self.lib.llama_model_free(self.model)
        except Exception:  # noqa: BLE001
            pass

    @classmethod
    def load(cls, adapter: str | Path | None = None, settings: Settings | None = None) -> LlamaCppEngine:
        """The engine on the embedded model's weights, with ``adapter`` (a PEFT folder) merged in."""
        return cls(cached_gguf(adapter, settings=settings))

    def _context(self, n_seq: int, n_tokens: int) -> Any:
        lib = self.lib
        if self._ctx is not None and n_seq <= self._shape[0] and n_tokens <= self._shape[1]:
            return self._ctx
        if self._ctx is not None:
            lib.llama_free(self._ctx)
            self._ctx = None
        self._held = []
        n_seq = max(n_seq, self._shape[0])
        n_tokens = max(-(-n_tokens // 256) * 256, self._shape[1])
        params = lib.llama_context_default_params()
        params.n_ctx = n_seq * n_tokens
        params.n_batch = params.n_ubatch = self.n_batch
        params.n_seq_max = n_seq
        params.n_threads = params.n_threads_batch = self.threads
        params.kv_unified = False  # sequences share no prefix: each attends over its own cells only
        params.no_perf = True
        ctx = lib.llama_init_from_model(self.model, params)
        if not ctx:
            raise ModelError(f"llama.cpp cannot make a context for {n_seq} x {n_tokens} tokens")
        self._ctx, self._shape = ctx, (n_seq, n_tokens)
        return ctx

    def _pick(self, ctx: Any, index: int, rng: np.random.Generator | None, temperature: float,
              top_p: float, banned: Sequence[int] = ()) -> int:
        logits = np.ctypeslib.as_array(self.lib.llama_get_logits_ith(ctx, index), shape=(self.n_vocab,))
        if banned:  # a copy: the context's own logits buffer stays as llama.cpp wrote it
            logits = logits.copy()
            logits[list(banned)] = -np.inf
        if rng is None:
            return int(logits.argmax())
        z = logits.astype(np.float64) / temperature  # nucleus sampling, as transformers does it
        probs = np.exp(z - z.max())
        probs /= probs.sum()
        order = np.argsort(-probs)
        keep = order[: int(np.searchsorted(np.cumsum(probs[order]), top_p)) + 1]
        return int(rng.choice(keep, p=probs[keep] / probs[keep].sum()))

    def run(self, prompts: Sequence[Sequence[int]], max_new_tokens: int, stop_ids: set[int],
            sampling: tuple[float, float, int] | None = None,
            ban_first: Sequence[int] = ()) -> Iterator[tuple[int, int]]:
        """Tokens as they are decoded: (prompt index, token id) pairs.

        Sequence 0's cache cells stay held after the call, its prompt and the tokens decoded after
        it, so a next call whose first prompt continues them (the guard's next statement) computes
        only what is new. Closing the iterator early keeps what was decoded.

        Args:
            prompts: Token ids of each prompt (decoded together, one sequence each).
            max_new_tokens: Bound per sequence.
            stop_ids: A sequence ends after one of these (yielded) or after ``max_new_tokens``.
            sampling: (temperature, top_p, seed) to sample; None for greedy decoding.
            ban_first: Token ids the first new token of every sequence may not be.

        Returns:
            An iterator of (prompt index, token id).
        """
        lib = self.lib
        rng = np.random.default_rng(sampling[2]) if sampling else None
        temperature, top_p = (sampling[0], sampling[1]) if sampling else (1.0, 1.0)
        n = len(prompts)
        if n == 0:
            return
        if any(len(p) == 0 for p in prompts):
            raise ValueError("empty prompt")
        with self.lock:
            ctx = self._context(n, max(len(p) for p in prompts) + max_new_tokens + 1)
            batch = lib.llama_batch_init(max(self.n_batch, n), 0, 1)
            try:
                def pick(j: int) -> int:
                    return self._pick(ctx, j, rng, temperature, top_p)

                def pick_first(j: int) -> int:
                    return self._pick(ctx, j, rng, temperature, top_p, ban_first)

                shared = self._prefill_shared(ctx, batch, prompts)
                nxt = self._prefill_rest(ctx, batch, prompts, shared, pick_first)
                held = self._held = list(prompts[0])
                pos_of = {i: len(p) for i, p in enumerate(prompts)}
                produced = dict.fromkeys(range(n), 0)
                active = list(range(n))
                while active:
                    still = []
                    for i in active:
                        tok = nxt[i]
                        produced[i] += 1
                        yield i, tok
                        if tok not in stop_ids and produced[i] < max_new_tokens:
                            still.append(i)
                    active = still
                    if not active:
                        break
                    for j, i in enumerate(active):
                        self._put(batch, j, nxt[i], pos_of[i], i, True)
                        pos_of[i] += 1
                    batch.n_tokens = len(active)
                    try:
                        self._decode(ctx, batch)
                    except ModelError:
                        self._held = []
                        raise
                    if active[0] == 0:
                        held.append(nxt[0])  # now in sequence 0's cells
                    for j, i in enumerate(active):
                        nxt[i] = pick(j)
            finally:
                lib.llama_batch_free(batch)

    def _prefill_rest(self, ctx: Any, batch: Any, prompts: Sequence[Sequence[int]], shared: int,
                      pick: Callable[[int], int]) -> dict[int, int]:
        """Compute each prompt past its shared beginning, in chunks, with logits only at each prompt's
        last token; return each prompt's first new token (``pick`` of its batch slot)."""
        nxt: dict[int, int] = {}
        todo = [(i, pos, p[pos]) for i, p in enumerate(prompts) for pos in range(shared, len(p))]
        for start in range(0, len(todo), self.n_batch):
            chunk = todo[start:start + self.n_batch]
            last = []
            for j, (i, pos, tok) in enumerate(chunk):
                is_last = pos == len(prompts[i]) - 1
                self._put(batch, j, tok, pos, i, is_last)
                if is_last:
                    last.append((i, j))
            batch.n_tokens = len(chunk)
            self._decode(ctx, batch)
            for i, j in last:
                nxt[i] = pick(j)
        return nxt

    def next_logits(self, prompt: Sequence[int]) -> np.ndarray:
        """The logits of the token after ``prompt``, computed whole in one sequence (nothing reused).

        Greedy decoding picks their argmax; a caller can see how close the runner-up was.
        """
        if not prompt:
            raise ValueError("empty prompt")
        lib = self.lib
        with self.lock:
            ctx = self._context(1, len(prompt) + 1)
            self._held = []
            mem = lib.llama_get_memory(ctx)
            for i in range(self._shape[0]):
                lib.llama_memory_seq_rm(mem, i, -1, -1)
            batch = lib.llama_batch_init(self.n_batch, 0, 1)
            try:
                for start in range(0, len(prompt), self.n_batch):
                    stop = min(len(prompt), start + self.n_batch)
                    for j, pos in enumerate(range(start, stop)):
                        self._put(batch, j, prompt[pos], pos, 0, pos == len(prompt) - 1)
                    batch.n_tokens = stop - start
                    self._decode(ctx, batch)
                last = (len(prompt) - 1) % self.n_batch
                logits = lib.llama_get_logits_ith(ctx, last)
                return np.ctypeslib.as_array(logits, shape=(self.n_vocab,)).copy()
            finally:
                lib.llama_batch_free(batch)

    def forget(self) -> None:
        """Drop the cached prompt cells: the next call computes its whole prompt."""
        with self.lock:
            self._held = []

    def _prefill_shared(self, ctx: Any, batch: Any, prompts: Sequence[Sequence[int]]) -> int:
        """Put the prompts' common beginning into the cache once; return its length.

        Sequence 0 keeps the cells of the previous call's first prompt, so the part it shares with
        this call (the system prompt at least) is not computed again. The common beginning of all
        prompts is computed once in sequence 0 and copied to the others. The last token of each
        prompt is always left to compute (its logits give the first new token).
        """
        lib = self.lib
        mem = lib.llama_get_memory(ctx)
        shared = _common_length(prompts, min(len(p) for p in prompts) - 1) if self.reuse else 0
        kept = _common_length([self._held, prompts[0]], shared)
        self._held = []  # until the new prompt is in: a failed call leaves nothing to reuse
        lib.llama_memory_seq_rm(mem, 0, kept, -1)
        for i in range(1, self._shape[0]):
            lib.llama_memory_seq_rm(mem, i, -1, -1)
        first = prompts[0]
        for start in range(kept, shared, self.n_batch):
            stop = min(shared, start + self.n_batch)
            for j, pos in enumerate(range(start, stop)):
                self._put(batch, j, first[pos], pos, 0, False)
            batch.n_tokens = stop - start
            self._decode(ctx, batch)
        for i in range(1, len(prompts)):
            lib.llama_memory_seq_cp(mem, 0, i, -1, -1)  # another stream: the whole buffer is copied
        self.computed = shared - kept + sum(len(p) - shared for p in prompts)
        return shared

    @staticmethod
    def _put(batch: Any, j: int, token: int, pos: int, seq: int, logits: bool) -> None:
        batch.token[j] = token
        batch.pos[j] = pos
        batch.n_seq_id[j] = 1
        batch.seq_id[j][0] = seq
        batch.logits[j] = logits

    def _decode(self, ctx: Any, batch: Any) -> None:
        rc = self.lib.llama_decode(ctx, batch)
        if rc != 0:
            raise ModelError(f"llama.cpp decode failed (code {rc})")

    def generate(self, prompts: Sequence[Sequence[int]], max_new_tokens: int, stop_ids: set[int],
                 sampling: tuple[float, float, int] | None = None,
                 ban_first: Sequence[int] = ()) -> list[list[int]]:
        """New tokens of each prompt (a stop token included when reached); see ``run``."""
        out: list[list[int]] = [[] for _ in prompts]
        for i, tok in self.run(prompts, max_new_tokens, stop_ids, sampling, ban_first):
            out[i].append(tok)
        return out
