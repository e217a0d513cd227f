"""Seconds per optimizer step and training tokens/s for a recipe on this machine (never in CI).

    python benchmarks/train_step.py --config cpu-smollm2 --steps 6 --studies data/synth/train.jsonl
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="cpu-smollm2")
    parser.add_argument("--studies", required=True, help="Training studies JSONL")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()

    from transformers import TrainerCallback

    from echogpt.model.recipes import load_train_config
    from echogpt.model.train import train_sft

    class Timer(TrainerCallback):
        """Times each optimizer step and counts the tokens it saw."""

        def __init__(self) -> None:
            self.times: list[float] = []
            self.tokens: list[int] = []
            self._t0 = 0.0

        def on_step_begin(self, args, state, control, **kw):  # noqa: ANN001
            self._t0 = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):  # noqa: ANN001
            self.times.append(time.perf_counter() - self._t0)
            self.tokens.append(state.num_input_tokens_seen)

    timer = Timer()
    cfg = load_train_config(args.config, [*args.overrides, f"max_steps={args.steps}",
                                          f"eval_steps={args.steps}", "early_stopping_patience=0"],
                            train_file=args.studies, val_file=None)
    with tempfile.TemporaryDirectory() as out:
        train_sft(cfg, Path(out), resume=False, callbacks=[timer])
    steady = timer.times[1:] or timer.times  # the first step includes warm-up
    per_step = sum(steady) / len(steady)
    print(f"recipe {args.config}: batch {cfg.batch_size}x{cfg.grad_accum}, dtype {cfg.dtype}")
    print(f"seconds per optimizer step: {per_step:.2f} (first step {timer.times[0]:.2f})")
    seen = timer.tokens[-1] - timer.tokens[0] if len(timer.tokens) > 1 else 0
    if seen:
        print(f"training tokens/s: {seen / sum(steady):.0f}")


if __name__ == "__main__":
    main()
