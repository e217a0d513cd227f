"""A token source for guard tests: the tiny model writes gibberish, so the statements the guard must
act on are forced. ``Forced`` writes scripted text on chosen calls and lets the real model write
every other call.

    source = Forced(gen, {0: "1. LVEF 45%.", 1: " LVEF 25%."})
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from echogpt.model.decoding import token_source
from echogpt.model.generator import Generator


class Forced:
    """The real tiny model's token source, except on the calls named in ``script``, which write that
    text and then the end-of-turn token. Every call is recorded: (prefix, banned first tokens, seed)."""

    def __init__(self, gen: Generator, script: dict[int, str]) -> None:
        self.real = token_source(gen)
        self.eos_id = self.real.eos_id
        self.tok = gen.bundle.tokenizer
        self.script = script
        self.calls: list[tuple[list[int], list[int], int | None]] = []

    def tokens(
        self,
        prefix: Sequence[int],
        *,
        max_new_tokens: int,
        ban_first: Sequence[int] = (),
        seed: int | None = None,
    ) -> Iterator[int]:
        n = len(self.calls)
        self.calls.append((list(prefix), list(ban_first), seed))
        if n not in self.script:
            yield from self.real.tokens(prefix, max_new_tokens=max_new_tokens, ban_first=ban_first, seed=seed)
            return
        ids = self.tok(self.script[n], add_special_tokens=False)["input_ids"]
        assert not set(ids[:1]) & set(ban_first), "the script writes a banned first token"
        yield from ids[:max_new_tokens]
        yield self.eos_id
