"""Token sources for drafting that can stop anywhere and go on from another prefix: what the guard
decodes with. Each keeps the cache of the last prefix it decoded, so going on from a prefix that
shares its beginning computes only the new tokens (llama.cpp keeps sequence 0's cells; the PyTorch
source keeps a ``DynamicCache`` and crops it to the shared beginning).

    source = token_source(generator)
    for token in source.tokens(prompt_ids + draft_ids, max_new_tokens=64): ...
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np


class TokenSource(Protocol):
    """New tokens after a prefix, one at a time; closing the iterator stops decoding."""

    eos_id: int

    def tokens(
        self,
        prefix: Sequence[int],
        *,
        max_new_tokens: int,
        ban_first: Sequence[int] = (),
        seed: int | None = None,
    ) -> Iterator[int]:
        """Tokens after ``prefix``: greedy, or sampled with ``seed``; the first is never in ``ban_first``.

        Args:
            prefix: Prompt and draft token ids.
            max_new_tokens: Bound on the tokens yielded.
            ban_first: Token ids the first new token may not be.
            seed: Sample (temperature and top-p of the source) with this seed; None for greedy.

        Returns:
            An iterator of token ids, ending after the end-of-turn token or the bound.
        """
        ...


def nucleus(
    logits: np.ndarray,
    rng: np.random.Generator | None,
    temperature: float,
    top_p: float,
    banned: Sequence[int] = (),
) -> int:
    """One token from logits: argmax (``rng`` None) or nucleus sampling, never a banned one."""
    z = logits.astype(np.float64)
    if banned:
        z[list(banned)] = -np.inf
    if rng is None:
        return int(z.argmax())
    z = z / temperature
    probs = np.exp(z - z.max())
    probs /= probs.sum()
    order = np.argsort(-probs)
    keep = order[: int(np.searchsorted(np.cumsum(probs[order]), top_p)) + 1]
    return int(rng.choice(keep, p=probs[keep] / probs[keep].sum()))


class LlamaCppSource:
    """Tokens from the llama.cpp engine; its held cells are the cache."""

    def __init__(self, engine: Any, eos_id: int, temperature: float = 0.7, top_p: float = 0.9) -> None:
        self.engine, self.eos_id, self.temperature, self.top_p = engine, eos_id, temperature, top_p

    def tokens(
        self,
        prefix: Sequence[int],
        *,
        max_new_tokens: int,
        ban_first: Sequence[int] = (),
        seed: int | None = None,
    ) -> Iterator[int]:
        """See ``TokenSource.tokens``."""
        sampling = (self.temperature, self.top_p, seed) if seed is not None else None
        run = self.engine.run(
            [list(prefix)], max_new_tokens, {self.eos_id}, sampling=sampling, ban_first=list(ban_first)
        )
        try:
            for _, token in run:
                yield token
        finally:
            run.close()


class TorchSource:
    """Tokens from a Hugging Face causal LM, one forward pass each, over a kept ``DynamicCache``."""

    def __init__(
        self, model: Any, device: str, eos_id: int, temperature: float = 0.7, top_p: float = 0.9
    ) -> None:
        self.model, self.device, self.eos_id = model, device, eos_id
        self.temperature, self.top_p = temperature, top_p
        self.cache: Any = None
        self.cached: list[int] = []  # the token ids whose keys and values the cache holds
        self.computed = 0  # prefix tokens the last call computed (the rest came from the cache)

    def _reuse(self, prefix: Sequence[int]) -> int:
        """Crop the cache to its longest beginning shared with ``prefix`` (its last token left out)."""
        from transformers import DynamicCache

        n = 0
        limit = min(len(self.cached), len(prefix) - 1)
        while n < limit and self.cached[n] == prefix[n]:
            n += 1
        if self.cache is None or n == 0:
            self.cache, n = DynamicCache(), 0
        elif self.cache.get_seq_length() > n:
            self.cache.crop(n - self.cache.get_seq_length())  # a negative count: tokens off the end
        self.cached = list(prefix[:n])
        return n

    def _cache_arg(self) -> str:
        import inspect

        return "cache" if "cache" in inspect.signature(self.model.forward).parameters else "past_key_values"

    def _rules(self) -> tuple[list[int], bool, float | None]:
        """What the model's generation config asks of every draft: tokens never written, no token
        repeated (``no_repeat_ngram_size`` 1, within one call), a time bound in seconds."""
        config = getattr(self.model, "generation_config", None)
        suppress = list(getattr(config, "suppress_tokens", None) or [])
        return suppress, getattr(config, "no_repeat_ngram_size", 0) == 1, getattr(config, "max_time", None)

    def tokens(
        self,
        prefix: Sequence[int],
        *,
        max_new_tokens: int,
        ban_first: Sequence[int] = (),
        seed: int | None = None,
    ) -> Iterator[int]:
        """See ``TokenSource.tokens``; the model's generation config is honoured (``_rules``)."""
        import time

        import torch

        if not prefix:
            raise ValueError("empty prompt")
        rng = np.random.default_rng(seed) if seed is not None else None
        suppress, no_repeat, max_time = self._rules()
        n = self._reuse(prefix)
        feed = list(prefix[n:])
        self.computed = len(feed)
        banned, written, started = list(ban_first), [], time.perf_counter()
        for _ in range(max_new_tokens):
            with torch.inference_mode():
                ids = torch.tensor([feed], device=self.device)
                # updated in place (transformers 5 names it ``cache``, earlier ``past_key_values``)
                out = self.model(input_ids=ids, use_cache=True, **{self._cache_arg(): self.cache})
            self.cached.extend(feed)
            logits = out.logits[0, -1].float().cpu().numpy()
            token = nucleus(logits, rng, self.temperature, self.top_p, [*banned, *suppress, *written])
            banned = []
            if no_repeat:
                written.append(token)
            yield token
            if token == self.eos_id or (max_time and time.perf_counter() - started > max_time):
                return
            feed = [token]


def token_source(generator: Any) -> TokenSource:
    """The token source of a loaded ``Generator`` (its engine, or its PyTorch model).

    Args:
        generator: An ``echogpt.model.generator.Generator``.

    Returns:
        A LlamaCppSource or a TorchSource with the generator's sampling settings.
    """
    eos = generator.bundle.tokenizer.eos_token_id
    if generator.engine is not None:
        return LlamaCppSource(generator.engine, eos, generator.temperature, generator.top_p)
    return TorchSource(
        generator.bundle.model, generator.bundle.device, eos, generator.temperature, generator.top_p
    )
