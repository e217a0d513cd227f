"""``echogpt preference-pairs`` end to end on a tiny random Llama (with an injected guard), its
resume, and a DPO round on a file that mixes checker pairs with the copilot's exported pairs."""

from __future__ import annotations

import json
from pathlib import Path

import _tiny
import pytest
from typer.testing import CliRunner

from echogpt.cli import app
from echogpt.evaluation.pairs import Candidate, reference_facts, score
from echogpt.model.prompts import DEFAULT_PROMPT, PromptSettings, build_messages
from echogpt.schemas import Study


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tiny.shared_tiny_model(tmp_path_factory)


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _reference_guard(study: Study) -> str:
    """A perfect guard: the reference impression (nothing flagged, fact-F1 1)."""
    return study.impression


def _pairs_cli(studies: Path, adapter: Path, out: Path, *extra: str):
    return CliRunner().invoke(app, ["preference-pairs", "--studies", str(studies), "--adapter", str(adapter),
                                    "--samples", "2", "--out", str(out), "--max-new-tokens", "12",
                                    "--engine", "torch", *extra])


@pytest.mark.slow  # drafts 3 studies x 3 drafts on a tiny model, twice: ~10 s
def test_preference_pairs_command_end_to_end(tiny_model, tmp_path, monkeypatch):
    from echogpt.evaluation import pair_round

    adapter = _tiny.start_adapter(tiny_model, tmp_path / "sft-1")
    studies = _tiny.write_studies(tmp_path / "train.jsonl", 3)
    monkeypatch.setattr(pair_round, "load_guard", lambda gen: _reference_guard)
    out = tmp_path / "pairs.jsonl"
    res = _pairs_cli(studies, adapter, out)
    assert res.exit_code == 0, res.output
    records, skipped = _rows(out), _rows(tmp_path / "pairs.skipped.jsonl")
    # The random model's drafts miss the critical findings of the reduced-LVEF and the aortic
    # stenosis studies (flagged); the guard's draft (the reference) beats them and is chosen. The
    # normal study's drafts assert nothing the checker flags.
    assert [r["id"] for r in records] == ["s001", "s002"]
    assert skipped == [{"study_id": "s000", "reason": "none_flagged"}]
    assert "3 studies drafted (" in res.output and "guarded draft included" in res.output
    assert f"2 preference pairs written to {out}" in res.output
    assert "1 studies skipped: no draft flagged 1" in res.output
    rows = {r["study_id"]: r for r in _tiny.study_rows(3)}
    for rec in records:
        study = Study.model_validate(rows[rec["id"]])
        assert rec["source"] == "checker" and rec["prompt_fingerprint"] == DEFAULT_PROMPT.fingerprint()
        assert rec["prompt"] == build_messages(study)
        assert rec["chosen"] == [{"role": "assistant", "content": study.impression}]
        chosen, rejected = rec["checker"]["chosen"], rec["checker"]["rejected"]
        assert chosen["origin"] == "guarded" and chosen["fact_f1"] == 1.0
        assert chosen == score(Candidate(study.impression, "guarded", False), study,
                               reference_facts(study)).summary()
        assert rejected["flags"] > 0
        assert (rejected["flags"], -rejected["fact_f1"]) > (chosen["flags"], -chosen["fact_f1"])
        assert rec["checker"]["rejected"]["origin"] in ("greedy", "sample-1", "sample-2")

    again = _pairs_cli(studies, adapter, out)  # resumes: nothing left to draft
    assert again.exit_code == 0, again.output
    assert "0 studies drafted" in again.output and "3 already done" in again.output
    assert len(_rows(out)) == 2

    off = _pairs_cli(studies, adapter, tmp_path / "off.jsonl", "--guard", "off")
    assert off.exit_code == 0, off.output
    assert "guarded draft not included" in off.output
    assert all(r["checker"]["chosen"]["origin"] != "guarded" for r in _rows(tmp_path / "off.jsonl"))


def test_preference_pairs_command_errors(tmp_path):
    studies = _tiny.write_studies(tmp_path / "train.jsonl", 1)
    res = _pairs_cli(studies, tmp_path / "nowhere", tmp_path / "p.jsonl", "--guard", "maybe")
    assert res.exit_code == 2 and "--guard must be on or off" in res.output
    res = _pairs_cli(studies, tmp_path / "nowhere", tmp_path / "p.jsonl", "--samples", "-1")
    assert res.exit_code == 2 and "samples" in res.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": []}\n')
    res = _pairs_cli(studies, tmp_path / "nowhere", bad)
    assert res.exit_code == 2 and "line 1 is not a preference record" in res.output


def _review_pair(study_row: dict, prompt: PromptSettings = DEFAULT_PROMPT) -> dict:
    """A pair as ``echogpt export-feedback`` writes it."""
    messages = build_messages(Study.model_validate(study_row), prompt, answer=study_row["impression"])
    return {"id": "fb-1", "prompt": messages[:-1], "chosen": messages[-1:],
            "rejected": [{"role": "assistant", "content": "1. Normal study."}], "source": "review",
            "prompt_fingerprint": prompt.fingerprint()}


def _checker_pairs(tmp_path: Path, adapter: Path, studies: Path) -> Path:
    from echogpt.evaluation.pair_round import PairsConfig, write_pairs

    out = tmp_path / "checker.jsonl"
    config = PairsConfig(adapter=str(adapter), samples=1, max_new_tokens=12, engine="torch", device="cpu")
    summary = write_pairs(studies, out, config, guard=_reference_guard, progress=False)
    assert summary.pairs == 2 and summary.guarded
    return out


@pytest.mark.slow  # drafts 3 studies and trains the tiny model 2 DPO steps: ~10 s
def test_dpo_trains_on_checker_and_review_pairs_together(tiny_model, tmp_path):
    from echogpt.model.adapters import read_adapter_meta
    from echogpt.model.dpo import train_dpo
    from echogpt.model.recipes import load_train_config

    adapter = _tiny.start_adapter(tiny_model, tmp_path / "sft-1")
    checker = _checker_pairs(tmp_path, adapter, _tiny.write_studies(tmp_path / "train.jsonl", 3))
    mixed = tmp_path / "mixed.jsonl"
    review = [_review_pair(r) for r in _tiny.study_rows(2, "r")]
    mixed.write_text(checker.read_text() + "".join(json.dumps(r) + "\n" for r in review))
    out = tmp_path / "dpo"
    result = train_dpo(load_train_config("tiny-test", method="dpo", train_file=str(mixed),
                                         init_adapter=str(adapter), val_file=None, max_steps=2,
                                         batch_size=2, max_length=512, device="cpu"), out)
    assert result.steps == 2 and result.pairs == 4
    assert read_adapter_meta(out).data["train_examples"] == 4
    assert "4 preference pairs, source: checker 2 + review 2" in (out / "README.md").read_text()


def test_dpo_refuses_pairs_rendered_with_another_prompt(tiny_model, tmp_path):
    from echogpt.model.dpo import train_dpo
    from echogpt.model.recipes import ConfigError, load_train_config

    adapter = _tiny.start_adapter(tiny_model, tmp_path / "sft-1")
    other = PromptSettings(layout="prose")
    rows = _tiny.study_rows(2)
    pairs = tmp_path / "pairs.jsonl"
    recs = [_review_pair(rows[0]), {**_review_pair(rows[1], other), "source": "checker"}]
    pairs.write_text("".join(json.dumps(r) + "\n" for r in recs))
    config = load_train_config("tiny-test", method="dpo", train_file=str(pairs), init_adapter=str(adapter),
                               val_file=None, max_steps=1, device="cpu")
    with pytest.raises(ConfigError, match=rf"row 2 \(checker\) was rendered with prompt settings "
                                          rf"{other.fingerprint()}.*echogpt preference-pairs"):
        train_dpo(config, tmp_path / "dpo")
    recs[1]["source"] = "expert"
    pairs.write_text("".join(json.dumps(r) + "\n" for r in recs))
    with pytest.raises(ConfigError, match="row 2: source 'expert' is not one of review, checker"):
        train_dpo(config, tmp_path / "dpo")
    assert not (tmp_path / "dpo" / "adapter_model.safetensors").exists()
