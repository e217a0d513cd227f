"""Checker-guided drafting: each statement is checked against the study as soon as the model
finishes it (a repetition, or a number no value of the study backs, fails it as unsupported). A
contradicted statement whose conflict is one value or grade is repaired to the study's own; any
other failing statement (contradicted or unsupported) is rewritten from the same prefix (K
candidates: greedy with the failed first token banned, then sampled; the best-supported one about
the same subject kept), else replaced by the template's sentence about that subject when the study
has a finding there, else dropped; the model then goes on from the kept text. Critical findings
the draft omits are added at the end (the model writes them from a forced opening, kept when
supported with every number backed, else the template's sentence). Every change is recorded, and
the unguarded text kept.

    draft = guarded_generate(load_generator(adapter="echogpt/adapters/smollm2-echo-demo"), study)
    print(draft.text, draft.unguarded_text, draft.interventions)
    for progress in guarded_stream(gen, study): show(progress.text)   # the draft as it forms
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from echogpt.model.decoding import TokenSource, token_source
from echogpt.model.guard_run import NUMBERED, GuardConfig, GuardRun
from echogpt.model.prompts import build_messages, prompt_hash
from echogpt.schemas import GuardIntervention, GuardRecord, Prediction, Study
from echogpt.text import split_statements

__all__ = [
    "GuardConfig",
    "GuardProgress",
    "GuardedDraft",
    "guarded_generate",
    "guarded_prediction",
    "guarded_stream",
]


class GuardedDraft(GuardRecord):
    """A guarded draft: its text, the unguarded text and the interventions (``GuardRecord``), and
    the decoding counts of a Prediction."""

    text: str = Field(description="The guarded impression")
    new_tokens: int = Field(0, description="Tokens decoded, candidates included")
    stopped: bool = Field(True, description="The model ended on the end-of-turn token")
    seconds: float = 0.0
    prompt_tokens: int = 0

    def record(self) -> GuardRecord:
        """What is stored with the draft (the Prediction's ``guard``, the review database's)."""
        return GuardRecord(unguarded_text=self.unguarded_text, interventions=self.interventions)


class GuardProgress(BaseModel):
    """The draft as it forms: the whole text so far (a replaced statement already replaced)."""

    model_config = ConfigDict(extra="forbid")
    text: str
    interventions: int = 0
    draft: GuardedDraft | None = Field(None, description="Set on the last progress: the finished draft")


def _unguarded(text: str, interventions: list[GuardIntervention]) -> str:
    """The draft as the model first wrote each statement (see ``GuardRecord.unguarded_text``)."""
    changed = {i.start: i for i in interventions if i.kind in ("repaired", "replaced", "added")}
    dropped = sorted((i for i in interventions if i.kind == "dropped"), key=lambda i: i.start)
    out: list[str] = []
    for s in split_statements(text):
        while dropped and dropped[0].start <= s.start:
            out.append(dropped.pop(0).original or "")
        i = changed.get(s.start)
        if i is None or i.kind != "added":
            out.append(i.original or s.text if i else s.text)
    out += [i.original or "" for i in dropped]
    if NUMBERED.match(text) or not text:
        return "\n".join(f"{n}. {s}" for n, s in enumerate(out, 1))
    return "\n".join(out)


def guarded_stream(
    gen: Any,
    study: Study,
    *,
    shots: list[Study] | None = None,
    config: GuardConfig | None = None,
    source: TokenSource | None = None,
) -> Iterator[GuardProgress]:
    """Draft with the guard, yielding the whole text each time it changes; the last progress
    carries the finished ``GuardedDraft``.

    Args:
        gen: A loaded ``echogpt.model.generator.Generator`` (any engine, any base model).
        study: The study to draft.
        shots: Few-shot examples, if any.
        config: Guard settings (default ``GuardConfig()``).
        source: Token source (default the generator's own, ``decoding.token_source``).

    Returns:
        An iterator of GuardProgress.
    """
    started = time.perf_counter()
    config = config or GuardConfig()
    run = GuardRun(gen, study, source or token_source(gen), config, shots)
    ban: list[int] = []
    while True:
        s, verdict, ended = yield from _progress(run, run.write(ban))
        ban = []
        while s is not None:
            tail = run.text()[s.end :] if ended else ""
            ban, stop = yield from _progress(run, run.fix(s, verdict, tail, ended))
            if not (ended or stop):
                break
            ended = True
            s, verdict = run.final_failure()
        if ended or len(run.ids) >= run.limit:
            break
    yield from _progress(run, run.add_missing())
    raw = run.text()
    text = raw.strip()
    shift = len(raw) - len(raw.lstrip())
    for i in run.interventions:
        i.start, i.end = max(0, i.start - shift), max(0, i.end - shift)
    draft = GuardedDraft(
        text=text,
        unguarded_text=_unguarded(text, run.interventions),
        interventions=run.interventions,
        new_tokens=run.decoded,
        stopped=run.stopped,
        seconds=round(time.perf_counter() - started, 3),
        prompt_tokens=len(run.prompt),
    )
    yield GuardProgress(text=text, interventions=len(run.interventions), draft=draft)


def _progress(run: GuardRun, texts: Iterator[str]) -> Iterator[GuardProgress]:
    """Each text of a step as a GuardProgress; returns what the step returns."""
    while True:
        try:
            text = next(texts)
        except StopIteration as done:
            return done.value
        yield GuardProgress(text=text, interventions=len(run.interventions))


def guarded_prediction(
    gen: Any, study: Study, mode: str, shots: list[Study] | None = None, config: GuardConfig | None = None
) -> Prediction:
    """A guarded draft as a Prediction record (``guard`` holds the interventions and unguarded text).

    Args:
        gen: A loaded Generator.
        study: The study.
        mode: The generation mode recorded.
        shots: Few-shot examples, if any.
        config: Guard settings.

    Returns:
        The Prediction.
    """
    draft = guarded_generate(gen, study, shots=shots, config=config)
    return Prediction(
        study_id=study.study_id,
        mode=mode,
        impression=draft.text,
        base_model=gen.bundle.base.label,
        adapter=gen.bundle.adapter,
        prompt_hash=prompt_hash(build_messages(study, gen.prompt, shots=shots)),
        prompt_tokens=draft.prompt_tokens,
        new_tokens=draft.new_tokens,
        seconds=draft.seconds,
        stopped=draft.stopped,
        guard=draft.record(),
    )


def guarded_generate(
    gen: Any,
    study: Study,
    *,
    shots: list[Study] | None = None,
    config: GuardConfig | None = None,
    source: TokenSource | None = None,
) -> GuardedDraft:
    """Draft one impression with the guard (``guarded_stream`` run to its end).

    Args:
        gen: A loaded ``echogpt.model.generator.Generator``.
        study: The study to draft.
        shots: Few-shot examples, if any.
        config: Guard settings.
        source: Token source (default the generator's own).

    Returns:
        The GuardedDraft: ``text``, ``unguarded_text``, ``interventions`` and decoding counts.
    """
    for progress in guarded_stream(gen, study, shots=shots, config=config, source=source):
        if progress.draft is not None:
            return progress.draft
    raise AssertionError("the guarded stream ended without a draft")
