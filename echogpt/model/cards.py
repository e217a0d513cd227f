"""Model cards (``README.md``) of adapter folders, written from what the folder itself records:
``adapter_config.json`` for the LoRA as saved (a continued adapter keeps its parent's shape, not
the recipe's), ``echogpt_adapter.json`` for base, method, prompt and data, ``losses.csv`` for the
losses, and the parent folder for what was inherited; an evaluation is added when there is one.

    write_model_card("runs/dpo-1", evaluation={"fact_f1": 0.81, "n": 200})
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from echogpt.model.adapters import AdapterMeta, read_adapter_meta
from echogpt.model.base import ModelError

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
    """Where a training file came from: ``checker`` (checker-ranked pairs, records say so),
    ``review`` (``echogpt export-feedback``: its manifest lies beside it) or ``file``."""
    if not path:
        return "n/a"
    p = Path(path)
    try:
        with open(p, encoding="utf-8") as f:
            first = json.loads(next((line for line in f if line.strip()), "{}"))
    except (OSError, ValueError):
        first = {}
    if isinstance(first, dict) and first.get("source"):
        return str(first["source"])
    manifest = p.with_name("manifest.json")
    try:
        if "prompt_fingerprint" in json.loads(manifest.read_text(encoding="utf-8")):
            return "review"
    except (OSError, ValueError):
        pass
    return "file"


def _losses(folder: Path) -> dict[str, float]:
    """First and last training loss, last validation loss and DPO reward accuracy, if recorded."""
    path = folder / "losses.csv"
    if not path.is_file():
        return {}
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    out: dict[str, float] = {}
    for name, column in (("train loss", "train_loss"), ("train loss", "loss"),
                         ("val loss", "val_loss"), ("reward accuracy", "rewards/accuracies")):
        values = [float(r[column]) for r in rows if r.get(column) not in (None, "")]
        if values and name not in out:
            if name == "train loss":
                out["first train loss"] = values[0]
            out[name] = values[-1]
    return out


def _fmt(x: Any) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def _parent(meta: AdapterMeta) -> tuple[str | None, AdapterMeta | None]:
    path = meta.data.get("parent_adapter") or meta.config.get("init_adapter")
    if not path or path == "active":
        return None, None
    try:
        return str(path), read_adapter_meta(path)
    except ModelError:
        return str(path), None


def model_card(folder: str | Path, evaluation: dict[str, Any] | None = None) -> str:
    """The model card of an adapter folder (see the module docstring for its sources).

    Args:
        folder: An adapter folder written by ``echogpt train`` (either method).
        evaluation: Metrics of the adapter on a held-out set (name -> value), if evaluated.

    Returns:
        Markdown text.
    """
    folder = Path(folder)
    meta = read_adapter_meta(folder)
    config = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    parent_path, parent = _parent(meta)
    prompt = meta.prompt_settings
    data = meta.data
    train_file = data.get("train_file") or data.get("pairs_file")
    train_hash = data.get("train_hash") or data.get("pairs_hash")
    size = (f"{data['pairs']} preference pairs" if "pairs" in data
            else f"{data.get('train_examples', 'n/a')} examples")
    rows = [("Base model", f"`{meta.base_model}` (weights `{meta.base_weights_hash}`)"),
            ("Method", meta.method.upper()),
            ("LoRA (as saved)", _lora(config))]
    if parent_path:
        inherited = "LoRA shape, weights and prompt settings" + (
            f" of a {parent.method.upper()} adapter" if parent else " (parent folder not found)")
        rows.append(("Continues", f"`{parent_path}`: {inherited}"))
    else:
        rows.append(("Continues", "nothing: a new LoRA on the base model"))
    rows += [("Prompt", f"`{prompt.name}` v{prompt.version}, layout {prompt.layout} "
                        f"(`{prompt.fingerprint()}`)"),
             ("Training data", f"`{train_file}` (sha256 `{train_hash}`), {size}, "
                               f"source: {data_source(train_file)}")]
    if data.get("val_file"):
        rows.append(("Validation data", f"`{data['val_file']}` (sha256 `{data.get('val_hash')}`), "
                                        f"{data.get('val_examples', 'n/a')} examples"))
    rows.append(("Optimizer steps", str(meta.steps if meta.steps is not None else "n/a")))
    losses = _losses(folder)
    if meta.best_val_loss is not None:
        losses.setdefault("best val loss", meta.best_val_loss)
    rows += [(name.capitalize(), _fmt(v)) for name, v in losses.items()]
    rows += [("Seed", str(meta.seed)), ("Command", f"`{meta.command or 'n/a'}`")]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    if evaluation:
        scores = "\n".join(f"| {k} | {_fmt(v)} |" for k, v in evaluation.items())
        evaluated = f"| Metric | Value |\n|---|---|\n{scores}"
    else:
        evaluated = "Not evaluated yet: no held-out metrics are recorded with this folder."
    return f"""# EchoGPT LoRA adapter ({meta.method.upper()}, `{folder.name}`)

Drafts the impression section of transthoracic echocardiography reports. {DISCLAIMER}

| | |
|---|---|
{table}

## Evaluation

{evaluated}

## Use

```
echogpt generate --studies test.jsonl --out predictions.jsonl --mode fine-tuned --adapter {folder.name}
```

A standard PEFT folder (`PeftModel.from_pretrained(base, folder)`); `echogpt_adapter.json` holds
the prompt settings, the resolved config and the data hashes. Trained only on the data named
above; expect errors on studies unlike it.
"""


def write_model_card(folder: str | Path, evaluation: dict[str, Any] | None = None) -> Path:
    """Write ``README.md`` into the adapter folder (replacing a generic one); returns its path."""
    path = Path(folder) / "README.md"
    path.write_text(model_card(folder, evaluation), encoding="utf-8")
    return path
