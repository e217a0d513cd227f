"""Model cards (``README.md``) of adapter folders, written from what the folder itself records:
``adapter_config.json`` for the LoRA as saved (a continued adapter keeps its parent's shape, not
the recipe's), ``echogpt_adapter.json`` for base, method, prompt and data, ``losses.csv`` for the
losses, and the parent folder for what was inherited; an evaluation is added when there is one.

    write_model_card("runs/dpo-1", evaluation={"fact_f1": 0.81, "n": 200})
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from echogpt.model.prompts import PromptSettings

META_FILE = "echogpt_adapter.json"  # adapters.ADAPTER_META (adapters imports this module, not back)
_FIELDS = ("base_model", "base_weights_hash", "truncated_examples", "longest_example_tokens",
           "examples_seen", "final_val_loss", "best_val_loss", "best_step", "final_loss",
           "reward_accuracy", "steps", "seconds", "seed", "command")

DISCLAIMER = ("A research tool: every draft needs review by a qualified echocardiographer; it is "
              "not a medical device.")


def _lora(config: dict[str, Any]) -> str:
    layers = config.get("layers_to_transform")
    if isinstance(layers, int):
        layers = [layers]
    where = (f"{len(layers)} layers ({min(layers)}-{max(layers)})" if layers else "all layers")
    modules = ", ".join(sorted(config.get("target_modules") or [])) or "n/a"
    return f"r={config.get('r')}, alpha={config.get('lora_alpha')}, {where}, modules {modules}"


def data_source(path: str | Path | None) -> str:
    """Where a training file came from: ``checker`` (checker-ranked pairs) or ``review`` (the
    copilot's export) as its records say, both (``checker 12 + review 3``) for a mixed file,
    ``review`` when an export's manifest lies beside it, else ``file``."""
    if not path:
        return "n/a"
    p = Path(path)
    sources: Counter[str] = Counter()
    try:
        with open(p, encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line) if line.strip() else None
                if isinstance(rec, dict) and rec.get("source"):
                    sources[str(rec["source"])] += 1
    except (OSError, ValueError):
        pass
    if len(sources) == 1:
        return next(iter(sources))
    if sources:
        return " + ".join(f"{k} {n}" for k, n in sorted(sources.items()))
    manifest = p.with_name("manifest.json")
    try:
        if "prompt_fingerprint" in json.loads(manifest.read_text(encoding="utf-8")):
            return "review"
    except (OSError, ValueError):
        pass
    return "file"


def _train_losses(folder: Path) -> list[tuple[str, str]]:
    """First and last logged training loss from ``losses.csv`` (SFT ``train_loss``, DPO ``loss``)."""
    path = folder / "losses.csv"
    if not path.is_file():
        return []
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    for column in ("train_loss", "loss"):
        values = [float(r[column]) for r in rows if r.get(column) not in (None, "")]
        if values:
            return [("Training loss, first / last logged", f"{values[0]:.4f} / {values[-1]:.4f}")]
    return []


def _fmt(x: Any) -> str:
    if x is None:
        return "n/a"
    return f"{x:.4f}" if isinstance(x, float) else str(x)


def read_meta(folder: Path) -> SimpleNamespace | None:
    """An adapter folder's ``echogpt_adapter.json`` as attributes (None when missing or unreadable)."""
    try:
        raw = json.loads((Path(folder) / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    values = {k: raw.get(k) for k in _FIELDS}
    return SimpleNamespace(**values, method=raw.get("method") or "sft", config=raw.get("config") or {},
                           data=raw.get("data") or {},
                           prompt_settings=PromptSettings.model_validate(raw.get("prompt_settings") or {}))


def _parent(meta: SimpleNamespace) -> tuple[str | None, SimpleNamespace | None]:
    path = meta.data.get("parent_adapter") or meta.config.get("init_adapter")
    if not path or path == "active":
        return None, None
    return str(path), read_meta(Path(path))


def _card_rows(folder: Path, meta: SimpleNamespace) -> list[tuple[str, str]]:
    c, d = meta.config, meta.data
    saved = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    beta = c.get("dpo_beta") if meta.method == "dpo" else None  # SFT configs carry the default too
    sft = c.get("dpo_sft_weight") if meta.method == "dpo" else None
    terms = ([f"beta {beta}"] if beta is not None else []) + ([f"SFT weight {sft}"] if sft else [])
    method = meta.method.upper() + (f" ({', '.join(terms)})" if terms else "")
    rows = [("Base model", f"`{meta.base_model}` (weights `{meta.base_weights_hash}`)"),
            ("Method", method + f", 4-bit base: {c.get('quantize_4bit', 'n/a')}"),
            ("LoRA (as saved)", _lora(saved))]
    parent_path, parent = _parent(meta)
    if parent_path:
        kind = f" of a {parent.method.upper()} adapter" if parent else " (parent folder not found)"
        rows.append(("Continues", f"`{parent_path}`: LoRA shape, weights and prompt settings{kind}"))
    else:
        rows.append(("Continues", "nothing: a new LoRA on the base model"))
    prompt = meta.prompt_settings
    rows.append(("Prompt", f"`{prompt.name}` v{prompt.version}, layout {prompt.layout} "
                           f"(`{prompt.fingerprint()}`)"))
    train_file = d.get("train_file") or d.get("pairs_file")
    dpo = meta.method == "dpo"
    count = d.get("train_examples", d.get("pairs"))
    seen = f", {meta.examples_seen} seen in training" if meta.examples_seen is not None else ""
    train_hash = d.get("train_hash") or d.get("pairs_hash")
    what = "preference pairs" if dpo else "examples"
    rows.append(("Training data", f"`{train_file}` (data hash `{train_hash}`), {_fmt(count)} {what}"
                                  f"{seen}, source: {data_source(train_file)}"))
    if d.get("val_file"):
        rows.append(("Validation data", f"`{d['val_file']}` (data hash `{d.get('val_hash')}`), "
                                        f"{_fmt(d.get('val_examples'))} examples"))
    if meta.truncated_examples is not None:
        rows.append((f"Truncated at {c.get('max_length')} tokens",
                     f"{meta.truncated_examples} (longest {meta.longest_example_tokens})"))
    batch = f"batch {c.get('batch_size')}x{c.get('grad_accum')}"
    rows.append(("Optimizer steps", f"{_fmt(meta.steps)} (lr {c.get('learning_rate')}, "
                                    f"{c.get('lr_scheduler')}, {batch})"))
    rows += _train_losses(folder)
    if dpo:
        rows.append(("Final loss / reward accuracy",
                     f"{_fmt(meta.final_loss)} / {_fmt(meta.reward_accuracy)}"))
    elif meta.best_val_loss is not None or meta.final_val_loss is not None:
        rows.append(("Best / final validation loss", f"{_fmt(meta.best_val_loss)} (step {meta.best_step}) / "
                                                     f"{_fmt(meta.final_val_loss)}"))
    return rows + [("Wall time", "n/a" if meta.seconds is None else f"{meta.seconds:.0f} s"),
                   ("Seed", str(meta.seed)), ("Command", f"`{meta.command or 'n/a'}`")]


def model_card(folder: str | Path, evaluation: dict[str, Any] | None = None,
               note: str | None = None) -> str:
    """The model card of an adapter folder (see the module docstring for its sources).

    Args:
        folder: An adapter folder written by ``echogpt train`` (either method).
        evaluation: Metrics of the adapter on a held-out set (name -> value), if evaluated.
        note: What the evaluation section says instead when there are no metrics yet (e.g. the
            version gate's "evaluation pending (batch job 7 ...)").

    Returns:
        Markdown text.
    """
    folder = Path(folder)
    meta = read_meta(folder)
    if meta is None:
        raise ValueError(f"{folder} has no readable {META_FILE}: not a folder written by echogpt train")
    table = "\n".join(f"| {k} | {v} |" for k, v in _card_rows(folder, meta))
    if evaluation:
        scores = "\n".join(f"| {k} | {_fmt(v)} |" for k, v in evaluation.items())
        evaluated = f"| Metric | Value |\n|---|---|\n{scores}"
    elif note:
        evaluated = note[:1].upper() + note[1:] + "."
    else:
        evaluated = "Not evaluated yet: no held-out metrics are recorded with this folder."
    source = ("findings prose" if meta.prompt_settings.layout == "prose"
              else "measurements, structured findings and findings prose")
    return f"""# EchoGPT LoRA adapter ({meta.method.upper()}, `{folder.name}`)

Drafts the impression section of transthoracic echocardiography reports from the study's
{source}. {DISCLAIMER}

| | |
|---|---|
{table}

## Evaluation

{evaluated}

## Use

```
echogpt generate --studies test.jsonl --out predictions.jsonl --mode fine-tuned --adapter <this folder>
```

A standard PEFT folder (`PeftModel.from_pretrained(base, folder)`); `adapter_config.json` names
the base by its stable identity, and `echogpt_adapter.json` holds the prompt settings, the resolved
config and the data hashes (`echogpt.files.data_hash`, the same hash `echogpt evaluate` records for
its studies). Trained only on the data named above; expect errors on studies unlike it.
"""


def write_model_card(folder: str | Path, evaluation: dict[str, Any] | None = None,
                     note: str | None = None) -> Path:
    """Write ``README.md`` into the adapter folder (replacing a generic one); returns its path.
    The version gate rewrites it when it starts ("evaluation pending") and when its evaluation
    ends (the held-out figures with their confidence intervals)."""
    path = Path(folder) / "README.md"
    path.write_text(model_card(folder, evaluation, note), encoding="utf-8")
    return path
