"""Ranking a study's drafts into a preference pair: the rules table by table, the flag count from a
real check, the record's shape, and the drafting order (greedy, guarded, samples) with a stub model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from echogpt.evaluation.pair_round import draft_candidates
from echogpt.evaluation.pairs import Candidate, Scored, pair_record, rank, reference_facts, score
from echogpt.model.prompts import PromptSettings, build_messages
from echogpt.schemas import Prediction, Study


def _s(origin: str, flags: int, f1: float | None = 0.5, supported: int = 1) -> Scored:
    """A scored draft whose flags are all contradictions (the kind does not change the ranking)."""
    return Scored(Candidate(f"text of {origin}", origin, model_written=origin != "guarded"),
                  contradicted=flags, unsupported=0, omissions=0, supported=supported, fact_f1=f1)


# (case, drafts, chosen origin or None, rejected origin or None, skip reason or None)
CASES = [
    ("fewest flags is chosen", [_s("greedy", 2), _s("sample-1", 0), _s("sample-2", 1)],
     "sample-1", "greedy", None),
    ("equal flags: higher fact-F1 is chosen", [_s("greedy", 2), _s("sample-1", 1, 0.5),
                                               _s("sample-2", 1, 0.8)], "sample-2", "greedy", None),
    ("full tie: the guarded draft is chosen", [_s("greedy", 1), _s("sample-1", 0, 0.7),
                                               _s("guarded", 0, 0.7)], "guarded", "greedy", None),
    ("nothing flagged: skipped", [_s("greedy", 0), _s("guarded", 0), _s("sample-1", 0)],
     None, None, "none_flagged"),
    ("only the guarded draft flagged: skipped", [_s("greedy", 0), _s("guarded", 2)],
     None, None, "no_model_draft_flagged"),
    ("rejected is model-written, never the guarded one", [_s("greedy", 1), _s("guarded", 3),
                                                          _s("sample-1", 0)], "sample-1", "greedy", None),
    ("greedy clean: the worst flagged sample is rejected", [_s("greedy", 0, 0.9), _s("sample-1", 1),
                                                            _s("sample-2", 3)], "greedy", "sample-2", None),
    ("worst samples tie on flags: the lower fact-F1 is rejected",
     [_s("greedy", 0), _s("sample-1", 2, 0.6), _s("sample-2", 2, 0.3)], "greedy", "sample-2", None),
    ("no draft beats the rejected one: skipped", [_s("greedy", 1, 0.6), _s("sample-1", 1, 0.4),
                                                  _s("sample-2", 2)], None, "greedy", "no_better_draft"),
    ("equal flags and equal fact-F1 do not beat", [_s("greedy", 1, 0.6), _s("sample-1", 1, 0.6)],
     None, "greedy", "no_better_draft"),
    ("a draft with no supported statement is never chosen",
     [_s("greedy", 1), _s("sample-1", 0, 0.0, supported=0)], None, "greedy", "no_better_draft"),
    ("no reference: flags alone decide", [_s("greedy", 1, None), _s("guarded", 0, None)],
     "guarded", "greedy", None),
]


@pytest.mark.parametrize(("drafts", "chosen", "rejected", "skip"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_rank(drafts, chosen, rejected, skip):
    decision = rank(drafts)
    assert decision.skip == skip
    assert (decision.chosen.candidate.origin if decision.chosen else None) == chosen
    assert (decision.rejected.candidate.origin if decision.rejected else None) == rejected
    if decision.rejected is not None:
        assert decision.rejected.candidate.model_written and decision.rejected.flags > 0


def test_flags_count_contradicted_unsupported_and_omissions():
    study = Study(study_id="x", findings_text="Severely dilated left ventricle with global hypokinesis. "
                  "LVEF 25%. Moderate mitral regurgitation. Large pericardial effusion with "
                  "tamponade physiology.",
                  impression="1. Severely reduced LV systolic function, LVEF 25%.\n2. Moderate mitral "
                  "regurgitation.")
    refs = reference_facts(study)
    wrong = score(Candidate("1. Normal LV systolic function, LVEF 60%.\n2. Severe aortic stenosis.",
                            "greedy"), study, refs)
    assert (wrong.contradicted, wrong.unsupported) == (1, 1)
    assert wrong.omissions >= 1  # the tamponade is left out
    assert wrong.flags == wrong.contradicted + wrong.unsupported + wrong.omissions
    right = score(Candidate(study.impression + "\n3. Large pericardial effusion with tamponade.",
                            "guarded", False), study, refs)
    assert right.flags == 0 and right.supported >= 2
    assert right.fact_f1 > wrong.fact_f1
    assert score(Candidate("1. LVEF 25%.", "greedy"), study.model_copy(update={"impression": None}),
                 None).fact_f1 is None


def test_pair_record_has_the_review_exports_shape_and_source_checker():
    study = Study(study_id="s1", findings_text="LVEF 60%.", impression="1. Normal LVEF 60%.")
    prompt = PromptSettings(layout="prose")
    decision = rank([_s("greedy", 2), _s("guarded", 0)])
    rec = pair_record(study, decision, prompt)
    assert {"id", "prompt", "chosen", "rejected"} <= set(rec)  # what export-feedback writes
    assert rec["source"] == "checker" and rec["prompt_fingerprint"] == prompt.fingerprint()
    assert rec["prompt"] == build_messages(study, prompt)
    assert rec["chosen"] == [{"role": "assistant", "content": "text of guarded"}]
    assert rec["rejected"] == [{"role": "assistant", "content": "text of greedy"}]
    assert rec["checker"]["rejected"]["flags"] == 2 and rec["checker"]["chosen"]["origin"] == "guarded"
    with pytest.raises(ValueError, match="no pair"):
        pair_record(study, rank([_s("greedy", 0)]), prompt)


@dataclass
class _StubGenerator:
    """Drafts ``texts[study_id]`` greedily, or the next of ``samples`` when sampling."""

    texts: dict[str, str]
    samples: list[str] = field(default_factory=list)
    seed: int = 0
    engine: Any = "stub"  # not None: no torch seeding

    def generate_batch(self, studies: list[Study], mode: str) -> list[Prediction]:
        pick = (lambda s: self.samples.pop(0)) if self.samples else (lambda s: self.texts[s.study_id])
        return [Prediction(study_id=s.study_id, mode=mode, impression=pick(s)) for s in studies]


def test_draft_candidates_greedy_guarded_samples_in_order_without_repeats():
    studies = [Study(study_id=i, findings_text="LVEF 60%.") for i in ("a", "b")]
    greedy = _StubGenerator({"a": "1. A.", "b": "1. B."})
    sampler = _StubGenerator({}, samples=["1. A.", "1. A2.", "1. B2.", "1. B3."])
    out = draft_candidates(studies, greedy, sampler, 2,
                           guard=lambda s: None if s.study_id == "b" else "1. G.")
    assert [[(c.origin, c.text, c.model_written) for c in drafts] for drafts in out] == [
        [("greedy", "1. A.", True), ("guarded", "1. G.", False), ("sample-2", "1. A2.", True)],
        [("greedy", "1. B.", True), ("sample-1", "1. B2.", True), ("sample-2", "1. B3.", True)]]
    no_samples = draft_candidates(studies, greedy, sampler, 0)
    assert [[c.origin for c in d] for d in no_samples] == [["greedy"], ["greedy"]]


def test_load_guard_drafts_through_the_guard(monkeypatch):
    import types

    from echogpt.evaluation.pair_round import load_guard
    from echogpt.model import guard as guard_module

    calls = []

    def guarded_generate(gen, study, *, config):
        calls.append((gen, study.study_id, config.candidates))
        return types.SimpleNamespace(text="1. Guarded.", unguarded_text="1. Raw.", interventions=[])

    monkeypatch.setattr(guard_module, "guarded_generate", guarded_generate)
    gen = object()
    guard = load_guard(gen, candidates=2)
    assert guard(Study(study_id="g1", findings_text="LVEF 60%.")) == "1. Guarded."
    assert calls == [(gen, "g1", 2)]
