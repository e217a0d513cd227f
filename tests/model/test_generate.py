"""Generation on the tiny Llama: Prediction rows, resumability, streaming, few-shot choice, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _tiny import shared_tiny_model, study_rows, write_studies
from typer.testing import CliRunner

from echogpt.cli import app
from echogpt.model.generate import GenerateConfig, choose_shots, read_done, run_generation
from echogpt.model.generator import Generator, load_generator
from echogpt.model.recipes import load_train_config
from echogpt.model.train import train_sft
from echogpt.schemas import Prediction, Study


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_tiny_model(tmp_path_factory)


@pytest.fixture(scope="module")
def adapter(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("adapter")
    cfg = load_train_config("tiny-test", ["max_steps=2"], base_model=str(tiny),
                            train_file=str(write_studies(root / "train.jsonl", 8)), val_file=None)
    return train_sft(cfg, root / "run").adapter_dir


def _rows(path: Path) -> list[Prediction]:
    return [Prediction.model_validate_json(line) for line in path.read_text().splitlines()]


def test_zero_shot_writes_one_valid_prediction_per_study(tiny, tmp_path):
    studies = write_studies(tmp_path / "s.jsonl", 5)
    out = tmp_path / "pred.jsonl"
    config = GenerateConfig(mode="zero-shot", base_model=str(tiny), batch_size=2, max_new_tokens=12,
                            dtype="float32", guard=False)  # batches: the guard drafts one at a time
    summary = run_generation(studies, out, config, progress=False)
    rows = _rows(out)
    assert summary.written == 5 and sorted(r.study_id for r in rows) == [f"s{i:03d}" for i in range(5)]
    assert summary.engine == "torch" and summary.line(out).endswith("(torch)")  # says which engine drafted
    for r in rows:
        assert r.mode == "zero-shot" and r.adapter is None
        assert r.base_model.startswith("local:tiny-llama@")
        assert r.prompt_tokens > 50 and 1 <= r.new_tokens <= 12 and r.prompt_hash
        assert r.stopped or r.new_tokens == 12  # not stopped means the bound was reached


def test_rerun_skips_done_studies_and_repairs_a_torn_line(tiny, tmp_path):
    studies = write_studies(tmp_path / "s.jsonl", 4)
    out = tmp_path / "pred.jsonl"
    kept = Prediction(study_id="s001", mode="zero-shot", impression="written before the kill")
    out.write_text(kept.model_dump_json() + "\n" + '{"study_id": "s002", "mode": "zero-sh')
    assert read_done(out) == {"s001"} and out.read_text().endswith("\n")  # torn tail cut
    config = GenerateConfig(mode="zero-shot", base_model=str(tiny), max_new_tokens=4, dtype="float32")
    summary = run_generation(studies, out, config, progress=False)
    rows = _rows(out)
    assert summary.skipped == 1 and summary.written == 3
    assert sorted(r.study_id for r in rows) == ["s000", "s001", "s002", "s003"]
    assert rows[0] == kept
    again = run_generation(studies, out, config, progress=False)
    assert again.written == 0 and len(_rows(out)) == 4


def test_stream_joins_to_the_batch_result_and_padding_does_not_change_greedy_output(tiny):
    gen = load_generator(str(tiny), dtype="float32")
    studies = [Study(**r) for r in study_rows(3)]
    batch = Generator(gen.bundle, max_new_tokens=10).generate_batch(studies)
    for study, pred in zip(studies, batch, strict=True):
        alone = Generator(gen.bundle, max_new_tokens=10).generate_batch([study])[0]
        assert alone.impression == pred.impression  # left padding leaves each row's output intact
        streamed = "".join(Generator(gen.bundle, max_new_tokens=10).stream(study))
        assert streamed.strip() == pred.impression


def test_fine_tuned_mode_uses_the_adapter_and_its_base(adapter, tmp_path):
    out = tmp_path / "pred.jsonl"
    config = GenerateConfig(mode="fine-tuned", adapter=str(adapter), max_new_tokens=4, dtype="float32")
    run_generation(write_studies(tmp_path / "s.jsonl", 2), out, config, progress=False)
    rows = _rows(out)
    meta = json.loads((adapter / "echogpt_adapter.json").read_text())
    assert {r.adapter for r in rows} == {str(adapter)}
    assert {r.base_model for r in rows} == {f"local:tiny-llama@{meta['base_weights_hash']}"}


def test_few_shot_choice_is_deterministic_and_prefers_the_same_phenotype():
    pool = [Study(**r) for r in study_rows(12, "t")]
    target = Study(study_id="x", patient_id="px", findings_text="LVEF 25%.", phenotype="hfref")
    shots = choose_shots(target, pool, 3, seed=0)
    assert [s.phenotype for s in shots] == ["hfref"] * 3
    assert shots == choose_shots(target, pool, 3, seed=0)
    same_patient = Study(study_id="y", patient_id=pool[1].patient_id, findings_text="x", phenotype="hfref")
    assert pool[1] not in choose_shots(same_patient, pool, 3)


def test_few_shot_mode_writes_rows(tiny, tmp_path):
    train = write_studies(tmp_path / "train.jsonl", 8, "t")
    out = tmp_path / "pred.jsonl"
    config = GenerateConfig(mode="few-shot", base_model=str(tiny), shots=2, train_file=str(train),
                            max_new_tokens=4, dtype="float32")
    run_generation(write_studies(tmp_path / "s.jsonl", 2), out, config, progress=False)
    rows = _rows(out)
    assert {r.mode for r in rows} == {"few-shot"} and rows[0].prompt_tokens > 300  # shots included


def test_template_mode_loads_no_model(tmp_path):
    out = tmp_path / "pred.jsonl"
    res = CliRunner().invoke(app, ["generate", "--studies", str(write_studies(tmp_path / "s.jsonl", 3)),
                                   "--out", str(out), "--mode", "template"])
    assert res.exit_code == 0, res.output
    rows = _rows(out)
    assert len(rows) == 3 and all(r.mode == "template" and r.base_model is None for r in rows)
    assert "3 predictions written" in res.output and "3 ended on the end-of-turn token" in res.output
    assert "torch" not in res.output and "llama.cpp" not in res.output


def test_merged_adapter_gives_the_same_logits_as_the_unmerged_one(adapter, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from echogpt.model.adapters import merge_adapter, read_adapter_meta

    merged = merge_adapter(adapter, tmp_path / "merged")
    base = AutoModelForCausalLM.from_pretrained(read_adapter_meta(adapter).base_model_hint)
    with torch.no_grad():
        b = PeftModel.from_pretrained(base, adapter).float()
        ids = torch.tensor([[5, 17, 42, 99, 7]])
        want = b(ids).logits
        got = AutoModelForCausalLM.from_pretrained(merged)(ids).logits
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    assert json.loads((merged / "echogpt_model.json").read_text())["identity"].startswith("merged:")


@pytest.mark.parametrize(
    "case", ["no-adapter", "missing-adapter", "other-base", "bad-study", "zero-with-adapter"])
def test_bad_input_exits_2_with_one_line(case, adapter, tiny, tmp_path):
    studies = write_studies(tmp_path / "s.jsonl", 2)
    args = ["generate", "--studies", str(studies), "--out", str(tmp_path / "p.jsonl")]
    if case == "no-adapter":
        args += ["--mode", "fine-tuned"]
        expect = "needs --adapter"
    elif case == "missing-adapter":
        args += ["--adapter", str(tmp_path / "nowhere")]
        expect = "does not exist"
    elif case == "other-base":
        other = tmp_path / "other"
        other.mkdir()
        for f in adapter.iterdir():
            if f.is_file():
                (other / f.name).write_bytes(f.read_bytes())
        meta = json.loads((other / "echogpt_adapter.json").read_text())
        meta["base_model"] = "local:another-model"
        (other / "echogpt_adapter.json").write_text(json.dumps(meta))
        args += ["--adapter", str(other), "--base-model", str(tiny)]
        expect = "trained on local:another-model"
    elif case == "bad-study":
        studies.write_text(studies.read_text() + '{"study_id": "x", "findings_text": ""}\n')
        args += ["--mode", "zero-shot", "--base-model", str(tiny)]
        expect = "row 3"
    else:
        args += ["--mode", "zero-shot", "--adapter", str(adapter)]
        expect = "uses no adapter"
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    assert expect in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_prompt_lookup_drafts_are_the_greedy_drafts(tiny):
    gen = load_generator(str(tiny), dtype="float32")
    for study in [Study(**r) for r in study_rows(2)]:
        plain = Generator(gen.bundle, max_new_tokens=40, prompt_lookup=None)
        lookup = Generator(gen.bundle, max_new_tokens=40, prompt_lookup=10)
        assert "prompt_lookup_num_tokens" in lookup._gen_kwargs(None, 1)
        assert "prompt_lookup_num_tokens" not in lookup._gen_kwargs(None, 2)  # batches: token by token
        expected = plain.generate_batch([study])[0].impression
        assert lookup.generate_batch([study])[0].impression == expected
        assert "".join(lookup.stream(study)).strip() == expected
