"""A short DPO round end to end on a tiny random Llama: approved edits in the store -> exported
preference pairs -> ``echogpt train --method dpo`` continuing the active adapter -> a new
registered adapter version that loads for generation."""

from __future__ import annotations

import json
from pathlib import Path

import _tiny
import pytest
from typer.testing import CliRunner

from echogpt.cli import app
from echogpt.review.feedback import export_feedback
from echogpt.review.store import Store
from echogpt.schemas import CheckResult, Study


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tiny.shared_tiny_model(tmp_path_factory)


def _start_adapter(base: Path, out: Path) -> Path:
    return _tiny.start_adapter(base, out)


def _lora_b(folder: Path) -> dict:
    from safetensors.torch import load_file

    return {k: v for k, v in load_file(folder / "adapter_model.safetensors").items() if "lora_B" in k}


@pytest.mark.slow  # trains a (tiny) model: ~6 s
def test_dpo_round_end_to_end(tiny_model, tmp_path):
    from echogpt.model.adapters import load_bundle, read_adapter_meta

    db = Store()
    admin = db.cli_user()
    doc = db.add_user(admin, "dr-lee", "cardiologist", "s3cret-pass")
    start = _start_adapter(tiny_model, tmp_path / "sft-1")
    db.register_adapter(admin, start, "sft", name="sft-1")
    db.select_adapter(admin, "sft-1")
    for row in _tiny.study_rows(4):
        st = Study.model_validate({**row, "impression": None})
        db.create_study(doc, st)
        d = db.save_draft(doc, st.study_id, "1. Normal study.", "local:tiny-llama", str(start), "h",
                          CheckResult(study_id=st.study_id, statements=[]))
        d = db.edit_draft(doc, d.id, row["impression"], d.version,
                          CheckResult(study_id=st.study_id, statements=[]))
        db.approve(doc, d.id, d.version)
    report = export_feedback(db, admin, tmp_path / "feedback")
    assert report.preference_pairs == 4
    db.dispose()

    out = tmp_path / "dpo"
    res = CliRunner().invoke(app, [
        "train", "--config", "tiny-test", "--method", "dpo", "--out", str(out),
        *(x for kv in [f"train_file={tmp_path / 'feedback' / 'preferences.jsonl'}", "val_file=null",
                       "early_stopping_patience=0", "max_steps=2", "batch_size=2", "device=cpu",
                       "max_length=512", "logging_steps=1", "lora_r=4",
                       "lora_alpha=8"] for x in ("--set", kv))])
    assert res.exit_code == 0, res.output
    assert f"continuing the active adapter version ({start})" in res.output
    assert f"DPO adapter saved to {out}: 2 steps on 4 pairs from {start}" in res.output

    meta = read_adapter_meta(out)
    assert meta.method == "dpo" and meta.data["train_examples"] == 4 and meta.steps == 2
    assert meta.data["parent_adapter"] == str(start)  # continued the active adapter
    assert meta.final_loss is not None and meta.config["dpo_beta"] == 0.1
    for name in ("README.md", "config.yaml", "losses.csv"):
        assert (out / name).is_file(), name
    assert "Final loss / reward accuracy" in (out / "README.md").read_text()
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == \
        "local:tiny-llama"
    assert not (out / "ref").exists()  # only the trained adapter is saved, not TRL's reference copy
    # LoRA B starts at zero; DPO steps must have moved it.
    assert any(float(v.abs().sum()) > 0 for v in _lora_b(out).values())
    assert all(float(v.abs().sum()) == 0 for v in _lora_b(start).values())

    db = Store()
    try:
        new = next(v for v in db.list_adapters(admin) if v.path == str(out.resolve()))
        assert f"registered as adapter version {new.name} (dpo, continuing sft-1)" in res.output
        assert new.method == "dpo" and new.parent == "sft-1" and not new.active
        assert new.metrics["pairs"] == 4 and new.metrics["steps"] == 2
        assert db.active_adapter(admin).name == "sft-1"  # an admin selects it
        db.select_adapter(admin, new.name)
    finally:
        db.dispose()
    bundle = load_bundle(adapter=out, device="cpu", dtype="float32")
    assert bundle.adapter == str(out)


def test_pairs_file_errors_are_one_line(tmp_path):
    from echogpt.model.dpo import read_pairs
    from echogpt.model.recipes import ConfigError

    with pytest.raises(ConfigError, match="no such pairs file"):
        read_pairs(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": [], "chosen": []}\n')
    with pytest.raises(ConfigError, match="row 1: missing rejected"):
        read_pairs(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(ConfigError, match="no preference pairs"):
        read_pairs(empty)


@pytest.mark.slow  # trains a (tiny) model twice: ~8 s
def test_sft_on_approved_finals_continues_the_active_adapter(tiny_model, tmp_path):
    import torch

    from echogpt.model.adapters import read_adapter_meta
    from echogpt.model.recipes import load_train_config
    from echogpt.model.train import train_sft

    parent = tmp_path / "sft-1"
    train_sft(load_train_config("tiny-test", [], base_model=str(tiny_model), val_file=None,
                                train_file=str(_tiny.write_studies(tmp_path / "t.jsonl", 8))), parent)
    db = Store()
    admin = db.cli_user()
    doc = db.add_user(admin, "dr-lee", "cardiologist", "s3cret-pass")
    db.register_adapter(admin, parent, "sft", name="sft-1")
    db.select_adapter(admin, "sft-1")
    for row in _tiny.study_rows(4, "f"):
        st = Study.model_validate({**row, "impression": None})
        db.create_study(doc, st)
        d = db.save_draft(doc, st.study_id, row["impression"], "local:tiny-llama", str(parent), "h",
                          CheckResult(study_id=st.study_id, statements=[]))
        db.approve(doc, d.id, d.version)
    assert export_feedback(db, admin, tmp_path / "feedback").sft_records == 4
    db.dispose()

    out = tmp_path / "sft-2"
    res = CliRunner().invoke(app, [
        "train", "--config", "tiny-test", "--method", "sft", "--out", str(out),
        "--set", f"train_file={tmp_path / 'feedback' / 'studies.jsonl'}", "--set", "val_file=null",
        "--set", f"base_model={tiny_model}", "--set", "max_steps=1", "--set", "learning_rate=1e-3",
        "--set", "warmup_ratio=0"])
    assert res.exit_code == 0, res.output
    assert f"adapter saved to {out}: 1 steps" in res.output
    assert read_adapter_meta(out).data["parent_adapter"] == str(parent)
    before, after = _lora_b(parent), _lora_b(out)
    assert before.keys() == after.keys()
    # A new LoRA would start with B = 0; one small step from the parent stays next to the parent.
    for key, b in before.items():
        assert float(b.abs().sum()) > 0
        assert float((after[key] - b).norm()) < 0.1 * float(b.norm()), key
    assert any(not torch.equal(after[k], b) for k, b in before.items())  # and it did train
    db = Store()
    try:
        new = next(v for v in db.list_adapters(admin) if v.path == str(out.resolve()))
    finally:
        db.dispose()
    assert new.method == "sft" and new.parent == "sft-1" and not new.active


def test_init_adapter_active_needs_an_active_version(tiny_model, tmp_path):
    from echogpt.model.recipes import ConfigError, load_train_config
    from echogpt.model.train import train_sft

    train = _tiny.write_studies(tmp_path / "t.jsonl", 4)
    res = CliRunner().invoke(app, ["train", "--config", "tiny-test", "--out", str(tmp_path / "out"),
                                   "--set", f"base_model={tiny_model}", "--set", f"train_file={train}",
                                   "--set", "val_file=null", "--set", "init_adapter=active"])
    assert res.exit_code == 2 and "no adapter version is active" in res.output
    assert not (tmp_path / "out").exists()
    # the library trains from folders only: looking up the active version is the command's step
    cfg = load_train_config("tiny-test", [], base_model=str(tiny_model), val_file=None,
                            train_file=str(train), init_adapter="active")
    with pytest.raises(ConfigError, match="give the adapter folder"):
        train_sft(cfg, tmp_path / "out")


@pytest.mark.slow  # trains a (tiny) model twice in a fresh interpreter: ~20 s
def test_training_writes_adapters_without_the_copilot_database(tiny_model, tmp_path):
    import os
    import subprocess
    import sys

    from echogpt.model.prompts import build_messages
    from echogpt.schemas import Study

    train = _tiny.write_studies(tmp_path / "train.jsonl", 4)
    pairs = tmp_path / "pairs.jsonl"
    with open(pairs, "w") as f:
        for row in _tiny.study_rows(4):
            messages = build_messages(Study.model_validate(row), answer=row["impression"])
            f.write(json.dumps({"prompt": messages[:-1], "chosen": messages[-1:],
                                "rejected": [{"role": "assistant", "content": "1. Normal study."}]}) + "\n")
    script = f"""
import sys
from echogpt.model.recipes import load_train_config
from echogpt.model.train import run_training
common = dict(base_model={str(tiny_model)!r}, val_file=None, max_steps=1, batch_size=2)
run_training(load_train_config("tiny-test", train_file={str(train)!r}, **common), {str(tmp_path / 'sft')!r})
run_training(load_train_config("tiny-test", method="dpo", train_file={str(pairs)!r},
                               init_adapter={str(tmp_path / 'sft')!r}, **common), {str(tmp_path / 'dpo')!r})
print(sorted(m for m in sys.modules if m.startswith("echogpt.review")))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
    for run in ("sft", "dpo"):
        assert (tmp_path / run / "echogpt_adapter.json").is_file(), run
    assert not list(Path(os.environ["ECHOGPT_HOME"]).glob("**/*.sqlite"))  # nor made a database


def test_an_sft_weight_adds_the_sft_loss_on_the_chosen_drafts(tmp_path):
    from echogpt.model.dpo import _dpo_args
    from echogpt.model.recipes import load_train_config

    plain = _dpo_args(load_train_config("tiny-test", method="dpo"), tmp_path, "cpu")
    rpo = _dpo_args(load_train_config("tiny-test", method="dpo", dpo_sft_weight=0.5), tmp_path, "cpu")
    assert plain.loss_type == ["sigmoid"]
    assert rpo.loss_type == ["sigmoid", "sft"] and rpo.loss_weights == [1.0, 0.5]
