"""Model cards from what an adapter folder records: the LoRA as saved (inherited from the parent
when continued, whatever the recipe says), the data with its size, hash and source, the steps,
losses and the evaluation; never a generic template."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from echogpt.model.adapters import ADAPTER_META, DEMO_ADAPTER, AdapterMeta
from echogpt.model.cards import data_source, model_card, write_model_card


def _folder(tmp: Path, name: str, meta: AdapterMeta, lora: dict | None = None) -> Path:
    folder = tmp / name
    folder.mkdir()
    config = json.loads((DEMO_ADAPTER / "adapter_config.json").read_text())
    (folder / "adapter_config.json").write_text(json.dumps({**config, **(lora or {})}))
    (folder / ADAPTER_META).write_text(meta.model_dump_json())
    return folder


def test_the_card_states_the_lora_as_saved_and_what_a_continuation_inherited(tmp_path):
    parent = tmp_path / "smollm2-echo-demo"
    shutil.copytree(DEMO_ADAPTER, parent, ignore=shutil.ignore_patterns("*.safetensors"))
    studies = tmp_path / "feedback" / "studies.jsonl"
    studies.parent.mkdir()
    studies.write_text('{"study_id": "fb-1", "findings_text": "LVEF 60%.", "impression": "1. Normal."}\n')
    (studies.parent / "manifest.json").write_text(json.dumps({"prompt_fingerprint": "0fc3cc2796d1"}))
    parent_meta = AdapterMeta.model_validate_json((parent / ADAPTER_META).read_text())
    # the recipe (cpu-quick) asks for r=8, alpha=16, top 8 layers; the continued adapter keeps its parent's
    # 16/32/12
    child = _folder(tmp_path, "sft-2", AdapterMeta(
        base_model=parent_meta.base_model, base_weights_hash=parent_meta.base_weights_hash,
        method="sft", prompt_settings=parent_meta.prompt_settings,
        config={"lora_r": 8, "lora_alpha": 16, "lora_top_layers": 8, "init_adapter": str(parent),
                "dpo_beta": 0.1},
        data={"train_file": str(studies), "train_hash": "abc123", "train_examples": 3,
              "parent_adapter": str(parent)}, steps=2, seed=0, command="echogpt train ..."),
        lora={"layers_to_transform": list(range(18, 30))})  # as a parent trained on the top 12 saved it
    (child / "losses.csv").write_text("step,epoch,train_loss,val_loss,learning_rate\n"
                                      "1,0.5,1.25,,0.001\n2,1.0,0.75,,0.0005\n")
    card = write_model_card(child).read_text()
    assert "r=16, alpha=32, 12 layers (18-29)" in card and "r=8" not in card
    assert f"`{parent}`: LoRA shape, weights and prompt settings of a SFT adapter" in card
    assert "3 examples, source: review" in card and "abc123" in card
    assert "| Optimizer steps | 2 (" in card
    assert "| Training loss, first / last logged | 1.2500 / 0.7500 |" in card
    assert "layout prose" in card and "Not evaluated yet" in card
    assert "| Method | SFT, 4-bit base" in card  # an SFT config's default DPO beta is not shown


def test_a_dpo_card_replaces_the_generic_template_and_shows_its_evaluation(tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"prompt": [], "chosen": [], "rejected": [], "source": "checker"}\n')
    folder = _folder(tmp_path, "dpo-1", AdapterMeta(
        base_model="embedded:smollm2-135m-instruct", method="dpo", config={"dpo_beta": 0.1},
        data={"train_file": str(pairs), "train_hash": "feed", "train_examples": 12}, steps=4,
        final_loss=0.6931, reward_accuracy=0.625), {"r": 4})
    (folder / "README.md").write_text("- **Developed by:** [More Information Needed]\n")
    (folder / "losses.csv").write_text("step,epoch,loss,rewards/accuracies,rewards/margins,learning_rate\n"
                                       "4,1.0,0.6931,0.625,0.01,0.0001\n")
    card = write_model_card(folder, evaluation={"fact_f1": 0.8125, "n": 40}).read_text()
    assert "More Information Needed" not in card
    assert "# EchoGPT LoRA adapter (DPO, `dpo-1`)" in card
    assert "12 preference pairs, source: checker" in card and "r=4," in card
    assert "| Final loss / reward accuracy | 0.6931 / 0.6250 |" in card and "DPO (beta 0.1)" in card
    assert "| Training loss, first / last logged | 0.6931 / 0.6931 |" in card
    assert "nothing: a new LoRA on the base model" in card
    assert "| fact_f1 | 0.8125 |" in card and "| n | 40 |" in card


def test_data_source_of_a_plain_file(tmp_path):
    plain = tmp_path / "train.jsonl"
    plain.write_text('{"study_id": "s1"}\n')
    assert data_source(plain) == "file" and data_source(None) == "n/a"
    assert data_source(tmp_path / "missing.jsonl") == "file"
    assert model_card(DEMO_ADAPTER).startswith("# EchoGPT LoRA adapter (SFT, `smollm2-echo-demo`)")


def test_data_source_of_a_mixed_pairs_file(tmp_path):
    mixed = tmp_path / "pairs.jsonl"
    mixed.write_text('{"source": "checker"}\n{"source": "review"}\n\n{"source": "checker"}\n')
    assert data_source(mixed) == "checker 2 + review 1"
    (tmp_path / "review.jsonl").write_text('{"source": "review"}\n{"source": "review"}\n')
    assert data_source(tmp_path / "review.jsonl") == "review"


def test_a_dpo_card_names_the_sft_term_when_the_round_had_one(tmp_path):
    folder = _folder(tmp_path, "dpo-2", AdapterMeta(
        base_model="embedded:smollm2-135m-instruct", method="dpo",
        config={"dpo_beta": 0.1, "dpo_sft_weight": 1.0}, data={}, steps=4), {"r": 4})
    card = write_model_card(folder).read_text()
    assert "DPO (beta 0.1, SFT weight 1.0)" in card
