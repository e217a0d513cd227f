"""The version gate's evaluation run: a registered version drafts the held-out set as a batch job,
the worker scores the drafts through the evaluation suite when the job ends, the figures (with
bootstrap CIs) are stored with the version and written into its model card; failures are stored
as failed. One run drafts with the tiny test model and a real LoRA on it."""

from __future__ import annotations

import _db
import pytest
from _app_fixtures import build_talking_model
from _tiny import study_rows, write_studies

from echogpt.batch import gate as batch_gate
from echogpt.batch import worker as batch_worker
from echogpt.review import gate
from echogpt.review.store import Store

db_url, people, pg_url = _db.db_url, _db.people, _db.pg_url  # fixtures


def _adapter_folder(folder):
    """An adapter folder as far as its metadata goes (what the model card reads)."""
    from echogpt.model.adapters import ADAPTER_META, AdapterMeta
    from echogpt.model.prompts import PromptSettings

    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text('{"base_model_name_or_path": "local:x", "r": 4}')
    meta = AdapterMeta(base_model="local:x", prompt_settings=PromptSettings(layout="prose"))
    (folder / ADAPTER_META).write_text(meta.model_dump_json())
    return folder


def _echo_drafter(stopped: dict[str, bool] | None = None):
    """A drafter that writes each study's reference impression (and says whether it stopped)."""
    def drafter(_job):
        return lambda sts: [(s.impression or "", "fake@1", "h", 0.1, (stopped or {}).get(s.study_id, True))
                            for s in sts]
    return drafter


def test_a_version_gate_job_is_scored_and_stored_with_cis(people, tmp_path, monkeypatch):
    p = people
    folder = _adapter_folder(tmp_path / "runs" / "dpo-1")
    version = p.db.register_adapter(p.admin, folder, "dpo", name=f"dpo-{p.tag}").name
    monkeypatch.setenv("ECHOGPT_GATE_STUDIES", str(write_studies(tmp_path / "lab.jsonl", 5, "lab")))
    monkeypatch.setenv("ECHOGPT_GATE_N", "3")
    job_id = batch_gate.queue_evaluation(p.db, p.admin, version)
    pending = gate.evaluation_of(p.db, p.admin, version)
    assert (pending.status, pending.job_id, pending.n) == ("pending", job_id, 3)
    assert pending.eval_set == str(tmp_path / "lab.jsonl")
    assert f"Evaluation pending (batch job {job_id}, 3 studies" in (folder / "README.md").read_text()

    monkeypatch.setattr(batch_worker, "_drafter", _echo_drafter({"lab001": False}))
    assert batch_worker.run_worker(job_id, p.db.url).status == "done"
    done = gate.evaluation_of(p.db, p.admin, version)
    assert done.status == "done" and done.error is None
    assert set(done.metrics) == set(gate.MEASURES)
    for cell in done.metrics.values():
        assert cell["n"] == 3 and cell["ci_low"] <= cell["mean"] <= cell["ci_high"]
    assert done.metrics["fact_f1"]["mean"] == pytest.approx(1.0)  # the reference itself
    assert done.metrics["rougeL"]["mean"] == pytest.approx(1.0)
    assert done.metrics["stopped"]["mean"] == pytest.approx(2 / 3)  # lab001 ran to the token limit
    card = (folder / "README.md").read_text()
    assert "| Clinical-fact F1 | 1.000 (95% CI 1.000-1.000, n=3) |" in card, card
    assert "| Stopped on end-of-turn (share) | 0.667 (95% CI " in card
    assert f"| Held-out set (version gate) | {tmp_path / 'lab.jsonl'}, n=3 |" in card
    assert "pending" not in card


def test_a_failed_gate_job_marks_the_evaluation_failed(people, tmp_path, monkeypatch):
    p = people
    version = p.db.register_adapter(p.admin, _adapter_folder(tmp_path / "a"), "sft", name=f"a-{p.tag}").name
    monkeypatch.setenv("ECHOGPT_GATE_STUDIES", str(write_studies(tmp_path / "lab.jsonl", 2, "lab")))

    def broken(_job):
        raise OSError("adapter weights missing")

    monkeypatch.setattr(batch_worker, "_drafter", broken)
    job_id = batch_gate.queue_evaluation(p.db, p.admin, version)
    assert batch_worker.run_worker(job_id, p.db.url).status == "failed"
    failed = gate.evaluation_of(p.db, p.admin, version)
    assert failed.status == "failed" and "adapter weights missing" in failed.error
    assert "Evaluation failed: OSError: adapter weights missing" in (tmp_path / "a" / "README.md").read_text()


def test_the_default_held_out_set_is_the_synthetic_test_split(monkeypatch):
    from echogpt.synth.corpus import generate_corpus, split_by_patient

    monkeypatch.setenv("ECHOGPT_GATE_N", "4")
    studies, name = batch_gate.held_out_studies()
    assert name == batch_gate.SYNTHETIC and len(studies) == 4
    train = {s.patient_id for s in split_by_patient(generate_corpus(2000, 0), 0)["train"]}
    assert all(s.impression for s in studies) and not {s.patient_id for s in studies} & train


def test_a_lab_file_without_reference_impressions_is_refused(tmp_path):
    import json

    path = tmp_path / "no-refs.jsonl"
    path.write_text(json.dumps({**study_rows(1)[0], "impression": None}) + "\n")
    with pytest.raises(ValueError, match="no valid study with a reference impression"):
        batch_gate.held_out_studies(path, 2)


@pytest.mark.timeout(300)
def test_the_tiny_model_drafts_a_gate_run_end_to_end(tmp_path, tmp_path_factory, monkeypatch):
    """A real LoRA on the tiny talking model evaluates 2 studies in process: every figure stored."""
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    from echogpt.model.adapters import ADAPTER_META, AdapterMeta
    from echogpt.model.base import get_peft_config, resolve_base_model

    base = build_talking_model(tmp_path_factory.mktemp("models") / "tiny-talking", 0.5)
    ref = resolve_base_model(str(base))
    out = tmp_path / "runs" / "sft-1"
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32),
                           get_peft_config(r=4, alpha=8, dropout=0.0))
    model.save_pretrained(out)
    (out / ADAPTER_META).write_text(AdapterMeta(base_model=ref.identity, base_weights_hash=ref.weights_hash,
                                                base_model_hint=ref.path, method="sft").model_dump_json())
    monkeypatch.setenv("ECHOGPT_GATE_STUDIES", str(write_studies(tmp_path / "lab.jsonl", 2, "lab")))
    db = Store(f"sqlite:///{tmp_path / 'gate.sqlite'}")
    try:
        admin = db.cli_user()
        db.register_adapter(admin, out, "sft", name="sft-1")
        job_id = batch_gate.queue_evaluation(db, admin, "sft-1")
        assert batch_worker.run_worker(job_id, db.url).status == "done"
        done = gate.evaluation_of(db, admin, "sft-1")
    finally:
        db.dispose()
    assert done.status == "done", done.error
    assert {k: v["n"] for k, v in done.metrics.items()} == dict.fromkeys(gate.MEASURES, 2)
    assert 0.0 <= done.metrics["stopped"]["mean"] <= 1.0  # an untrained LoRA: any value


def test_a_finished_gate_job_left_unscored_is_scored_by_a_rerun_once(people, tmp_path, monkeypatch):
    """A worker killed between finishing the job and storing the figures: rerunning the worker
    scores it; a further rerun changes nothing."""
    p = people
    version = p.db.register_adapter(p.admin, _adapter_folder(tmp_path / "b"), "sft", name=f"b-{p.tag}").name
    monkeypatch.setenv("ECHOGPT_GATE_STUDIES", str(write_studies(tmp_path / "lab.jsonl", 2, "lab")))
    monkeypatch.setattr(batch_worker, "_drafter", _echo_drafter())
    job_id = batch_gate.queue_evaluation(p.db, p.admin, version)
    real = batch_gate.finish_evaluation
    monkeypatch.setattr(batch_gate, "finish_evaluation", lambda *a, **k: None)  # "killed" there
    batch_worker.run_worker(job_id, p.db.url)
    assert gate.evaluation_of(p.db, p.admin, version).status == "pending"
    monkeypatch.setattr(batch_gate, "finish_evaluation", real)
    assert batch_worker.run_worker(job_id, p.db.url).status == "done"
    done = gate.evaluation_of(p.db, p.admin, version)
    assert done.status == "done" and done.metrics["fact_f1"]["n"] == 2
    batch_worker.run_worker(job_id, p.db.url)
    assert gate.evaluation_of(p.db, p.admin, version).revision == done.revision
