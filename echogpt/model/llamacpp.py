"""The llama.cpp engine: CPU drafting with the embedded model's own GGUF weights and a LoRA adapter.

llama.cpp runs the embedded model on a CPU several times faster than PyTorch does, from a GGUF file
with the adapter merged in (``echogpt.model.merged_gguf``). Prompts are rendered and tokenized by the
Hugging Face tokenizer exactly as for the PyTorch engine; llama.cpp only sees token ids. Decoding is
greedy unless sampling is asked for.

The engine needs the optional ``llama-cpp-python`` package (``pip install -e '.[fast]'``, built from
source with the machine's compiler); without it generation uses PyTorch.

    engine = LlamaCppEngine.load(adapter="echogpt/adapters/smollm2-echo-demo")
    ids = engine.generate([prompt_ids], max_new_tokens=256, stop_ids={eos})[0]
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from echogpt.config import Settings
from echogpt.model.base import ModelError
from echogpt.model.merged_gguf import cached_gguf

log = logging.getLogger(__name__)


def available() -> bool:
    """Whether the ``llama_cpp`` package is installed."""
    return importlib.util.find_spec("llama_cpp") is not None


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
