"""A short DPO round end to end on a tiny random Llama: approved edits in the store -> exported
preference pairs -> ``echogpt train --method dpo`` continuing the active adapter -> a new
registered adapter version that loads for generation."""

from __future__ import annotations

import json
from pathlib import Path

import _tiny
import pytest

from echogpt.review.feedback import export_feedback
from echogpt.review.store import Store
from echogpt.schemas import CheckResult, Study


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tiny.shared_tiny_model(tmp_path_factory)


def _start_adapter(base: Path, out: Path) -> Path:
    """An SFT-style adapter on the tiny base, saved the way train.py saves one."""
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    from echogpt.model.adapters import ADAPTER_META, AdapterMeta
    from echogpt.model.base import get_peft_config, resolve_base_model

    ref = resolve_base_model(str(base))
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32),
                           get_peft_config(r=4, alpha=8, dropout=0.0))
    model.save_pretrained(out)
    meta = AdapterMeta(base_model=ref.identity, base_weights_hash=ref.weights_hash,
                       base_model_hint=ref.path, method="sft")
    (out / ADAPTER_META).write_text(meta.model_dump_json())
    return out


def _lora_b(folder: Path) -> dict:
    from safetensors.torch import load_file

    return {k: v for k, v in load_file(folder / "adapter_model.safetensors").items() if "lora_B" in k}


@pytest.mark.slow  # trains a (tiny) model: ~6 s
def test_dpo_round_end_to_end(tiny_model, tmp_path):
    from echogpt.model.adapters import load_bundle, read_adapter_meta
    from echogpt.model.train import run_training

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
    result = run_training(None, out, method="dpo", resume=False, overrides=[
        f"train_file={tmp_path / 'feedback' / 'preferences.jsonl'}", "val_file=null",
        "early_stopping_patience=0", "max_steps=2", "batch_size=2", "device=cpu", "dtype=float32",
        "max_length=512", "logging_steps=1", "learning_rate=0.01", "lora_r=4", "lora_alpha=8"])

    assert result.steps == 2 and result.pairs == 4
    assert result.parent_adapter == str(start)  # continued the active adapter
    assert result.final_loss is not None
    meta = read_adapter_meta(out)
    assert meta.method == "dpo" and meta.data["pairs"] == 4
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == \
        "local:tiny-llama"
    assert not (out / "ref").exists()  # only the trained adapter is saved, not TRL's reference copy
    # LoRA B starts at zero; DPO steps must have moved it.
    assert any(float(v.abs().sum()) > 0 for v in _lora_b(out).values())
    assert all(float(v.abs().sum()) == 0 for v in _lora_b(start).values())

    db = Store()
    try:
        versions = {v.name: v for v in db.list_adapters(admin)}
        new = versions[result.version]
        assert new.method == "dpo" and new.parent == "sft-1" and not new.active
        assert db.active_adapter(admin).name == "sft-1"  # an admin selects it
        db.select_adapter(admin, new.name)
    finally:
        db.dispose()
    bundle = load_bundle(adapter=out, device="cpu", dtype="float32")
    assert bundle.adapter == str(out)
    assert "DPO adapter saved" in result.summary()


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
    from echogpt.model.train import run_training, train_sft

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
    result = run_training("tiny-test", out, method="sft", resume=False, overrides=[
        f"train_file={tmp_path / 'feedback' / 'studies.jsonl'}", "val_file=null",
        f"base_model={tiny_model}", "max_steps=1", "learning_rate=1e-3", "warmup_ratio=0"])

    assert result.steps == 1 and result.parent_adapter == str(parent)
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


def test_sft_from_an_active_adapter_needs_one(tiny_model, tmp_path):
    from echogpt.model.recipes import ConfigError, load_train_config
    from echogpt.model.train import train_sft

    cfg = load_train_config("tiny-test", [], base_model=str(tiny_model), val_file=None,
                            train_file=str(_tiny.write_studies(tmp_path / "t.jsonl", 4)),
                            init_adapter="active")
    with pytest.raises(ConfigError, match="no adapter version is active"):
        train_sft(cfg, tmp_path / "out")
