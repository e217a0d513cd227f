"""A preference round from the checker: draft every training study several ways with an adapter,
rank the drafts with the checker (``echogpt.evaluation.pairs``) and stream the pairs to a JSONL
file that ``echogpt train --method dpo`` reads, beside the copilot's exported pairs.

    summary = write_pairs("train.jsonl", "pairs.jsonl", PairsConfig(adapter="runs/sft", samples=2))

Drafts per study: the unguarded greedy draft, the guarded draft (when a guard is given or
``echogpt.model.guard`` is installed) and ``samples`` sampled drafts (temperature and top-p as
``echogpt generate`` samples). Studies already in the output, or in its ``.skipped.jsonl`` sidecar,
are not drafted again: a killed run resumes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from echogpt.evaluation.pairs import SKIP_REASONS, Candidate, pair_record, rank, reference_facts, score
from echogpt.files import append_line, whole_lines
from echogpt.model.generate import GenerateConfig
from echogpt.model.generator import Generator
from echogpt.schemas import Study

log = logging.getLogger(__name__)

Guard = Callable[[Study], str | None]
"""A guarded drafter: the study -> the guarded draft's text (None when it has none)."""

_GEN = GenerateConfig.model_fields


class PairsConfig(BaseModel):
    """One preference round's drafting settings (sampling defaults are ``echogpt generate``'s)."""

    model_config = ConfigDict(extra="forbid")

    adapter: str = Field(..., description="Adapter folder that drafts (and whose prompt the pairs carry)")
    base_model: str | None = Field(None, description="Base model; None = the adapter's")
    samples: int = Field(2, ge=0, le=32, description="Sampled drafts per study besides the greedy one")
    temperature: float = Field(_GEN["temperature"].default, gt=0, description="Sampling temperature")
    top_p: float = Field(_GEN["top_p"].default, gt=0, le=1, description="Nucleus sampling mass")
    max_new_tokens: int = Field(_GEN["max_new_tokens"].default, ge=1, description="Tokens per draft")
    batch_size: int = Field(1, ge=1, description="Studies drafted together (1 on a CPU: a study's sampled "
                                                 "drafts reuse the cells of its greedy draft's prompt)")
    seed: int = Field(0, description="Sampling seed")
    device: str = Field("auto", description="auto | cpu | cuda")
    engine: str = Field("auto", description="auto | torch | llama.cpp")
    profile: str = Field("default", description="Checker profile")
    guard: bool = Field(True, description="Add the guarded draft when a guard is available")


@dataclass
class PairsSummary:
    """Counts of one run (this run's studies; ``already`` were in the output before)."""

    studies: int = 0
    pairs: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    already: int = 0
    drafts: int = 0
    guarded: bool = False
    seconds: float = 0.0

    def lines(self, out: Path | str) -> list[str]:
        """The terminal summary."""
        skipped = sum(self.skipped.values())
        why = ", ".join(f"{SKIP_REASONS[k]} {n}" for k, n in sorted(self.skipped.items()))
        return [f"{self.studies} studies drafted ({self.drafts} drafts, guarded draft "
                f"{'included' if self.guarded else 'not included'}), {self.already} already done",
                f"{self.pairs} preference pairs written to {out}",
                f"{skipped} studies skipped" + (f": {why}" if why else ""),
                f"{self.seconds:.1f} s"]


def skipped_path(out: Path) -> Path:
    """The sidecar listing the studies that gave no pair (``pairs.jsonl`` -> ``pairs.skipped.jsonl``)."""
    return out.with_name(out.stem + ".skipped.jsonl")


def done_ids(path: Path, key: str) -> set[str]:
    """The ``key`` values of a JSONL file; a torn last line (killed mid-write) is cut off first."""
    from echogpt.model.recipes import ConfigError

    ids = set()
    for n, line in enumerate(whole_lines(path).splitlines(), start=1):
        if line.strip():
            try:
                ids.add(str(json.loads(line)[key]))
            except (ValueError, KeyError, TypeError):
                raise ConfigError(f"{path} line {n} is not a preference record; use another --out") from None
    return ids


def _append(handle: Any, record: dict[str, Any]) -> None:
    append_line(handle, json.dumps(record, ensure_ascii=False))


def load_guard(gen: Generator, candidates: int = 3) -> Guard:
    """The checker-guided drafting of ``echogpt.model.guard`` as a ``Guard`` for this generator.

    Args:
        gen: The loaded generator whose drafts are ranked.
        candidates: Rewrites the guard tries for a failing statement (``GuardConfig.candidates``).

    Returns:
        study -> its guarded draft's text.
    """
    from echogpt.model.guard import GuardConfig, guarded_generate

    def guard(study: Study) -> str | None:
        return guarded_generate(gen, study, config=GuardConfig(candidates=candidates)).text

    return guard


def _seed(seed: int, study_id: str) -> int:
    return int(hashlib.sha256(f"{seed}:{study_id}".encode()).hexdigest()[:8], 16)


def draft_candidates(studies: Sequence[Study], greedy: Generator, sampler: Generator | None,
                     samples: int, guard: Guard | None = None) -> list[list[Candidate]]:
    """Every study's drafts: unguarded greedy, guarded (``guard``), then ``samples`` sampled ones.

    Args:
        studies: Studies drafted together (one greedy batch, one sampled batch).
        greedy: A greedy generator.
        sampler: A sampling generator (None or ``samples`` 0: no sampled drafts).
        samples: Sampled drafts per study.
        guard: The guarded drafter, if any.

    Returns:
        Per study, its distinct drafts in that order (a repeated text is kept once, first origin).
    """
    out = [[Candidate(p.impression, "greedy")] for p in greedy.generate_batch(list(studies), "fine-tuned")]
    for study, drafts in zip(studies, out, strict=True):
        text = guard(study) if guard else None
        if text is not None:
            drafts.append(Candidate(text, "guarded", model_written=False))
    if sampler is not None and samples > 0:
        _seed_torch(sampler, _seed(sampler.seed, studies[0].study_id))
        sampler = replace(sampler, seed=_seed(sampler.seed, studies[0].study_id))
        batch = [s for s in studies for _ in range(samples)]
        sampled = sampler.generate_batch(batch, "fine-tuned")
        for i, drafts in enumerate(out):
            drafts += [Candidate(p.impression, f"sample-{k + 1}")
                       for k, p in enumerate(sampled[i * samples:(i + 1) * samples])]
    return [_distinct(drafts) for drafts in out]


def _seed_torch(gen: Generator, seed: int) -> None:
    if gen.engine is None:
        import torch

        torch.manual_seed(seed)


def _distinct(drafts: list[Candidate]) -> list[Candidate]:
    seen: set[str] = set()
    keep = []
    for d in drafts:
        if d.text.strip() not in seen:
            seen.add(d.text.strip())
            keep.append(d)
    return keep


def _generators(config: PairsConfig) -> tuple[Generator, Generator]:
    from echogpt.model.generator import load_generator

    gen = load_generator(config.base_model, config.adapter, device=config.device, engine=config.engine)
    greedy = Generator(gen.bundle, config.max_new_tokens, engine=gen.engine)
    sampler = Generator(gen.bundle, config.max_new_tokens, do_sample=True, temperature=config.temperature,
                        top_p=config.top_p, engine=gen.engine, seed=config.seed)
    return greedy, sampler


def write_pairs(studies_file: str | Path, out_file: str | Path, config: PairsConfig,
                guard: Guard | None = None, progress: bool = True) -> PairsSummary:
    """Draft, check and rank every study of a file; append its pair (or its skip reason) as it goes.

    Args:
        studies_file: Training studies JSONL (with reference impressions for the fact-F1 tie-break).
        out_file: Preference pairs JSONL (appended; studies already there or skipped are not redone).
        config: Drafting settings.
        guard: The guarded drafter; None with ``config.guard``: the installed guard, if any.
        progress: Show a progress bar.

    Returns:
        A PairsSummary.
    """
    from tqdm import tqdm

    from echogpt.model.train import read_studies

    started = time.time()
    out, studies = Path(out_file), read_studies(studies_file)
    skips = skipped_path(out)
    done = done_ids(out, "id") | done_ids(skips, "study_id")
    pending = [s for s in studies if s.study_id not in done]
    summary = PairsSummary(already=len(studies) - len(pending))
    if not pending:
        return summary
    greedy, sampler = _generators(config)
    if config.guard and guard is None:
        guard = load_guard(greedy)
    summary.guarded = config.guard and guard is not None
    out.parent.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=len(pending), disable=not progress, desc="preference pairs", unit="study")
    with open(out, "a", encoding="utf-8") as pairs_f, open(skips, "a", encoding="utf-8") as skip_f:
        for i in range(0, len(pending), config.batch_size):
            chunk = pending[i:i + config.batch_size]
            drafts = draft_candidates(chunk, greedy, sampler, config.samples,
                                      guard if summary.guarded else None)
            for study, candidates in zip(chunk, drafts, strict=True):
                _rank_one(study, candidates, config, greedy, pairs_f, skip_f, summary)
            bar.update(len(chunk))
    bar.close()
    summary.seconds = round(time.time() - started, 1)
    return summary


def _rank_one(study: Study, candidates: list[Candidate], config: PairsConfig, gen: Generator,
              pairs_f: Any, skip_f: Any, summary: PairsSummary) -> None:
    refs = reference_facts(study)
    decision = rank([score(c, study, refs, config.profile) for c in candidates])
    summary.studies += 1
    summary.drafts += len(candidates)
    if decision.skip is None:
        _append(pairs_f, pair_record(study, decision, gen.prompt))
        summary.pairs += 1
    else:
        _append(skip_f, {"study_id": study.study_id, "reason": decision.skip})
        summary.skipped[decision.skip] += 1


def write_pairs_file(studies_file: str | Path, out_file: str | Path, **options: Any) -> PairsSummary:
    """``write_pairs`` with options validated into a PairsConfig (one-line ``ConfigError``s)."""
    from pydantic import ValidationError

    from echogpt.model.recipes import ConfigError

    try:
        config = PairsConfig(**{k: v for k, v in options.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"{where + ': ' if where else ''}{err['msg']}") from None
    return write_pairs(studies_file, out_file, config)
