"""The version gate's evaluation run: a newly registered adapter version drafts the held-out set as
an ordinary batch job in the background worker, and when the job ends its drafts are scored by the
evaluation suite (means with bootstrap CIs) and stored with the version (``review.gate``); the
adapter folder's model card is rewritten with them.

The held-out set is the lab's own file when ``ECHOGPT_GATE_STUDIES`` names one (``Settings``),
otherwise the test split of the README's synthetic corpus (``echogpt synth --n 2000 --seed 0``);
its first ``ECHOGPT_GATE_N`` studies (default 40) are drafted, so a CPU finishes in minutes.

    worker.start_gate(db, admin, "dpo-2")    # queues the job and starts its worker; returns at once
    queue_evaluation(db, admin, "dpo-2"); worker.run_worker(job_id)   # the same in this process
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from echogpt.batch import jobs, lease
from echogpt.review import gate
from echogpt.review.accounts import User
from echogpt.review.database import Database
from echogpt.schemas import Prediction, Study

log = logging.getLogger(__name__)  # job ids and version names only

SYNTHETIC = "synthetic test split (echogpt synth --n 2000 --seed 0)"
GATE_METRICS = ("rouge", "fact_f1", "hallucination", "stop_rate")
"""Registered metrics (``evaluation.metrics.METRICS``) whose columns make ``gate.MEASURES``."""


def held_out_studies(path: str | Path | None = None, n: int | None = None) -> tuple[list[Study], str]:
    """The first ``n`` studies of the held-out set and how to name it.

    Args:
        path: A study file with reference impressions (default: ``Settings().gate_studies``, or
            the synthetic test split when that is unset).
        n: How many (default ``Settings().gate_n``).

    Raises:
        ValueError: the file is unreadable, or holds no study with a reference impression.
    """
    from echogpt.config import Settings

    settings = Settings()
    path = path if path is not None else settings.gate_studies
    n = n or settings.gate_n
    if path is None:
        from echogpt.synth.corpus import generate_corpus, split_by_patient

        return split_by_patient(generate_corpus(2000, 0), 0)["test"][:n], SYNTHETIC
    from echogpt.data.load import load_studies
    from echogpt.files import FileError

    try:
        studies = [s for s in load_studies(path).studies if (s.impression or "").strip()]
    except FileError as exc:
        raise ValueError(f"held-out set {path}: {exc}") from None
    if not studies:
        raise ValueError(f"held-out set {path}: no valid study with a reference impression")
    return studies[:n], str(path)


def queue_evaluation(db: Database, user: User, name: str, path: str | Path | None = None,
                     n: int | None = None) -> int:
    """Queue version ``name``'s evaluation as a batch job (``worker.start_gate`` also starts its
    worker in the background).

    Args:
        db: The store.
        user: An admin (the command line acts as one).
        name: The adapter version.
        path: The held-out file (see :func:`held_out_studies`).
        n: Studies to draft.

    Returns:
        The batch job's id.
    """
    from echogpt.review.store import Store

    store = db if isinstance(db, Store) else Store(db.url, migrate=False)
    version = next(v for v in store.list_adapters(user) if v.name == name)
    studies, eval_set = held_out_studies(path, n)
    job = jobs.create_job(db, user, studies, "fine-tuned", None, version.path,
                          name=f"version gate: {name}")
    gate.record_evaluation(db, user, name, job.id, eval_set, len(studies))
    _write_card(version.path, None, f"evaluation pending (batch job {job.id}, {len(studies)} "
                                    f"studies of the {eval_set})")
    return job.id


def _predictions(db: Database, job_id: int) -> tuple[list[Study], list[Prediction]]:
    from sqlalchemy import select

    from echogpt.batch.tables import BatchItemRow

    with db.transaction() as s:
        job = lease.job_row(s, job_id)
        rows = list(s.scalars(select(BatchItemRow).where(
            BatchItemRow.job_id == job_id, BatchItemRow.status == "done").order_by(BatchItemRow.position)))
        studies = [Study.model_validate_json(r.study_json) for r in rows]
        preds = [Prediction(study_id=r.study_id, mode="fine-tuned", impression=r.impression or "",
                            base_model=r.model, adapter=job.adapter, prompt_hash=r.prompt_hash,
                            seconds=r.seconds or 0.0, stopped=r.stopped if r.stopped is not None else True)
                 for r in rows]
    return studies, preds


def score(studies: list[Study], predictions: list[Prediction], n_boot: int = 1000) -> dict[str, Any]:
    """The gate's figures through the evaluation suite: {measure: {mean, ci_low, ci_high, n}}."""
    from echogpt.evaluation.suite import clean_json, score_systems, summarise

    by_id = {"version": {p.study_id: p for p in predictions}}
    rows, skipped = score_systems(studies, by_id, GATE_METRICS)
    if skipped:
        raise RuntimeError("not computed: " + "; ".join(f"{k} ({v})" for k, v in skipped.items()))
    summary = summarise(rows, ["version"], n_boot=n_boot)["summary"]["version"]
    return clean_json({k: summary[k] for k in gate.MEASURES if k in summary})


def finish_evaluation(db: Database, job_id: int, job_status: str, job_error: str | None = None) -> None:
    """Score an ended job's drafts and store them with the version it evaluates (no-op for a job
    that evaluates none, or whose evaluation is already stored); a failed job or scoring error
    marks the evaluation failed."""
    if not gate.awaits_scores(db, job_id):
        return
    metrics, error = None, job_error
    if job_status == "done":
        try:
            studies, preds = _predictions(db, job_id)
            if not preds:
                raise RuntimeError("no study was drafted")
            metrics = score(studies, preds)
        except Exception as exc:  # noqa: BLE001 - recorded with the version, shown on the page
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
    elif error is None:
        error = f"the batch job ended {job_status}"
    done = gate.finish_evaluation(db, job_id, metrics if error is None else None, error)
    if done is None:
        return
    name, evaluation = done
    log.info("version gate: %s evaluated (%s)", name, evaluation.status)
    with db.transaction() as s:
        adapter = lease.job_row(s, job_id).adapter
    if adapter:
        _write_card(adapter, evaluation if evaluation.status == "done" else None,
                    f"evaluation failed: {evaluation.error}" if evaluation.status == "failed" else None)


def _write_card(folder: str, evaluation: gate.Evaluation | None, note: str | None) -> None:
    """Rewrite the adapter's model card with its gate figures (or a note); a folder that is not
    an ``echogpt train`` adapter keeps its card."""
    from echogpt.evaluation.metrics import COLUMNS
    from echogpt.model.cards import write_model_card

    figures = None
    if evaluation is not None:
        figures = {"Held-out set (version gate)": f"{evaluation.eval_set}, n={evaluation.n}"}
        for key in gate.MEASURES:
            cell = evaluation.metrics.get(key)
            if cell and cell.get("mean") is not None:
                figures[COLUMNS[key].label] = (f"{cell['mean']:.3f} (95% CI {cell['ci_low']:.3f}-"
                                    f"{cell['ci_high']:.3f}, n={cell['n']})")
    try:
        write_model_card(folder, figures, note=note)
    except (ValueError, OSError) as exc:
        log.info("model card of %s not rewritten: %s", Path(folder).name, exc)
