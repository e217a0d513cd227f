"""The llama.cpp engine: the merged GGUF holds base + LoRA update, drafts match the PyTorch engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from echogpt.config import EMBEDDED_MODEL
from echogpt.model.base import BaseModelRef, ModelError, embedded_gguf
from echogpt.model.generator import choose_engine
from echogpt.model.merged_gguf import _permute, lora_deltas, write_merged_gguf
from echogpt.quickstart import DEMO_ADAPTER

EMBEDDED = BaseModelRef(identity=EMBEDDED_MODEL, path="unused", weights_hash="x")
LOCAL = BaseModelRef(identity="local:tiny", path="unused", weights_hash="y")


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("llamacpp_home")


@pytest.fixture(autouse=True)
def echogpt_home(shared_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # one home for the module: the embedded model is converted and the GGUF written once
    monkeypatch.setenv("ECHOGPT_HOME", str(shared_home))
    monkeypatch.delenv("ECHOGPT_ENGINE", raising=False)
    monkeypatch.delenv("ECHOGPT_BASE_MODEL", raising=False)
    return shared_home


def _gguf_matrix(path: Path, name: str) -> np.ndarray:
    from gguf import GGUFReader
    from gguf.quants import dequantize

    tensor = next(t for t in GGUFReader(str(path)).tensors if t.name == name)
    shape = tuple(int(v) for v in reversed(tensor.shape))
    return dequantize(tensor.data, tensor.tensor_type).reshape(shape).astype(np.float32)


def test_engine_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    assert choose_engine("torch", EMBEDDED, "cpu") == "torch"
    assert choose_engine("auto", LOCAL, "cpu") == "torch"  # only the embedded model has GGUF weights
    with pytest.raises(ModelError, match="embedded model only"):
        choose_engine("llama.cpp", LOCAL, "cpu")
    monkeypatch.setenv("ECHOGPT_ENGINE", "torch")
    assert choose_engine("auto", EMBEDDED, "cpu") == "torch"


def test_adapters_the_engine_cannot_run_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read the adapter"):
        lora_deltas(tmp_path)
    dora = tmp_path / "dora"
    dora.mkdir()
    config = json.loads((DEMO_ADAPTER / "adapter_config.json").read_text())
    (dora / "adapter_config.json").write_text(json.dumps({**config, "use_dora": True}))
    weights = (DEMO_ADAPTER / "adapter_model.safetensors").read_bytes()
    (dora / "adapter_model.safetensors").write_bytes(weights)
    with pytest.raises(ModelError, match="only plain LoRA"):
        lora_deltas(dora)


def test_an_adapter_stored_in_bf16_is_read(tmp_path: Path) -> None:
    # adapters trained on a bf16 base are saved in bf16, which numpy cannot read
    import torch
    from safetensors.torch import load_file, save_file

    stored = load_file(str(DEMO_ADAPTER / "adapter_model.safetensors"))
    (tmp_path / "adapter_config.json").write_text((DEMO_ADAPTER / "adapter_config.json").read_text())
    halved = {k: v.to(torch.bfloat16) for k, v in stored.items()}
    save_file(halved, str(tmp_path / "adapter_model.safetensors"))
    got = lora_deltas(tmp_path)["blk.20.attn_v.weight"]
    want = lora_deltas(DEMO_ADAPTER)["blk.20.attn_v.weight"]
    np.testing.assert_allclose(got, want, atol=0.02 * np.abs(want).max())


@pytest.mark.slow
def test_lora_update_is_the_peft_merge_in_the_gguf_layout() -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from echogpt.model.base import convert_embedded

    folder = convert_embedded()
    base = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    layer = base.model.layers[20]
    before = {n: getattr(layer.self_attn if n[0] in "qk" else layer.mlp, n).weight.detach().clone().numpy()
              for n in ("q_proj", "k_proj", "down_proj")}
    # the permutation is the one the GGUF file itself uses for the base weights
    n_head, n_kv = base.config.num_attention_heads, base.config.num_key_value_heads
    gguf_q = _gguf_matrix(embedded_gguf(), "blk.20.attn_q.weight")
    gguf_k = _gguf_matrix(embedded_gguf(), "blk.20.attn_k.weight")
    assert np.array_equal(_permute(before["q_proj"], n_head), gguf_q)
    assert np.array_equal(_permute(before["k_proj"], n_kv), gguf_k)

    merged = PeftModel.from_pretrained(base, str(DEMO_ADAPTER)).merge_and_unload()
    layer = merged.model.layers[20]
    deltas = lora_deltas(DEMO_ADAPTER)
    q = layer.self_attn.q_proj.weight.detach().numpy() - before["q_proj"]
    k = layer.self_attn.k_proj.weight.detach().numpy() - before["k_proj"]
    down = layer.mlp.down_proj.weight.detach().numpy() - before["down_proj"]
    assert np.abs(q).max() > 1e-4  # the adapter changes this layer
    np.testing.assert_allclose(deltas["blk.20.attn_q.weight"], _permute(q, n_head), atol=2e-6)
    np.testing.assert_allclose(deltas["blk.20.attn_k.weight"], _permute(k, n_kv), atol=2e-6)
    np.testing.assert_allclose(deltas["blk.20.ffn_down.weight"], down, atol=2e-6)
    assert "blk.0.attn_q.weight" in deltas  # the shipped adapter trains every layer's projections,
    assert "token_embd.weight" not in deltas  # never the embeddings


@pytest.mark.slow
def test_merged_gguf_holds_base_plus_update(tmp_path: Path) -> None:
    from gguf import GGUFReader

    out = write_merged_gguf(tmp_path / "m.gguf", DEMO_ADAPTER, weights="f16")
    delta = lora_deltas(DEMO_ADAPTER)["blk.20.attn_q.weight"]
    base_q = _gguf_matrix(embedded_gguf(), "blk.20.attn_q.weight")
    merged_q = _gguf_matrix(out, "blk.20.attn_q.weight")
    np.testing.assert_allclose(merged_q, base_q + delta, atol=2e-3)
    assert np.abs(merged_q - base_q).max() > 10 * 2e-3  # and the update is really in there
    np.testing.assert_allclose(_gguf_matrix(out, "token_embd.weight"),  # no LoRA: kept as it was
                               _gguf_matrix(embedded_gguf(), "token_embd.weight"), atol=2e-3)
    fields = GGUFReader(str(out)).fields
    assert "tokenizer.ggml.tokens" in fields and "tokenizer.chat_template" in fields
    assert len(GGUFReader(str(out)).tensors) == len(GGUFReader(str(embedded_gguf())).tensors)


@pytest.fixture(scope="module")
def engines():
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (the `fast` extra)")
    from echogpt.model.generator import load_generator

    load_generator.cache_clear()
    fast = load_generator(adapter=str(DEMO_ADAPTER), engine="llama.cpp", max_new_tokens=40)
    torch_gen = load_generator(adapter=str(DEMO_ADAPTER), engine="torch", dtype="float32", max_new_tokens=40)
    yield fast, torch_gen
    load_generator.cache_clear()


@pytest.fixture(scope="module")
def studies():
    from echogpt.synth.corpus import generate_corpus

    return list(generate_corpus(4, seed=3))


@pytest.mark.slow
def test_engine_drafts_what_the_torch_engine_drafts(engines, studies) -> None:
    from echogpt.model.prompts import build_messages

    fast, torch_gen = engines
    assert fast.engine_name == "llama.cpp" and torch_gen.engine_name == "torch"
    eos = fast.bundle.tokenizer.eos_token_id
    for study in studies[:2]:
        ids = fast._prompt_ids(build_messages(study, fast.prompt))
        assert ids == torch_gen._prompt_ids(build_messages(study, torch_gen.prompt))
        mine = fast.engine.generate([ids], 12, {eos})[0]
        theirs = torch_gen.generate_batch([study], "fine-tuned", max_new_tokens=12)[0]
        assert torch_gen.bundle.tokenizer.decode(mine, skip_special_tokens=True).strip() == theirs.impression


def _part_only_at_near_ties(engine, prompt: list[int], a: list[int], b: list[int], tol: float = 0.25) -> bool:
    """Two greedy continuations of one prompt are equal, or part only where the two tokens they pick
    score within ``tol`` of each other and of the best (floating-point sums of different batch shapes
    differ in the last bits; a mixed-up sequence or cache cell parts at once, by far more)."""
    k = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
    if k is None:
        return len(a) == len(b)
    logits = engine.next_logits([*prompt, *a[:k]])
    best = float(logits.max())
    return best - float(logits[a[k]]) < tol and best - float(logits[b[k]]) < tol


@pytest.mark.slow
def test_engine_batches_stream_and_stop(engines, studies) -> None:
    from echogpt.model.prompts import build_messages

    fast, _ = engines
    engine, tok = fast.engine, fast.bundle.tokenizer
    eos = tok.eos_token_id
    prompts = [fast._prompt_ids(build_messages(s, fast.prompt)) for s in studies[:3]]
    engine.forget()
    together = engine.generate(prompts, 256, {eos})
    alone = []
    for p in prompts:
        engine.forget()
        alone.append(engine.generate([p], 256, {eos})[0])
    for p, a, b in zip(prompts, together, alone, strict=True):
        assert _part_only_at_near_ties(engine, p, a, b)
    # the same computation through the generator: the same tokens, as text
    engine.forget()
    batch = fast.generate_batch(studies[:3], "fine-tuned", max_new_tokens=256)
    texts = [tok.decode(t, skip_special_tokens=True).strip() for t in together]
    assert [p.impression for p in batch] == texts
    assert all(p.stopped and p.new_tokens < 256 and p.impression for p in batch)  # it learned to stop
    engine.forget()
    streamed = "".join(fast.stream(studies[0], max_new_tokens=256)).strip()
    assert streamed == tok.decode(alone[0], skip_special_tokens=True).strip()
    assert batch[0].base_model and batch[0].adapter == str(DEMO_ADAPTER)


@pytest.mark.slow
def test_near_tie_rule_rejects_a_clear_difference(engines, studies) -> None:
    from echogpt.model.prompts import build_messages

    fast, _ = engines
    engine = fast.engine
    prompt = fast._prompt_ids(build_messages(studies[0], fast.prompt))
    engine.forget()
    greedy = engine.generate([prompt], 8, {fast.bundle.tokenizer.eos_token_id})[0]
    logits = engine.next_logits(prompt)
    assert int(logits.argmax()) == greedy[0]  # the logits are the ones greedy decoding picks from
    worst = int(logits.argmin())
    assert not _part_only_at_near_ties(engine, prompt, greedy, [worst, *greedy[1:]])
    assert _part_only_at_near_ties(engine, prompt, greedy, list(greedy))


@pytest.mark.slow
def test_engine_sampling_is_seeded(engines, studies) -> None:
    from echogpt.model.prompts import build_messages

    fast, _ = engines
    ids = fast._prompt_ids(build_messages(studies[1], fast.prompt))
    eos = fast.bundle.tokenizer.eos_token_id
    runs = [fast.engine.generate([ids], 30, {eos}, sampling=(1.5, 1.0, seed)) for seed in (1, 1, 2)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


@pytest.mark.slow
def test_engine_computes_a_shared_prompt_beginning_once(engines, studies) -> None:
    from echogpt.model.llamacpp import _common_length
    from echogpt.model.prompts import build_messages

    fast, _ = engines
    engine = fast.engine
    eos = fast.bundle.tokenizer.eos_token_id
    ids = [fast._prompt_ids(build_messages(s, fast.prompt)) for s in studies[:3]]

    def fresh(p: list[int]) -> list[int]:  # nothing kept from an earlier call
        engine.forget()
        out = engine.generate([p], 24, {eos})[0]
        assert engine.computed == len(p)
        return out

    engine.generate(ids, 24, {eos})  # a context large enough for all calls below (a new one keeps nothing)
    expected = [fresh(p) for p in ids]
    shared = _common_length(ids, min(map(len, ids)))
    assert shared > 50  # the system prompt at least
    drafts: list[tuple[list[int], list[int], list[int]]] = []  # (prompt, drafted, drafted fresh)

    def run(prompts: list[list[int]]) -> None:
        got = engine.generate(prompts, 24, {eos})
        drafts.extend((p, g, expected[ids.index(p)]) for p, g in zip(prompts, got, strict=True))

    run(ids)
    assert engine.computed == sum(len(p) - shared for p in ids)  # the beginning once, copied
    # one draft after another: the beginning the two prompts share stays in the cache
    kept = _common_length([ids[0], ids[1]], len(ids[1]) - 1)
    run([ids[1]])
    assert engine.computed == len(ids[1]) - kept
    run([ids[1]])  # the same prompt again
    assert engine.computed == 1
    run([ids[2], ids[0]])
    engine.reuse = False
    try:
        run([ids[0], ids[1]])
        assert engine.computed == len(ids[0]) + len(ids[1])
    finally:
        engine.reuse = True
    # the same drafts as from an empty cache, up to near-ties of batch shapes (checked last: it decodes)
    assert all(_part_only_at_near_ties(engine, p, a, b) for p, a, b in drafts)


@pytest.mark.slow
def test_engine_keeps_the_decoded_tokens_cells_and_bans_first_tokens(engines, studies) -> None:
    """What the guard needs: going on from a prompt plus the tokens just decoded computes one token
    and continues the same greedy draft; a banned first token is never the first new token."""
    from echogpt.model.guard import guarded_generate
    from echogpt.model.prompts import build_messages

    fast, _ = engines
    engine = fast.engine
    eos = fast.bundle.tokenizer.eos_token_id
    prompt = fast._prompt_ids(build_messages(studies[0], fast.prompt))
    engine.forget()
    whole = engine.generate([prompt], 24, {eos})[0]
    engine.forget()
    head = []
    for _, token in engine.run([prompt], 24, {eos}):  # stopped after 10 tokens, as the guard does
        head.append(token)
        if len(head) == 10:
            break
    rest = engine.generate([prompt + head], 14, {eos})[0]
    assert engine.computed == 1  # the prompt and 9 decoded tokens came from the cache
    assert head + rest == whole
    banned = engine.generate([prompt], 1, {eos}, ban_first=[whole[0]])[0]
    assert banned[0] != whole[0]
    draft = guarded_generate(fast, studies[0])
    from echogpt.checker.check import check

    summary = check(draft.text, studies[0]).summary
    assert summary["contradicted"] == summary["unsupported"] == 0
