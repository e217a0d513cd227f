"""Generation speed on this machine (never in CI): tokens/s at batch 1 and 16, time to first token
and the latency of one 100-token draft, for the embedded model (optionally with an adapter merged),
with the llama.cpp engine and the PyTorch engine.

    python benchmarks/generate_speed.py --studies data/synth/test.jsonl [--adapter DIR|none]
        [--engine both|llama.cpp|torch] [--dtype auto]

Exactly 100 new tokens are forced per sequence (end-of-turn suppressed) and only non-pad tokens
are counted. The adapter defaults to the shipped demo adapter (what the copilot drafts with); the
draft is timed as the copilot makes it (greedy; PyTorch also with prompt-lookup decoding). Batch
throughput counts the prompt's prefill; the decode-only figure leaves it out.
Targets on 2 cores: TTFT <= 1 s, draft <= 3 s, batch-16 >= 200 tok/s.
"""

from __future__ import annotations

import argparse
import time

NEW_TOKENS = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", required=True)
    parser.add_argument("--adapter", default="shipped", help="adapter folder, 'shipped' or 'none'")
    parser.add_argument("--base-model", default=None)
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--engine", default="both", choices=["both", "llama.cpp", "torch"])
    args = parser.parse_args()
    if args.engine in ("both", "llama.cpp"):
        llamacpp_speed(args)
    if args.engine in ("both", "torch"):
        torch_speed(args)


def _adapter(name: str | None) -> str | None:
    if name == "shipped":
        from echogpt.quickstart import DEMO_ADAPTER

        return str(DEMO_ADAPTER)
    return None if name == "none" else name


def llamacpp_speed(args: argparse.Namespace) -> None:
    """The llama.cpp engine on the embedded model's weights (adapter merged into a bf16/f16 GGUF)."""
    from echogpt.model.generator import load_generator
    from echogpt.model.prompts import build_messages
    from echogpt.model.train import read_studies

    t0 = time.perf_counter()
    gen = load_generator(args.base_model, _adapter(args.adapter), engine="llama.cpp")
    engine = gen.engine
    print(f"engine llama.cpp adapter={_adapter(args.adapter)} threads={engine.threads} "
          f"load {time.perf_counter() - t0:.1f} s")
    studies = read_studies(args.studies)[: args.batch]
    prompts = [gen._prompt_ids(build_messages(s, gen.prompt)) for s in studies]

    def timed(batch: list[list[int]], tokens: int) -> tuple[float, int]:
        start = time.perf_counter()
        out = engine.generate(batch, tokens, set())  # no stop token: exactly `tokens` each
        return time.perf_counter() - start, sum(len(o) for o in out)

    # The engine keeps the cells of its last prompt: a draft for a new study reuses the beginning
    # the two prompts share (system prompt, instruction). Each figure below starts from another
    # study's prompt in the cache, as in the copilot; the batch starts from an empty cache.
    timed(prompts[1:2], 2)  # warm-up (context creation)
    ttft, _ = timed(prompts[:1], 1)
    ttft_computed = engine.computed
    timed(prompts[1:2], 1)
    s1, n1 = timed(prompts[:1], NEW_TOKENS)
    engine.forget()
    ttft_cold, _ = timed(prompts[:1], 1)
    whole = []
    for _ in range(2):  # alternately, as the machine's speed drifts
        engine.reuse = False
        whole.append(timed(prompts, 1)[0])
        engine.reuse = True
        engine.forget()
        prefill, _ = timed(prompts, 1)
        whole.append(prefill)
    engine.forget()
    sb, nb = timed(prompts, NEW_TOKENS)
    total = sum(map(len, prompts))
    print(f"batch {len(prompts)} prefill, shared beginning once / every prompt whole: "
          f"{' '.join(f'{x:.2f}' for x in whole[1::2])} s / {' '.join(f'{x:.2f}' for x in whole[::2])} s")
    print(f"prompt tokens (mean): {total // len(prompts)}")
    print(f"time to first token: {ttft:.2f} s ({ttft_computed} of {len(prompts[0])} prompt tokens computed; "
          f"{ttft_cold:.2f} s with nothing cached)")
    print(f"draft latency (batch 1, {n1} tokens): {s1:.2f} s -> {n1 / s1:.1f} tok/s")
    print(f"batch {len(prompts)}: {nb} tokens in {sb:.2f} s -> {nb / sb:.1f} tok/s "
          f"(prefill {prefill:.2f} s for {engine.computed} of {total} prompt tokens, the shared beginning "
          f"once; decoding alone {nb / max(sb - prefill, 1e-9):.1f} tok/s)")


def torch_speed(args: argparse.Namespace) -> None:
    """The PyTorch engine (transformers ``generate``) on the converted embedded model."""

    import torch

    from echogpt.model.adapters import load_bundle
    from echogpt.model.generator import Generator
    from echogpt.model.train import read_studies

    if args.threads:
        torch.set_num_threads(args.threads)
    adapter = _adapter(args.adapter)
    t0 = time.perf_counter()
    bundle = load_bundle(args.base_model, adapter, device="cpu", dtype=args.dtype)
    print(f"engine torch, model {bundle.base.label} adapter={adapter} dtype={args.dtype} "
          f"threads={torch.get_num_threads()} load {time.perf_counter() - t0:.1f} s")
    gen = Generator(bundle, max_new_tokens=NEW_TOKENS)
    studies = read_studies(args.studies)[: args.batch]
    tok = bundle.tokenizer
    forced = {"min_new_tokens": NEW_TOKENS, "max_new_tokens": NEW_TOKENS}

    def run(batch: list, lookup: bool = False) -> tuple[float, int, int]:
        enc = gen._encode([gen_messages(s) for s in batch])
        gen.prompt_lookup = 10 if lookup else None
        start = time.perf_counter()
        with torch.inference_mode():
            out = bundle.model.generate(**enc, **{**gen._gen_kwargs(NEW_TOKENS, len(batch)), **forced})
        seconds = time.perf_counter() - start
        new = out[:, enc["input_ids"].shape[1]:]
        counted = int((new != tok.pad_token_id).sum())
        return seconds, counted, int(enc["attention_mask"].sum()) // len(batch)

    def gen_messages(study):  # noqa: ANN001, ANN202
        from echogpt.model.prompts import build_messages

        return build_messages(study, gen.prompt)

    run(studies[:1])  # warm-up
    enc = gen._encode([gen_messages(studies[0])])
    start = time.perf_counter()
    with torch.inference_mode():
        bundle.model.generate(**enc, **{**gen._gen_kwargs(1), "max_new_tokens": 1})
    ttft = time.perf_counter() - start
    s1, n1, p1 = run(studies[:1])
    s0, n0, _ = run(studies[:1], lookup=True)
    sb, nb, pb = run(studies)
    print(f"prompt tokens (mean): {p1} (batch 1), {pb} (batch {len(studies)})")
    print(f"time to first token: {ttft:.2f} s")
    print(f"draft latency (batch 1, {n1} tokens): {s1:.2f} s -> {n1 / s1:.1f} tok/s")
    print(f"  with prompt-lookup decoding: {s0:.2f} s -> {n0 / s0:.1f} tok/s")
    print(f"batch {len(studies)}: {nb} tokens in {sb:.2f} s -> {nb / sb:.1f} tok/s")


if __name__ == "__main__":
    main()
