"""Base-model resolution, identity and hashes, LoRA/QLoRA configs; the embedded model end to end (slow)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
from _tiny import shared_tiny_model, write_studies

from echogpt.config import EMBEDDED_MODEL
from echogpt.model.base import (
    LORA_TARGETS,
    ModelError,
    get_peft_config,
    get_quantization_config,
    load_base_model,
    resolve_base_model,
    weights_fingerprint,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_tiny_model(tmp_path_factory)


def test_local_folder_identity_is_its_name_and_hash_follows_the_weights(tiny, tmp_path):
    ref = resolve_base_model(str(tiny))
    assert ref.identity == "local:tiny-llama" and len(ref.weights_hash) == 12
    assert str(tmp_path) not in ref.label and str(tiny.parent) not in ref.identity
    moved = shutil.copytree(tiny, tmp_path / "elsewhere" / "tiny-llama")
    assert resolve_base_model(str(moved)).weights_hash == ref.weights_hash  # content, not path
    weights = moved / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # one flipped byte in the last tensor
    weights.write_bytes(bytes(data))
    assert weights_fingerprint(moved) != ref.weights_hash


def test_missing_or_unusable_base_models_are_one_line_errors(tmp_path, monkeypatch):
    with pytest.raises(ModelError, match="neither a local folder"):
        resolve_base_model(str(tmp_path / "no" / "such" / "folder"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no config.json"):
        resolve_base_model(str(tmp_path / "empty"))
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ModelError) as err:
        resolve_base_model("meta-llama/Llama-2-7b-chat-hf")
    message = str(err.value)
    assert "\n" not in message and "licence" in message and "meta-llama/Llama-2-7b-chat-hf" in message


def test_lora_targets_every_linear_projection():
    cfg = get_peft_config(r=8, alpha=16)
    assert set(cfg.target_modules) == set(LORA_TARGETS) and cfg.r == 8 and cfg.lora_alpha == 16
    assert cfg.task_type == "CAUSAL_LM"
    top = get_peft_config(layers=[28, 29])
    assert top.layers_to_transform == [28, 29]


def test_qlora_quantization_is_nf4_double_quant_bf16():
    import torch

    q = get_quantization_config()
    assert q.load_in_4bit and q.bnb_4bit_quant_type == "nf4" and q.bnb_4bit_use_double_quant
    assert q.bnb_4bit_compute_dtype == torch.bfloat16


def test_4bit_on_cpu_falls_back_with_one_log_line(tiny, caplog):
    import torch

    with caplog.at_level(logging.WARNING, logger="echogpt.model.base"):
        model = load_base_model(resolve_base_model(str(tiny)), device="cpu", dtype="float32",
                                quantize_4bit=True, for_training=True)
    assert [r for r in caplog.records if "needs CUDA" in r.getMessage()]
    assert next(model.parameters()).dtype == torch.float32


@pytest.mark.slow
def test_embedded_model_converts_once_then_trains_and_generates(tmp_path):
    import time

    from echogpt.model.base import convert_embedded
    from echogpt.model.generate import GenerateConfig, run_generation
    from echogpt.model.recipes import load_train_config
    from echogpt.model.train import train_sft
    from echogpt.schemas import Prediction

    folder = convert_embedded()
    started = time.perf_counter()
    ref = resolve_base_model(EMBEDDED_MODEL)
    assert time.perf_counter() - started < 1.0 and Path(ref.path) == folder
    assert ref.identity == EMBEDDED_MODEL
    assert json.loads((folder / "config.json").read_text()).get("quantization_config") is None
    train = write_studies(tmp_path / "train.jsonl", 4)
    cfg = load_train_config("cpu-quick", ["max_steps=2", "batch_size=2", "lora_r=4", "lora_alpha=8"],
                            train_file=str(train), val_file=None, early_stopping_patience=0)
    result = train_sft(cfg, tmp_path / "run")
    meta = json.loads((tmp_path / "run" / "echogpt_adapter.json").read_text())
    assert result.steps == 2 and meta["base_model"] == EMBEDDED_MODEL
    assert meta["base_weights_hash"] == ref.weights_hash
    out = tmp_path / "pred.jsonl"
    run_generation(write_studies(tmp_path / "test.jsonl", 2, "t"), out, GenerateConfig(
        adapter=str(tmp_path / "run"), max_new_tokens=24), progress=False)
    rows = [Prediction.model_validate_json(x) for x in out.read_text().splitlines()]
    assert len(rows) == 2 and all(r.base_model == ref.label and r.impression for r in rows)
    from echogpt.model.adapters import DEMO_ADAPTER
    from echogpt.model.generator import load_generator
    from echogpt.schemas import Study

    demo = load_generator(adapter=str(DEMO_ADAPTER))
    text = "".join(demo.stream(Study(study_id="d", findings_text="LVEF 30%."), max_new_tokens=8))
    assert text.strip() and demo.bundle.base.label == ref.label


def test_shipped_demo_adapter_is_small_and_names_the_embedded_base():
    from echogpt.model.adapters import DEMO_ADAPTER, read_adapter_meta

    meta = read_adapter_meta(DEMO_ADAPTER)
    assert meta.base_model == EMBEDDED_MODEL and meta.data["train_hash"] and meta.command
    config = json.loads((DEMO_ADAPTER / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == EMBEDDED_MODEL and config["r"] <= 16
    assert sum(f.stat().st_size for f in DEMO_ADAPTER.iterdir()) < 25 * 2**20


@pytest.mark.gpu
def test_qlora_loads_4bit_on_cuda(tiny):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    from peft import get_peft_model

    model = load_base_model(resolve_base_model(str(tiny)), device="cuda", quantize_4bit=True,
                            for_training=True)
    assert getattr(model, "is_loaded_in_4bit", False)
    peft_model = get_peft_model(model, get_peft_config(r=4, alpha=8))
    ids = torch.tensor([[1, 2, 3, 4]], device="cuda")
    peft_model(input_ids=ids, labels=ids).loss.backward()
    assert any(p.grad is not None for n, p in peft_model.named_parameters() if "lora_" in n)


def test_auto_dtype_on_cpu_follows_native_bf16_support(monkeypatch):
    import torch

    from echogpt.model import base as modeling

    monkeypatch.setattr(modeling, "cpu_has_fast_bf16", lambda: False)
    assert modeling.torch_dtype("auto", "cpu") is torch.float32
    monkeypatch.setattr(modeling, "cpu_has_fast_bf16", lambda: True)
    assert modeling.torch_dtype("auto", "cpu") is torch.bfloat16
    assert modeling.torch_dtype("bfloat16", "cpu") is torch.bfloat16  # explicit choice wins
