"""The Generator: a loaded model that drafts impressions, in batches (left padded, greedy, bounded
new tokens) or streamed token by token for one study (the copilot), on PyTorch or llama.cpp; the
engine choice and the cached loader.

    gen = load_generator(adapter="echogpt/adapters/smollm2-echo-demo")
    for piece in gen.stream(study): print(piece, end="")
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from echogpt.model.adapters import ModelBundle, load_bundle
from echogpt.model.base import BaseModelRef
from echogpt.model.prompts import PromptSettings, build_messages, prompt_hash
from echogpt.schemas import Prediction, Study

log = logging.getLogger(__name__)

Mode = Literal["fine-tuned", "zero-shot", "few-shot", "template"]


@dataclass
class Generator:
    """A loaded model that drafts impressions, in batches or streamed."""

    bundle: ModelBundle
    max_new_tokens: int = 256
    do_sample: bool = False
    temperature: float = 0.7
    top_p: float = 0.9
    # Greedy single drafts may verify up to this many tokens copied from the prompt per forward pass
    # (prompt-lookup decoding; the output is the greedy output all the same). Off by default: on an
    # AVX2-only 2-core CPU a 100-token draft took 20.0 s with it and 14.0 s without. Batches decode
    # token by token.
    prompt_lookup: int | None = None
    # llama.cpp engine (echogpt.model.llamacpp): when set, drafts come from it and bundle.model is unused
    engine: Any = None
    seed: int = 0

    @property
    def engine_name(self) -> str:
        """Which engine drafts: "llama.cpp" or "torch"."""
        return "llama.cpp" if self.engine is not None else "torch"

    @property
    def prompt(self) -> PromptSettings:
        """Prompt settings (the adapter's own for a fine-tuned model)."""
        return self.bundle.prompt

    def _gen_kwargs(self, max_new_tokens: int | None, batch: int = 16) -> dict[str, Any]:
        tok = self.bundle.tokenizer
        kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens or self.max_new_tokens,
                                  "eos_token_id": tok.eos_token_id, "pad_token_id": tok.pad_token_id,
                                  "do_sample": self.do_sample}
        if self.do_sample:
            kwargs.update(temperature=self.temperature, top_p=self.top_p)
        else:  # greedy: clear sampling defaults some generation configs carry
            kwargs.update(temperature=None, top_p=None, top_k=None)
            if batch == 1 and self.prompt_lookup:
                kwargs["prompt_lookup_num_tokens"] = self.prompt_lookup
        return kwargs

    def _prompt_text(self, messages: list[dict[str, str]]) -> str:
        return self.bundle.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def _encode(self, messages: list[list[dict[str, str]]]) -> Any:
        texts = [self._prompt_text(m) for m in messages]
        # The chat template already holds every special token; adding a BOS again would double it.
        return self.bundle.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(
            self.bundle.device)

    def generate_batch(self, studies: list[Study], mode: Mode = "zero-shot",
                       shots: Callable[[Study], list[Study]] | None = None,
                       max_new_tokens: int | None = None) -> list[Prediction]:
        """Draft impressions for a batch of studies (left padded, one ``generate`` call).

        Args:
            studies: The studies, drafted together.
            mode: Recorded in each Prediction.
            shots: Few-shot examples per study (few-shot mode).
            max_new_tokens: Override of the token bound.

        Returns:
            One Prediction per study, in input order; ``seconds`` is the batch time shared equally.
        """
        tok = self.bundle.tokenizer
        messages = [build_messages(s, self.prompt, shots=shots(s) if shots else None) for s in studies]
        if self.engine is not None:
            return self._engine_batch(studies, messages, mode, max_new_tokens)
        import torch

        enc = self._encode(messages)
        started = time.perf_counter()
        with torch.inference_mode():
            out = self.bundle.model.generate(**enc, **self._gen_kwargs(max_new_tokens, len(studies)))
        seconds = (time.perf_counter() - started) / len(studies)
        width = enc["input_ids"].shape[1]
        predictions = []
        for i, study in enumerate(studies):
            new = out[i, width:].tolist()
            stopped = tok.eos_token_id in new
            new = new[: new.index(tok.eos_token_id) + 1] if stopped else new
            new = [t for t in new if t != tok.pad_token_id or t == tok.eos_token_id]
            predictions.append(Prediction(
                study_id=study.study_id, mode=mode,
                impression=tok.decode(new, skip_special_tokens=True).strip(),
                base_model=self.bundle.base.label, adapter=self.bundle.adapter,
                prompt_hash=prompt_hash(messages[i]), prompt_tokens=int(enc["attention_mask"][i].sum()),
                new_tokens=len(new), seconds=round(seconds, 3), stopped=stopped))
        return predictions

    def _prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        return self.bundle.tokenizer(self._prompt_text(messages), add_special_tokens=False)["input_ids"]

    def _engine_run(self, prompts: list[list[int]], max_new_tokens: int | None) -> Iterator[tuple[int, int]]:
        sampling = (self.temperature, self.top_p, self.seed) if self.do_sample else None
        return self.engine.run(prompts, max_new_tokens or self.max_new_tokens,
                               {self.bundle.tokenizer.eos_token_id}, sampling=sampling)

    def _engine_batch(self, studies: list[Study], messages: list[list[dict[str, str]]], mode: Mode,
                      max_new_tokens: int | None) -> list[Prediction]:
        tok = self.bundle.tokenizer
        prompts = [self._prompt_ids(m) for m in messages]
        new: list[list[int]] = [[] for _ in prompts]
        started = time.perf_counter()
        for i, token in self._engine_run(prompts, max_new_tokens):
            new[i].append(token)
        seconds = (time.perf_counter() - started) / len(studies)
        return [Prediction(study_id=study.study_id, mode=mode,
                           impression=tok.decode(new[i], skip_special_tokens=True).strip(),
                           base_model=self.bundle.base.label, adapter=self.bundle.adapter,
                           prompt_hash=prompt_hash(messages[i]), prompt_tokens=len(prompts[i]),
                           new_tokens=len(new[i]), seconds=round(seconds, 3),
                           stopped=bool(new[i]) and new[i][-1] == tok.eos_token_id)
                for i, study in enumerate(studies)]

    def _engine_stream(self, messages: list[dict[str, str]], max_new_tokens: int | None) -> Iterator[str]:
        tok = self.bundle.tokenizer
        ids: list[int] = []
        shown = ""
        for _, token in self._engine_run([self._prompt_ids(messages)], max_new_tokens):
            ids.append(token)
            text = tok.decode(ids, skip_special_tokens=True)
            if text.endswith("\ufffd"):
                continue  # a character split across tokens: wait for its last byte
            if len(text) > len(shown) and text.startswith(shown):
                yield text[len(shown):]
                shown = text
        text = tok.decode(ids, skip_special_tokens=True)
        if text != shown and text.startswith(shown):
            yield text[len(shown):]

    def stream(self, study: Study, shots: list[Study] | None = None,
               max_new_tokens: int | None = None) -> Iterator[str]:
        """Yield the impression text piece by piece as it is generated.

        Args:
            study: The study to draft.
            shots: Optional few-shot examples.
            max_new_tokens: Override of the token bound.

        Returns:
            An iterator of text pieces; joined they form the impression.
        """
        if self.engine is not None:
            yield from self._engine_stream(build_messages(study, self.prompt, shots=shots), max_new_tokens)
            return
        import torch
        from transformers import TextIteratorStreamer

        enc = self._encode([build_messages(study, self.prompt, shots=shots)])
        streamer = TextIteratorStreamer(self.bundle.tokenizer, skip_prompt=True,
                                        skip_special_tokens=True, timeout=600)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                with torch.inference_mode():
                    self.bundle.model.generate(**enc, streamer=streamer,
                                               **self._gen_kwargs(max_new_tokens, 1))
            except BaseException as exc:  # surfaced to the caller after the stream ends
                errors.append(exc)
                streamer.end()

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        yield from (piece for piece in streamer if piece)
        thread.join()
        if errors:
            raise errors[0]


def choose_engine(engine: str, base: BaseModelRef, device: str) -> str:
    """The engine that drafts: ``torch`` or ``llama.cpp``.

    Args:
        engine: ``auto``, ``torch`` or ``llama.cpp``; ``auto`` also reads ``ECHOGPT_ENGINE``.
        base: The resolved base model.
        device: ``auto``, ``cpu`` or ``cuda``.

    Returns:
        ``llama.cpp`` for the embedded model on a CPU when llama-cpp-python is installed (or when
        asked for, which fails with a one-line error where it cannot run), else ``torch``.
    """
    from echogpt.config import EMBEDDED_MODEL, Settings
    from echogpt.model import llamacpp
    from echogpt.model.base import ModelError, pick_device

    if engine == "auto":
        engine = Settings().engine
    if engine == "torch":
        return "torch"
    forced = engine == "llama.cpp"
    if base.identity != EMBEDDED_MODEL:
        if forced:
            raise ModelError(f"the llama.cpp engine runs the embedded model only, not {base.label}")
        return "torch"
    if not llamacpp.available():
        if forced:
            raise ModelError("the llama.cpp engine needs llama-cpp-python: pip install -e '.[fast]'")
        return "torch"
    if pick_device(device) != "cpu":
        if forced:
            raise ModelError("the llama.cpp engine runs on the CPU; use --device cpu")
        return "torch"
    return "llama.cpp"


def _engine_bundle(ref: BaseModelRef, adapter: str | None, prompt: PromptSettings) -> ModelBundle:
    """What a llama.cpp Generator needs besides the engine: tokenizer, identities, prompt settings."""
    from echogpt.model.base import load_tokenizer

    return ModelBundle(None, load_tokenizer(ref), ref, adapter, prompt, "cpu")


@functools.lru_cache(maxsize=2)
def load_generator(base_model: str | None = None, adapter: str | None = None, *,
                   device: str = "auto", dtype: str = "auto", max_new_tokens: int = 256,
                   engine: str = "auto") -> Generator:
    """A cached Generator (one load per base/adapter pair per process).

    Args:
        base_model: Base model name; None = the adapter's base or the default.
        adapter: Adapter folder, merged into the weights for speed (applied by llama.cpp there).
        device: ``auto``, ``cpu`` or ``cuda``.
        dtype: Weight dtype of the PyTorch engine (``auto``: bf16 where the hardware has it).
        max_new_tokens: Default token bound.
        engine: ``auto``, ``torch`` or ``llama.cpp`` (``choose_engine``).

    Returns:
        The generator.
    """
    from echogpt.model.adapters import read_adapter_meta, resolve_adapter_base
    from echogpt.model.base import ModelError, resolve_base_model
    from echogpt.model.prompts import DEFAULT_PROMPT

    adapter = str(adapter) if adapter else None
    meta = read_adapter_meta(adapter) if adapter else None
    ref = resolve_adapter_base(meta, base_model) if meta else resolve_base_model(base_model)
    if choose_engine(engine, ref, device) == "llama.cpp":
        from echogpt.model.llamacpp import LlamaCppEngine

        try:
            llama = LlamaCppEngine.load(adapter)
        except ModelError as exc:
            if engine == "llama.cpp":
                raise
            log.info("drafting with PyTorch: %s", exc)
        else:
            log.info("drafting with llama.cpp on the embedded model's GGUF weights")
            prompt = meta.prompt_settings if meta else DEFAULT_PROMPT
            return Generator(_engine_bundle(ref, adapter, prompt), max_new_tokens=max_new_tokens,
                             engine=llama)
    bundle = load_bundle(base_model, adapter, device=device, dtype=dtype)
    return Generator(bundle, max_new_tokens=max_new_tokens)
