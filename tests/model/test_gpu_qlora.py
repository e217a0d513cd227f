"""QLoRA on CUDA through the project's own code, on the tiny Llama: the gpu-llama2-7b-qlora recipe trains
LoRA on an NF4 double-quantized base, the adapter reloads on that base, merges into full precision
and drafts with the PyTorch engine. Skipped without CUDA (benchmarks/gpu_qlora.py has the figures)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from _tiny import shared_tiny_model, write_studies

torch = pytest.importorskip("torch")

from echogpt.model.adapters import load_bundle, merge_adapter  # noqa: E402
from echogpt.model.base import load_base_model, load_tokenizer, resolve_base_model  # noqa: E402
from echogpt.model.generator import Generator, choose_engine  # noqa: E402
from echogpt.model.recipes import load_train_config  # noqa: E402
from echogpt.model.train import read_studies, train_sft  # noqa: E402

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_tiny_model(tmp_path_factory)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("qlora-data")
    return write_studies(folder / "train.jsonl", 16), write_studies(folder / "val.jsonl", 4, "v")


def _recipe(tiny: Path, data: tuple[Path, Path], *sets: str):
    """The GPU recipe itself, shrunk to the tiny model and a few steps."""
    return load_train_config("gpu-llama2-7b-qlora", [
        f"base_model={tiny}", f"train_file={data[0]}", f"val_file={data[1]}", "max_steps=3", "eval_steps=1",
        "val_subset=4", "batch_size=4", "grad_accum=1", "max_length=256", "early_stopping_patience=0",
        "logging_steps=1", "learning_rate=1e-2", *sets])


def _seen_at_train_begin() -> tuple[dict, object]:
    """A callback recording how the trainer's model is quantized and what it trains."""
    import bitsandbytes as bnb
    from transformers import TrainerCallback

    seen: dict = {}

    class Seen(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):  # noqa: ANN001
            linear4 = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
            seen.update(
                loaded_in_4bit=model.is_loaded_in_4bit, linear4bit=len(linear4),
                quant_types={m.weight.quant_type for m in linear4},
                double_quant={bool(m.weight.compress_statistics) for m in linear4},
                compute_dtypes={m.compute_dtype for m in linear4},
                trainable={n for n, p in model.named_parameters() if p.requires_grad},
                checkpointing=model.is_gradient_checkpointing)

    return seen, Seen()


@pytest.fixture(scope="module")
def trained(tiny, data, tmp_path_factory) -> tuple[Path, dict]:
    seen, callback = _seen_at_train_begin()
    out = tmp_path_factory.mktemp("qlora") / "adapter"
    result = train_sft(_recipe(tiny, data), out, resume=False, callbacks=[callback])
    assert result.steps == 3
    return out, seen


def test_gpu_recipe_trains_lora_on_an_nf4_double_quantized_base(trained):
    out, seen = trained
    assert seen["loaded_in_4bit"] and seen["linear4bit"] == 2 * 7  # every projection of both layers
    assert seen["quant_types"] == {"nf4"} and seen["double_quant"] == {True}
    assert seen["compute_dtypes"] == {torch.bfloat16}
    assert seen["trainable"] and all("lora_" in n for n in seen["trainable"])
    meta = json.loads((out / "echogpt_adapter.json").read_text())
    assert meta["config"]["quantize_4bit"] is True and meta["base_model"].startswith("local:")
    with open(out / "losses.csv") as f:
        losses = [float(x) for line in f.read().splitlines()[1:] for x in line.split(",")[2:4] if x]
    assert losses and all(math.isfinite(x) for x in losses)


def test_qlora_adapter_reloads_on_the_4bit_base(trained, tiny):
    from peft import PeftModel

    out, _ = trained
    ref = resolve_base_model(str(tiny))
    model = PeftModel.from_pretrained(load_base_model(ref, device="cuda", quantize_4bit=True), str(out))
    assert model.is_loaded_in_4bit
    assert any(p.abs().max() > 0 for n, p in model.named_parameters() if "lora_B" in n)  # trained, not init
    ids = load_tokenizer(ref)("Severe aortic stenosis.", return_tensors="pt")["input_ids"].to("cuda")
    with torch.inference_mode():
        assert torch.isfinite(model(input_ids=ids, labels=ids).loss)


def test_qlora_adapter_merges_into_full_precision_and_drafts_on_cuda(trained, tiny, data, tmp_path):
    from peft import PeftModel

    out, _ = trained
    merged = merge_adapter(out, tmp_path / "merged")
    config = json.loads((merged / "config.json").read_text())
    assert "quantization_config" not in config and config["dtype"] == "float32"
    ref = resolve_base_model(str(tiny))
    ids = load_tokenizer(ref)("Moderate mitral regurgitation.", return_tensors="pt")["input_ids"].to("cuda")
    adapted = PeftModel.from_pretrained(load_base_model(ref, device="cuda", dtype="float32"), str(out))
    full = load_base_model(resolve_base_model(str(merged)), device="cuda", dtype="float32")
    with torch.inference_mode():
        torch.testing.assert_close(full(input_ids=ids).logits, adapted(input_ids=ids).logits,
                                   atol=1e-4, rtol=1e-4)

    bundle = load_bundle(base_model=str(merged), device="cuda")
    assert choose_engine("auto", bundle.base, "cuda") == "torch"
    studies = read_studies(data[1])
    drafts = Generator(bundle, max_new_tokens=8).generate_batch(studies, "fine-tuned")
    assert [d.study_id for d in drafts] == [s.study_id for s in studies]
    assert all(0 < d.new_tokens <= 8 for d in drafts)


def test_gradient_checkpointing_off_is_honoured_on_a_4bit_base(tiny, data, tmp_path):
    seen, callback = _seen_at_train_begin()
    train_sft(_recipe(tiny, data, "max_steps=1", "gradient_checkpointing=false"), tmp_path / "run",
              resume=False, callbacks=[callback])
    assert seen["checkpointing"] is False
