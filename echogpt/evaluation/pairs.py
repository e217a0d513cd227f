"""Checker-ranked preference pairs: which of a study's drafts is chosen and which rejected.

Each draft is checked against its study; its *flags* are its contradicted statements plus its
unsupported statements plus the findings it omits (every omission the checker lists, whatever its
severity: the same three things that make ``CheckResult.flagged`` true). The rules (``rank``):

- **rejected** is a flagged draft the model wrote itself (never the guarded or repaired one): the
  unguarded greedy draft when it is flagged (the model's own most likely answer, the behaviour a
  preference round should move), else the flagged sampled draft with the most flags (ties: the
  lower fact-F1, then the earlier sample);
- **chosen** is the draft with the fewest flags, ties broken by the higher fact-F1 against the
  reference impression, then the guarded draft before the model's own, then draft order; a draft
  with no supported statement (empty, or nothing the checker could confirm) is never chosen;
- the chosen draft must *beat* the rejected one: fewer flags, or as many and a higher fact-F1;
- a study is skipped when no draft is flagged (``none_flagged``), when only the guarded draft is
  (``no_model_draft_flagged``), or when no draft beats the rejected one (``no_better_draft``).

    decision = rank([score(c, study) for c in candidates])
    if decision.skip is None: record = pair_record(study, decision, prompt_settings)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from echogpt.evaluation.clinical import match_facts, tolerances
from echogpt.model.prompts import PromptSettings, build_messages
from echogpt.schemas import CheckResult, Fact, Study

SKIP_REASONS = {
    "none_flagged": "no draft flagged",
    "no_model_draft_flagged": "only the guarded draft flagged",
    "no_better_draft": "no draft beats the rejected one",
}
"""Why a study gave no pair (reason -> words for the summary)."""


@dataclass(frozen=True)
class Candidate:
    """One draft of a study.

    ``origin`` is ``greedy`` (the unguarded greedy draft), ``guarded`` (the guard's draft) or
    ``sample-K``; ``model_written`` is False for the guarded draft (its text may hold repairs).
    """

    text: str
    origin: str
    model_written: bool = True


@dataclass(frozen=True)
class Scored:
    """A candidate with its check: the counts behind its flags, and its fact-F1."""

    candidate: Candidate
    contradicted: int
    unsupported: int
    omissions: int
    supported: int
    fact_f1: float | None  # None without a reference impression

    @property
    def flags(self) -> int:
        """Contradicted + unsupported statements + omitted findings."""
        return self.contradicted + self.unsupported + self.omissions

    def key(self) -> tuple[int, float]:
        """Smaller is better: fewest flags, then highest fact-F1."""
        return (self.flags, -(self.fact_f1 or 0.0))

    def summary(self) -> dict[str, Any]:
        """The figures a record keeps about this draft."""
        return {"origin": self.candidate.origin, "flags": self.flags, "contradicted": self.contradicted,
                "unsupported": self.unsupported, "omissions": self.omissions,
                "fact_f1": None if self.fact_f1 is None else round(self.fact_f1, 4)}


@dataclass(frozen=True)
class Decision:
    """The outcome for one study: a chosen and a rejected draft, or the reason there is no pair."""

    chosen: Scored | None = None
    rejected: Scored | None = None
    skip: str | None = None


def score_result(candidate: Candidate, result: CheckResult, fact_f1: float | None) -> Scored:
    """A candidate scored from its check result and fact-F1."""
    s = result.summary
    return Scored(candidate, s["contradicted"], s["unsupported"], s["omissions"], s["supported"], fact_f1)


def reference_facts(study: Study) -> list[Fact] | None:
    """The facts of the study's reference impression (None when it has none)."""
    if not (study.impression or "").strip():
        return None
    from echogpt.checker.facts import extract_facts

    return extract_facts(study.impression)


def score(candidate: Candidate, study: Study, ref_facts: list[Fact] | None = None,
          profile: str = "default") -> Scored:
    """Check one draft against its study and measure its fact-F1 against the reference.

    Args:
        candidate: The draft.
        study: Its study.
        ref_facts: The reference impression's facts (``reference_facts``); None: no fact-F1.
        profile: Checker profile.

    Returns:
        The scored draft.
    """
    from echogpt.checker.check import check
    from echogpt.checker.facts import extract_facts

    result = check(candidate.text, study, profile=profile)
    f1 = None
    if ref_facts is not None:
        f1 = match_facts(ref_facts, extract_facts(candidate.text), tolerances())["fact_f1"]
    return score_result(candidate, result, f1)


def pick_rejected(scored: Sequence[Scored]) -> Scored | None:
    """The flagged model-written draft to reject: the greedy one if flagged, else the worst sample."""
    own = [(i, s) for i, s in enumerate(scored) if s.candidate.model_written and s.flags]
    if not own:
        return None
    greedy = [s for _, s in own if s.candidate.origin == "greedy"]
    if greedy:
        return greedy[0]
    return min(own, key=lambda p: (-p[1].flags, p[1].fact_f1 or 0.0, p[0]))[1]


def pick_chosen(scored: Sequence[Scored]) -> Scored | None:
    """The best draft with at least one supported statement (fewest flags, then fact-F1, then the
    guarded draft, then draft order)."""
    eligible = [(i, s) for i, s in enumerate(scored) if s.supported > 0]
    if not eligible:
        return None
    return min(eligible, key=lambda p: (*p[1].key(), p[1].candidate.model_written, p[0]))[1]


def rank(scored: Sequence[Scored]) -> Decision:
    """Chosen and rejected drafts of one study, or why it gives no pair (see the module docstring).

    Args:
        scored: The study's scored drafts, in drafting order (greedy, guarded, samples).

    Returns:
        A Decision.
    """
    rejected = pick_rejected(scored)
    if rejected is None:
        flagged = any(s.flags for s in scored)
        return Decision(skip="no_model_draft_flagged" if flagged else "none_flagged")
    chosen = pick_chosen([s for s in scored if s is not rejected])
    if chosen is None or chosen.key() >= rejected.key() or chosen.candidate.text == rejected.candidate.text:
        return Decision(rejected=rejected, skip="no_better_draft")
    return Decision(chosen=chosen, rejected=rejected)


def pair_record(study: Study, decision: Decision, prompt: PromptSettings) -> dict[str, Any]:
    """A preference record as ``echogpt export-feedback`` writes one, with ``source: checker``.

    Args:
        study: The study (its ``study_id`` is the record's ``id``).
        decision: A decision with a chosen and a rejected draft.
        prompt: The prompt settings of the adapter that drafted (and will train).

    Returns:
        ``id``, ``prompt``/``chosen``/``rejected`` (TRL conversational), ``source``,
        ``prompt_fingerprint`` and ``checker`` (the two drafts' flags and fact-F1).
    """
    if decision.chosen is None or decision.rejected is None:
        raise ValueError(f"study {study.study_id} has no pair ({decision.skip})")
    return {"id": study.study_id, "prompt": build_messages(study, prompt),
            "chosen": [{"role": "assistant", "content": decision.chosen.candidate.text.strip()}],
            "rejected": [{"role": "assistant", "content": decision.rejected.candidate.text.strip()}],
            "source": "checker", "prompt_fingerprint": prompt.fingerprint(),
            "checker": {"chosen": decision.chosen.summary(), "rejected": decision.rejected.summary()}}
