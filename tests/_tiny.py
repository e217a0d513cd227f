"""A tiny randomly initialised Llama with a ChatML tokenizer, built offline, plus a few studies.

Shared by the modeling, training and generation tests:

    folder = build_tiny_model(tmp_path / "tiny")      # ~1 s, loadable as a local base model
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_FINDINGS = [
    ("Normal left ventricular size and wall thickness. LVEF 60% by biplane. No valve disease.",
     "1. Normal left ventricular size and systolic function, LVEF 60%.\n2. No significant valve disease."),
    ("Severely dilated left ventricle with global hypokinesis. LVEF 25%. Moderate mitral "
     "regurgitation.", "1. Severely reduced LV systolic function, LVEF 25%.\n2. Moderate mitral "
     "regurgitation."),
    ("Calcified aortic valve with reduced opening. Mean gradient 45 mmHg, AVA 0.8 cm2.",
     "1. Severe aortic stenosis (mean gradient 45 mmHg, AVA 0.8 cm2).\n2. Normal LV function."),
    ("Moderate circumferential pericardial effusion without tamponade physiology. LVEF 55%.",
     "1. Moderate pericardial effusion without tamponade.\n2. Normal LVEF 55%."),
]


def study_rows(n: int, prefix: str = "s") -> list[dict]:
    """``n`` small valid studies (cycling through four phenotypes), each with an impression."""
    rows = []
    for i in range(n):
        text, impression = _FINDINGS[i % len(_FINDINGS)]
        rows.append({"study_id": f"{prefix}{i:03d}", "patient_id": f"p{i:03d}",
                     "findings_text": text, "impression": impression,
                     "phenotype": ["normal", "hfref", "as", "effusion"][i % 4]})
    return rows


def write_studies(path: Path, n: int, prefix: str = "s") -> Path:
    """Write ``n`` studies as JSONL and return the path."""
    path.write_text("".join(json.dumps(r) + "\n" for r in study_rows(n, prefix)))
    return path


def build_tiny_model(folder: Path) -> Path:
    """Save a 2-layer, hidden-64 Llama and a byte-level BPE ChatML tokenizer into ``folder``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from echogpt.model.prompts import DEFAULT_PROMPT, render_study
    from echogpt.schemas import Study

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    corpus = [DEFAULT_PROMPT.system_prompt, *(render_study(Study(**r)) for r in study_rows(8)),
              *(f for pair in _FINDINGS for f in pair), "system user assistant"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=600, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>", bos_token="<|im_start|>")
    tokenizer.chat_template = CHATML
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=4096, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                         tie_word_embeddings=True)
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def shared_tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model folder of this test session, built on first use (shared by test modules)."""
    folder = tmp_path_factory.getbasetemp() / "shared-models" / "tiny-llama"
    if not (folder / "config.json").is_file():
        build_tiny_model(folder)
    return folder


def start_adapter(base: Path, out: Path) -> Path:
    """An SFT-style LoRA adapter on the tiny base (B = 0, default prompt), saved as train.py saves one."""
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
