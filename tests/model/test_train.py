"""SFT on the tiny Llama: completion-only labels, the adapter folder, resume, early stopping, configs."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from _tiny import shared_tiny_model, write_studies
from typer.testing import CliRunner

from echogpt.cli import app
from echogpt.files import data_hash
from echogpt.model.recipes import CONFIG_DIR, ConfigError, load_train_config
from echogpt.model.train import count_truncated, latest_checkpoint, sft_records, train_sft


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_tiny_model(tmp_path_factory)


@pytest.fixture()
def data(tmp_path: Path) -> tuple[Path, Path]:
    return write_studies(tmp_path / "train.jsonl", 16), write_studies(tmp_path / "val.jsonl", 4, "v")


def _config(tiny: Path, data: tuple[Path, Path], *sets: str, **fields):
    train, val = data
    fields = {"base_model": str(tiny), "train_file": str(train), "val_file": str(val), **fields}
    return load_train_config("tiny-test", list(sets), **fields)


def _callback(**methods):
    from transformers import TrainerCallback

    return type("TestCallback", (TrainerCallback,), methods)()


def test_labels_cover_only_the_completion_and_its_end_of_turn_token(tiny, data, tmp_path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny)
    seen = {}

    def on_train_begin(self, args, state, control, train_dataloader=None, **kw):
        seen["batch"] = next(iter(train_dataloader))

    train_sft(_config(tiny, data, "max_steps=1"), tmp_path / "run",
              callbacks=[_callback(on_train_begin=on_train_begin)])
    batch = seen["batch"]
    impressions = {r["impression"] for r in map(json.loads, data[0].read_text().splitlines())}
    for ids, labels in zip(batch["input_ids"].tolist(), batch["labels"].tolist(), strict=True):
        kept = [t for t in labels if t != -100]
        # Everything up to the assistant header is masked; the learned part is the answer + <|im_end|>.
        assert tok.eos_token_id in kept
        text = tok.decode(kept, skip_special_tokens=False)
        answer, end = text.split("<|im_end|>")
        assert answer in impressions and end.strip() == ""
        assert "<|im_start|>" not in text and "echocardiographer" not in text
        first = labels.index(kept[0])
        assert tok.decode(ids[:first]).rstrip().endswith("<|im_start|>assistant")


def test_sft_writes_a_loadable_peft_adapter_with_metadata(tiny, data, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    out = tmp_path / "run"
    result = train_sft(_config(tiny, data), out, command="echogpt train --config tiny-test")
    for name in ("adapter_config.json", "adapter_model.safetensors", "echogpt_adapter.json",
                 "README.md", "losses.csv", "config.yaml"):
        assert (out / name).is_file(), name
    adapter_cfg = json.loads((out / "adapter_config.json").read_text())
    assert adapter_cfg["base_model_name_or_path"] == "local:tiny-llama"  # identity, not a path
    meta = json.loads((out / "echogpt_adapter.json").read_text())
    assert meta["data"]["train_hash"] == data_hash(data[0]) and meta["data"]["val_examples"] == 4
    assert meta["truncated_examples"] == 0 and meta["steps"] == 6 == result.steps
    evals = [(float(r["val_loss"]), int(r["step"])) for r in csv.DictReader(open(out / "losses.csv"))
             if r["val_loss"]]
    assert (meta["best_val_loss"], meta["best_step"]) == min(evals)
    assert meta["examples_seen"] == 6 * 4  # 6 optimizer steps of batch 4
    assert meta["prompt_settings"]["name"] == "echo-impression"
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny), out)
    lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert lora_b and any(p.abs().sum() > 0 for p in lora_b)  # B starts at zero: it was trained
    card = (out / "README.md").read_text()
    assert "Best / final validation loss" in card and meta["data"]["train_hash"] in card


def test_a_training_run_and_an_evaluation_record_the_same_data_hash(tiny, data, tmp_path):
    from echogpt.evaluation.suite import evaluate
    from echogpt.schemas import Prediction

    out = tmp_path / "run"
    train_sft(_config(tiny, data, "max_steps=1", val_file=None), out)
    predictions = tmp_path / "pred.jsonl"
    predictions.write_text("".join(Prediction(study_id=r["study_id"], mode="template", impression="Normal.")
                                   .model_dump_json() + "\n"
                                   for r in map(json.loads, data[0].read_text().splitlines())))
    result = evaluate(data[0], {"template": predictions}, tmp_path / "eval", metrics=["length"], n_boot=100)
    trained = json.loads((out / "echogpt_adapter.json").read_text())["data"]["train_hash"]
    assert result["config"]["studies_hash"] == trained


def test_training_does_not_import_the_copilot_database():
    code = ("import sys, echogpt.model.train, echogpt.model.dpo; "
            "print(sorted(m for m in sys.modules if m.startswith(('echogpt.review', 'sqlalchemy'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_resume_after_a_stop_matches_an_uninterrupted_run(tiny, data, tmp_path):
    sets = ("early_stopping_patience=0", "save_steps=2", "eval_steps=2")
    full = train_sft(_config(tiny, data, *sets, val_file=None), tmp_path / "full")

    def on_step_end(self, args, state, control, **kw):
        if state.global_step == 4:
            control.should_training_stop = True  # a kill right after the step-4 checkpoint

    out = tmp_path / "interrupted"
    first = train_sft(_config(tiny, data, *sets, val_file=None), out,
                      callbacks=[_callback(on_step_end=on_step_end)])
    assert first.steps == 4 and latest_checkpoint(out / "checkpoints").name == "checkpoint-4"
    resumed = train_sft(_config(tiny, data, *sets, val_file=None), out)
    assert resumed.resumed_from and resumed.resumed_from.endswith("checkpoint-4")
    assert resumed.steps == full.steps == 6

    def losses(folder):
        return {int(r["step"]): float(r["train_loss"]) for r in csv.DictReader(open(folder / "losses.csv"))
                if r["train_loss"]}

    a, b = losses(tmp_path / "full"), losses(out)
    assert sorted(a) == sorted(b) == [1, 2, 3, 4, 5, 6]
    for step in a:
        assert b[step] == pytest.approx(a[step], rel=1e-4), step


def test_early_stopping_stops_before_max_steps(tiny, data, tmp_path):
    # A threshold no evaluation can beat: patience 1 must stop at the second evaluation.
    result = train_sft(_config(tiny, data, "max_steps=20", "eval_steps=2", "early_stopping_patience=1",
                               "early_stopping_threshold=100"), tmp_path / "run")
    assert result.steps < 20
    assert result.best_val_loss is not None


def test_count_truncated_against_the_limit(tiny, data):
    from transformers import AutoTokenizer

    from echogpt.model.prompts import DEFAULT_PROMPT
    from echogpt.model.train import read_studies

    tok = AutoTokenizer.from_pretrained(tiny)
    records = sft_records(read_studies(data[0]), DEFAULT_PROMPT)
    assert count_truncated(records, tok, 100_000)[0] == 0
    truncated, longest = count_truncated(records, tok, 32)  # a system prompt alone is longer
    assert truncated == len(records) == 16 and longest > 32
    assert count_truncated(records, tok, longest)[0] == 0


def test_unknown_config_key_is_a_one_line_error():
    with pytest.raises(ConfigError, match="unknown config key 'lora_rank'.*allowed keys"):
        load_train_config("cpu-quick", ["lora_rank=4"])
    with pytest.raises(ConfigError, match="multiple of eval_steps"):
        load_train_config(None, ["eval_steps=10", "save_steps=15"])
    with pytest.raises(ConfigError, match="no recipe"):
        load_train_config("no-such-recipe")


def test_every_recipe_loads_and_starts_with_its_command():
    names = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))
    assert {"cpu-smollm2", "cpu-quick", "gpu-llama2-7b-qlora"} <= set(names)
    for name in names:
        load_train_config(name)
        first = (CONFIG_DIR / f"{name}.yaml").read_text().splitlines()[0]
        assert first.startswith("# ") and f"echogpt train --config {name}" in first


def test_train_cli_bad_inputs_exit_2_with_one_line(tiny, data, tmp_path):
    runner = CliRunner()
    base = ["train", "--config", "tiny-test", "--out", str(tmp_path / "o"), "--set", f"base_model={tiny}",
            "--set", f"train_file={data[0]}", "--set", f"val_file={data[1]}"]
    res = runner.invoke(app, [*base, "--set", "lora_rank=4"])
    assert res.exit_code == 2 and "unknown config key" in res.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text(data[0].read_text() + '{"study_id": "x"}\n')
    res = runner.invoke(app, [*base, "--set", f"train_file={bad}"])
    assert res.exit_code == 2 and "row 17" in res.output and "findings_text" in res.output
    assert "Traceback" not in res.output


def test_train_cli_registers_the_adapter_as_a_new_version(tiny, data, tmp_path):
    from echogpt.review.store import Store

    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["train", "--config", "tiny-test", "--out", str(out),
                                   "--set", f"base_model={tiny}", "--set", f"train_file={data[0]}",
                                   "--set", f"val_file={data[1]}", "--set", "max_steps=2"])
    assert res.exit_code == 0, res.output
    db = Store()
    try:
        versions = db.list_adapters(db.cli_user())
    finally:
        db.dispose()
    assert [Path(v.path).resolve() for v in versions] == [out.resolve()]
    assert versions[0].method == "sft" and versions[0].metrics["steps"] == 2 and not versions[0].active
    assert versions[0].parent is None  # a plain `train` starts a new LoRA
    assert versions[0].name == "run"  # named after its folder, so the list and the disk agree
    assert "registered as adapter version run (sft)" in res.output
    again = CliRunner().invoke(app, ["train", "--config", "tiny-test", "--out", str(out),
                                     "--set", f"base_model={tiny}", "--set", f"train_file={data[0]}",
                                     "--set", "val_file=null", "--set", "max_steps=2"])
    assert again.exit_code == 0, again.output
    assert "registered as adapter version run-2 (sft)" in again.output  # the folder's name was taken


def test_train_cli_without_a_database_still_trains_and_says_so(tiny, data, tmp_path, monkeypatch):
    monkeypatch.setenv("ECHOGPT_DATABASE_URL", "sqlite:////proc/no-such-dir/echogpt.sqlite")
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["train", "--config", "tiny-test", "--method", "sft", "--out", str(out),
                                   "--set", f"base_model={tiny}", "--set", f"train_file={data[0]}",
                                   "--set", "val_file=null", "--set", "max_steps=1"])
    assert res.exit_code == 0, res.output
    assert "warning: no active adapter to continue" in res.output  # --method sft: the feedback loop
    assert "warning: adapter saved but not registered in the database" in res.output
    assert (out / "echogpt_adapter.json").is_file() and "Traceback" not in res.output


def test_a_time_budget_stops_after_the_step_that_reaches_it_with_a_last_evaluation(tiny, data, tmp_path):
    out = tmp_path / "run"
    result = train_sft(_config(tiny, data, "max_steps=6", "max_minutes=0.0001"), out)
    assert result.steps == 1  # the recipe asked for 6
    assert result.final_val_loss is not None and result.best_val_loss is not None
    assert latest_checkpoint(out / "checkpoints").name == "checkpoint-1"


def test_scoring_only_completion_tokens_on_cpu_gives_the_same_loss_and_gradients(tiny):
    import torch
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    from echogpt.model.train import _score_completions_only

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny, dtype=torch.float32)
    add_fused_lm_head(model, outputs=("log_probs", "entropy", "is_top1"))
    ids = torch.randint(0, model.config.vocab_size, (2, 24))
    labels = ids.clone()
    labels[0, :15] = -100
    labels[1, :20] = -100

    def run() -> tuple[float, torch.Tensor, float]:
        model.zero_grad()
        out = model(input_ids=ids, labels=labels, fused_lm_head=True)
        out.loss.backward()
        grad = model.model.layers[-1].mlp.down_proj.weight.grad.clone()
        return float(out.loss), grad, float(out.entropy.sum())

    full = run()
    from trl.trainer import utils as trl_utils

    with _score_completions_only("cpu"):
        assert trl_utils._use_triton(torch.device("cpu"))  # only the labelled positions are scored
        compact = run()
    loss_full, grad_full, ent_full = full
    loss_c, grad_c, ent_c = compact
    assert loss_c == pytest.approx(loss_full, rel=1e-5) and ent_c == pytest.approx(ent_full, rel=1e-5)
    assert torch.allclose(grad_c, grad_full, rtol=1e-4, atol=1e-7)
    assert not trl_utils._use_triton(torch.device("cpu"))  # restored afterwards
