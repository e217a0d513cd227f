"""A preference round from the checker on this machine (never in CI): checker-ranked pairs from an
adapter's drafts of synthetic training studies, a short DPO round continuing that adapter, and the
clinical measures of its greedy drafts on held-out synthetic test studies before and after.

    python benchmarks/preference_round.py --work /tmp/pairs-run --train 200 --test 40 --samples 2

Each step is skipped when its output exists (pairs and drafts also resume mid-file), so a killed
run continues; ``--max-pairs-minutes`` stops drafting pairs after that long and trains on the pairs
written so far. Measures (per study, then averaged, as ``echogpt evaluate`` reports them):
contradicted and unsupported statement rates, critical omissions and fact-F1 against the
reference, for the adapter before and after and for the template baseline.

Measured 2026-12-04 on a shared 2-core CPU (llama.cpp engine, shipped adapter, no guard installed):
98 of 200 training studies drafted before the time ran out (greedy + 2 samples, 11-15 s a study),
66 pairs (chosen: 28 unflagged, 38 with fewer flags than the rejected draft; rejected: the greedy
draft in 49), 32 skipped (21 no draft beats the rejected one, 11 nothing flagged). A full DPO epoch
did not fit (about 5 min per step of 4 pairs on this machine); a 3-step smoke round
(``--max-steps 3 --grad-accum 2 --lr 2e-4``, 6 pairs) changed nothing measurable on 40 test studies:
contradicted 0.214 -> 0.206, unsupported 0.044 -> 0.058, critical omissions 0.075 -> 0.100,
fact-F1 0.558 -> 0.560 (template: 0.000, 0.005, 0.025, 0.679).

Measured 2026-12-05 on the retrained shipped adapter (``--train 200 --test 40 --samples 2
--max-steps 30 --grad-accum 4 --lr 2e-4``, 2-core Zen 4): 125 pairs from 200 studies in 12 minutes (75
skipped: nothing flagged), 30 DPO steps. Unguarded greedy drafts of the 40 test studies, before ->
after: contradicted 0.132 -> 0.075, unsupported 0.011 -> 0.025, critical omissions 0.025 -> 0.175,
fact-F1 0.726 -> 0.380. The round taught the model to say less ("1. Normal left ventricular size and
systolic function." for most studies): fewer flags bought with omissions. Not shipped; a smaller lr,
fewer steps or an SFT term on the chosen drafts are the next tries.

Measured 2026-12-05 on a 2-core AVX2 EPYC, the round with a fourth of that lr and an SFT term on the
chosen drafts (``--train 200 --test 40 --samples 2 --max-steps 30 --grad-accum 4 --lr 5e-5
--sft-weight 1.0 --max-pairs-minutes 22``): 83 pairs from the first 133 studies in 22 minutes (50
skipped: nothing flagged; every chosen draft unflagged, the rejected one the greedy draft in 51),
30 DPO steps (1.4 epochs) in about 35 minutes. The 40 test studies, before -> after:

| drafts | contradicted | unsupported | hallucinated | critical omitted | fact-F1 |
|---|---|---|---|---|---|
| unguarded | 0.123 -> 0.075 | 0.011 -> 0.000 | 0.134 -> 0.075 | 0.025 -> 0.025 | 0.736 -> 0.720 |
| guarded | 0.000 -> 0.000 | 0.000 -> 0.000 | 0.000 -> 0.000 | 0.000 -> 0.000 | 0.790 -> 0.763 |
| template | 0.000 | 0.005 | 0.005 | 0.025 | 0.681 |

No collapse this time: the unguarded drafts lose half their flagged statements with the same critical
omissions and a fact-F1 1.6 points lower; the guarded drafts lose 2.7 points of fact-F1.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "echogpt" / "adapters" / "smollm2-echo-demo"
MEASURES = ("contradicted_rate", "unsupported_rate", "hallucination_rate", "critical_omission", "fact_f1")


def _studies(work: Path, n_train: int, n_test: int, seed: int) -> tuple[Path, Path]:
    from echogpt.synth.corpus import write_corpus

    corpus = work / "synth"
    if not (corpus / "train.jsonl").is_file():
        write_corpus(corpus, 2000, seed)  # the shipped adapter's corpus size and seed
    train, test = work / f"train{n_train}.jsonl", work / f"test{n_test}.jsonl"
    for src, dst, n in ((corpus / "train.jsonl", train, n_train), (corpus / "test.jsonl", test, n_test)):
        if not dst.is_file():
            dst.write_text("".join(src.read_text().splitlines(keepends=True)[:n]))
    return train, test


def _pairs(train: Path, adapter: Path, out: Path, samples: int, minutes: float | None) -> None:
    from echogpt.evaluation.pair_round import PairsConfig, write_pairs
    from echogpt.model.train import read_studies

    config = PairsConfig(adapter=str(adapter), samples=samples, batch_size=1)
    studies = read_studies(train)
    started = time.time()
    # One study at a time through the resumable writer, so a time budget can stop between studies.
    for i in range(len(studies)):
        if minutes is not None and time.time() - started > minutes * 60:
            print(f"pairs: stopped after {minutes} minutes at study {i}")
            break
        one = out.with_name("one-study.jsonl")
        one.write_text(studies[i].model_dump_json() + "\n")
        write_pairs(one, out, config, progress=False)


def _dpo(pairs: Path, adapter: Path, out: Path, args: argparse.Namespace) -> None:
    from echogpt.model.dpo import train_dpo
    from echogpt.model.recipes import load_train_config

    if (out / "adapter_model.safetensors").is_file():
        return
    config = load_train_config("cpu-smollm2", method="dpo", train_file=str(pairs), init_adapter=str(adapter),
                               val_file=None, epochs=args.epochs, max_steps=args.max_steps, batch_size=1,
                               grad_accum=args.grad_accum, learning_rate=args.lr, warmup_ratio=0.1,
                               dpo_beta=args.beta, dpo_sft_weight=args.sft_weight, logging_steps=1,
                               early_stopping_patience=0)
    print(train_dpo(config, out).summary())


def _drafts(test: Path, adapter: Path, out: Path, guard: bool) -> None:
    from echogpt.model.generate import generate_file

    summary = generate_file(test, out, mode="fine-tuned", adapter=str(adapter), batch_size=1, guard=guard)
    print(summary.line(out))


def _measure(test: Path, predictions: Path) -> dict[str, float]:
    from echogpt.evaluation.clinical import fact_f1, hallucination
    from echogpt.evaluation.suite import load_predictions
    from echogpt.model.train import read_studies

    studies = read_studies(test)
    preds = load_predictions(predictions)
    texts = [preds[s.study_id].impression for s in studies]
    refs = [s.impression or "" for s in studies]
    agg = {**hallucination(refs, texts, studies)["aggregate"], **fact_f1(refs, texts)["aggregate"]}
    return {k: round(float(agg[k]), 4) for k in MEASURES}


def _pair_stats(pairs: Path) -> dict[str, float]:
    recs = [json.loads(line) for line in pairs.read_text().splitlines() if line.strip()]
    skipped = pairs.with_name(pairs.stem + ".skipped.jsonl")
    reasons: dict[str, int] = {}
    for line in skipped.read_text().splitlines() if skipped.is_file() else []:
        reason = json.loads(line)["reason"]
        reasons[reason] = reasons.get(reason, 0) + 1
    return {"pairs": len(recs), "skipped": reasons,
            "chosen_flagged": sum(r["checker"]["chosen"]["flags"] > 0 for r in recs),
            "rejected_greedy": sum(r["checker"]["rejected"]["origin"] == "greedy" for r in recs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="Folder for every output")
    parser.add_argument("--adapter", type=Path, default=DEMO, help="Adapter to start from")
    parser.add_argument("--train", type=int, default=200, help="Training studies drafted for pairs")
    parser.add_argument("--test", type=int, default=40, help="Held-out test studies measured")
    parser.add_argument("--samples", type=int, default=2, help="Sampled drafts per study")
    parser.add_argument("--seed", type=int, default=0, help="Synthetic corpus seed")
    parser.add_argument("--max-pairs-minutes", type=float, default=None)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-steps", type=int, default=-1, help="DPO optimizer steps (-1: --epochs)")
    parser.add_argument("--grad-accum", type=int, default=4, help="Pairs per DPO optimizer step")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--beta", type=float, default=0.1)
    parser.add_argument("--sft-weight", type=float, default=0.0,
                        help="SFT term on the chosen drafts (0: none)")
    parser.add_argument("--dpo-out", default=None, help="Name of the DPO folder under --work")
    args = parser.parse_args()

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    train, test = _studies(work, args.train, args.test, args.seed)
    pairs = work / "pairs.jsonl"
    _pairs(train, args.adapter, pairs, args.samples, args.max_pairs_minutes)
    print("pairs:", _pair_stats(pairs))
    dpo = work / (args.dpo_out or ("dpo" if args.max_steps < 0 else f"dpo-{args.max_steps}steps"))
    _dpo(pairs, args.adapter, dpo, args)
    systems = []
    for guard in (False, True):  # the round is judged unguarded; the guarded rows are what users get
        suffix = "-guarded" if guard else ""
        _drafts(test, args.adapter, work / f"before{suffix}.jsonl", guard)
        _drafts(test, dpo, work / f"after-{dpo.name}{suffix}.jsonl", guard)
        systems += [f"before{suffix}", f"after-{dpo.name}{suffix}"]
    from echogpt.model.generate import generate_file

    generate_file(test, work / "template.jsonl", mode="template")
    table = {name: _measure(test, work / f"{name}.jsonl") for name in (*systems, "template")}
    (work / "results.json").write_text(json.dumps(table, indent=2))
    print("| system | " + " | ".join(MEASURES) + " |")
    print("|---|" + "---|" * len(MEASURES))
    for name, row in table.items():
        print(f"| {name} | " + " | ".join(f"{row[k]:.4f}" for k in MEASURES) + " |")


if __name__ == "__main__":
    main()
