"""Batch generation: studies drafted in length-sorted batches (or one by one with the guard) into a
resumable JSONL of Prediction records; the run's config, few-shot choice and summary. The model
itself is the Generator (``echogpt.model.generator``).

    run_generation("test.jsonl", "pred.jsonl", GenerateConfig(mode="fine-tuned", adapter="runs/q"))
"""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from echogpt.files import append_line, whole_lines
from echogpt.model.generator import Generator, Mode, load_generator
from echogpt.model.recipes import ConfigError
from echogpt.schemas import Prediction, Study

Engine = Literal["auto", "torch", "llama.cpp"]


class GenerateConfig(BaseModel):
    """One batch-generation run."""

    model_config = ConfigDict(extra="forbid")

    mode: Mode = Field("fine-tuned", description="fine-tuned | zero-shot | few-shot | template")
    adapter: str | None = Field(None, description="Adapter folder (fine-tuned mode)")
    base_model: str | None = Field(None, description="Base model; None = the adapter's or the default")
    shots: int = Field(3, ge=1, le=16, description="Examples shown in few-shot mode")
    train_file: str | None = Field(None, description="Studies with impressions to draw shots from")
    batch_size: int = Field(16, ge=1, description="Studies per generate() call")
    max_new_tokens: int = Field(256, ge=1, description="Upper bound on tokens per impression")
    do_sample: bool = Field(False, description="Sample instead of greedy decoding")
    temperature: float = Field(0.7, gt=0, description="Sampling temperature (do_sample only)")
    top_p: float = Field(0.9, gt=0, le=1, description="Nucleus sampling mass (do_sample only)")
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field("auto", description="Weights")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where to run")
    engine: Engine = Field("auto", description="auto | torch | llama.cpp (auto: llama.cpp for the embedded "
                                               "model on a CPU when installed)")
    seed: int = Field(0, description="Seed for sampling and few-shot choice")
    guard: bool = Field(True, description="Checker-guided drafting (echogpt.model.guard); template mode "
                                          "needs none")
    guard_candidates: int = Field(3, ge=1, le=16, description="Rewrites the guard tries for a failing "
                                                              "statement")

    @model_validator(mode="after")
    def _consistent(self) -> GenerateConfig:
        if self.mode == "fine-tuned" and not self.adapter:
            raise ValueError("mode fine-tuned needs --adapter DIR")
        if self.mode in ("zero-shot", "few-shot", "template") and self.adapter:
            raise ValueError(f"mode {self.mode} uses no adapter; drop --adapter or use fine-tuned")
        if self.mode == "few-shot" and not self.train_file:
            raise ValueError("mode few-shot needs --train FILE to draw the examples from")
        return self


def choose_shots(study: Study, pool: list[Study], k: int, seed: int = 0) -> list[Study]:
    """K few-shot examples for a study, chosen deterministically.

    Examples with the same phenotype come first, then the rest; ties are broken by a seeded hash
    so each study gets a stable, varied set. Studies of the same patient are never shown.

    Args:
        study: The study to draft.
        pool: Candidate studies with an impression (the training split).
        k: Number of examples.
        seed: Changes the choice among equally near candidates.

    Returns:
        Up to ``k`` studies, nearest first.
    """
    patient = study.patient_id or study.study_id

    def key(c: Study) -> tuple[int, str]:
        same = bool(study.phenotype) and c.phenotype == study.phenotype
        tie = hashlib.sha256(f"{seed}:{study.study_id}:{c.study_id}".encode()).hexdigest()
        return (0 if same else 1, tie)

    candidates = [c for c in pool if c.impression and (c.patient_id or c.study_id) != patient]
    return sorted(candidates, key=key)[:k]


def read_done(out: Path) -> set[str]:
    """Study ids already in an output file; a torn last line (killed mid-write) is cut off first."""
    done = set()
    for n, line in enumerate(whole_lines(out).splitlines(), start=1):
        if line.strip():
            try:
                done.add(Prediction.model_validate_json(line).study_id)
            except ValueError:
                raise ConfigError(f"{out} line {n} is not a Prediction record; "
                                  "use another --out file") from None
    return done


def _append(handle: Any, prediction: Prediction) -> None:
    append_line(handle, prediction.model_dump_json())


@dataclass
class GenerateSummary:
    """Counts from one run."""

    written: int
    skipped: int
    stopped: int
    seconds: float
    engine: str | None = None

    def line(self, out: Path | str) -> str:
        """One line for the terminal."""
        engine = f" ({self.engine})" if self.engine else ""
        return (f"{self.written} predictions written to {out} ({self.skipped} already there), "
                f"{self.stopped} ended on the end-of-turn token, {self.seconds:.1f} s{engine}")


def _write_template(handle: Any, pending: list[Study], bar: Any) -> None:
    """The deterministic guideline baseline: no model, one Prediction per study."""
    try:
        from echogpt.guidelines.template import template_impression
    except ImportError:
        raise ConfigError("template mode is not available in this installation") from None
    for study in pending:
        t0 = time.perf_counter()
        text = template_impression(study)
        _append(handle, Prediction(study_id=study.study_id, mode="template", impression=text,
                                   seconds=round(time.perf_counter() - t0, 4)))
        bar.update(1)


def _write_drafts(handle: Any, pending: list[Study], config: GenerateConfig, gen: Generator,
                  bar: Any) -> int:
    """Draft in length-sorted batches (little compute lost to padding), or one study at a time with
    the guard; returns how many stopped."""
    from echogpt.model.train import read_studies

    shots_fn = None
    if config.mode == "few-shot":
        shots_fn = functools.partial(choose_shots, pool=read_studies(config.train_file), k=config.shots,
                                     seed=config.seed)
    stopped = 0
    if config.guard:
        from echogpt.model.guard import GuardConfig, guarded_prediction

        guard = GuardConfig(candidates=config.guard_candidates, seed=config.seed)
        for study in pending:
            prediction = guarded_prediction(gen, study, config.mode, shots_fn(study) if shots_fn else None,
                                            guard)
            _append(handle, prediction)
            stopped += prediction.stopped
            bar.update(1)
        return stopped
    pending = sorted(pending, key=lambda s: len(s.findings_text))
    for i in range(0, len(pending), config.batch_size):
        batch = pending[i: i + config.batch_size]
        for prediction in gen.generate_batch(batch, config.mode, shots_fn):
            _append(handle, prediction)
            stopped += prediction.stopped
        bar.update(len(batch))
    return stopped


def run_generation(studies_file: str | Path, out_file: str | Path, config: GenerateConfig,
                   progress: bool = True) -> GenerateSummary:
    """Draft impressions for every study in a file, appending Prediction lines; resumable.

    Args:
        studies_file: JSONL of studies (all must validate).
        out_file: JSONL of Predictions; studies already in it are skipped.
        config: Mode, model and decoding settings.
        progress: Show a progress bar.

    Returns:
        A GenerateSummary.
    """
    from tqdm import tqdm

    from echogpt.model.train import read_studies

    started = time.time()
    out = Path(out_file)
    studies = read_studies(studies_file)
    done = read_done(out)
    pending = [s for s in studies if s.study_id not in done]
    out.parent.mkdir(parents=True, exist_ok=True)
    stopped, engine = 0, None
    bar = tqdm(total=len(pending), disable=not progress, desc=f"generate ({config.mode})", unit="study")
    with open(out, "a", encoding="utf-8") as handle:
        if config.mode == "template":
            _write_template(handle, pending, bar)
            stopped = len(pending)
        elif pending:
            gen = _generator_for(config)
            engine = gen.engine_name
            stopped = _write_drafts(handle, pending, config, gen, bar)
    bar.close()
    return GenerateSummary(len(pending), len(studies) - len(pending), stopped,
                           round(time.time() - started, 1), engine)


def generate_file(studies_file: str | Path, out_file: str | Path, **options: Any) -> GenerateSummary:
    """``run_generation`` with options validated into a GenerateConfig (one-line errors).

    Args:
        studies_file: Studies JSONL.
        out_file: Predictions JSONL.
        **options: GenerateConfig fields.

    Returns:
        A GenerateSummary.
    """
    from pydantic import ValidationError

    try:
        config = GenerateConfig(**{k: v for k, v in options.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{where + ': ' if where else ''}{msg}") from None
    return run_generation(studies_file, out_file, config)


def _generator_for(config: GenerateConfig) -> Generator:
    import torch

    torch.manual_seed(config.seed)
    gen = load_generator(config.base_model, config.adapter, device=config.device, dtype=config.dtype,
                         engine=config.engine)
    return Generator(gen.bundle, config.max_new_tokens, config.do_sample, config.temperature,
                     config.top_p, engine=gen.engine, seed=config.seed)
