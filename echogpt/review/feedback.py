"""The feedback loop's export: approved finals become SFT data and edited drafts preference pairs
(chosen = approved text, rejected = model draft), holding back records whose free text contains
likely identifiers until an admin clears them.

    db = Store(); report = export_feedback(db, db.cli_user(), Path("feedback/"))

The records are rendered with the prompt settings of the adapter that will train on them (the
active adapter version unless another adapter folder is named), so a DPO round accepts them.

Files written: ``studies.jsonl`` (studies with the approved impression, for ``echogpt train
--set train_file=...``), ``sft.jsonl`` (prompt/completion records as ``train.sft_records`` makes),
``preferences.jsonl`` (TRL conversational prompt/chosen/rejected, with ``source: review`` and
the ``prompt_fingerprint`` they were rendered with, as ``echogpt preference-pairs`` writes them),
``held_back.jsonl`` (which records were held back and why, without their text) and
``manifest.json``.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from echogpt.model.prompts import DEFAULT_PROMPT, PromptSettings, build_messages
from echogpt.review.accounts import User
from echogpt.review.database import FeedbackItem, NotFound
from echogpt.review.store import Store
from echogpt.schemas import Study


class IdentifierPattern(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    pattern: str
    ignore_case: bool = False
    description: str


class IdentifierPatterns(BaseModel):
    model_config = ConfigDict(extra="forbid")
    about: str = Field(alias="_about")
    patterns: list[IdentifierPattern]


@cache
def _compiled() -> list[tuple[str, re.Pattern[str]]]:
    text = resources.files("echogpt.resources").joinpath("identifier_patterns.json").read_text("utf-8")
    spec = IdentifierPatterns.model_validate(json.loads(text))
    return [(p.kind, re.compile(p.pattern, re.IGNORECASE if p.ignore_case else 0))
            for p in spec.patterns]


def find_identifiers(text: str) -> list[str]:
    """Kinds of likely identifiers in ``text`` (``mrn``, ``date``, ``phone``, ``email``, ``name``).

    Example: "Discussed with Dr. Smith on 03/14/2024" -> ["date", "name"].
    """
    return sorted({kind for kind, rx in _compiled() if rx.search(text or "")})


class HeldBack(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report_id: int
    record: str = Field(description="The pseudonymous record id used in the export")
    fields: dict[str, list[str]] = Field(description="Free-text field -> identifier kinds found")


class ExportReport(BaseModel):
    """What ``export_feedback`` wrote and what it held back."""

    model_config = ConfigDict(extra="forbid")
    out_dir: str
    sft_records: int
    preference_pairs: int
    held_back: list[HeldBack]
    cleared_by_admin: int = Field(description="Records with identifier hits exported after clearance")
    prompt_fingerprint: str
    adapter: str | None = Field(None, description="The adapter folder whose prompt settings were used")

    def lines(self) -> list[str]:
        """A short summary for the terminal (ids and identifier kinds, never text)."""
        out = [f"{self.sft_records} SFT records and {self.preference_pairs} preference pairs "
               f"written to {self.out_dir}",
               f"prompt settings {self.prompt_fingerprint} "
               + (f"of the adapter {self.adapter}" if self.adapter else "(the default; no adapter active)")]
        if self.held_back:
            out.append(f"{len(self.held_back)} held back for likely identifiers (an admin can clear "
                       "them after review, on the Admin page):")
            out += [f"  report {h.report_id} ({h.record}): " + "; ".join(
                f"{f}: {', '.join(k)}" for f, k in h.fields.items()) for h in self.held_back]
        return out


def _pseudonym(value: str) -> str:
    return "fb-" + hashlib.sha256(value.encode()).hexdigest()[:12]


def _free_text(item: FeedbackItem) -> dict[str, str]:
    st = item.study
    fields = {"findings_text": st.findings_text, "indication": st.indication or "",
              "prior.impression": st.prior.impression if st.prior and st.prior.impression else "",
              "final_text": item.final_text}
    if item.edited:
        fields["model_draft"] = item.model_text
    return {k: v for k, v in fields.items() if v}


def identifier_fields(db: Store, user: User, report_id: int) -> dict[str, str]:
    """The free-text fields of one approved report that hold likely identifiers, with their text,
    for an admin to review before ``Store.clear_for_export`` (admins only).

    Args:
        db: The store.
        user: An admin.
        report_id: The held-back report (``HeldBack.report_id``).

    Returns:
        Field name -> text (empty when nothing looks like an identifier).
    """
    item = next((i for i in db.feedback_items(user) if i.report_id == report_id), None)
    if item is None:
        raise NotFound(f"no approved report {report_id}")
    return {k: v for k, v in _free_text(item).items() if find_identifiers(v)}


def _export_study(item: FeedbackItem) -> Study:
    """The study as exported: pseudonymous ids, no dates, the approved text as its impression."""
    st = item.study
    prior = st.prior.model_copy(update={"study_date": None}) if st.prior else None
    return st.model_copy(update={"study_id": _pseudonym(st.study_id),
                                 "patient_id": _pseudonym(st.patient_id or st.study_id),
                                 "study_date": None, "prior": prior,
                                 "impression": item.final_text.strip()})


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def training_prompt(db: Store, user: User,
                    adapter: str | Path | None = None) -> tuple[PromptSettings, str | None]:
    """The prompt settings that the records must be rendered with: those saved with ``adapter``,
    else with the active adapter version, else the default prompt (a new LoRA on the base model).

    Args:
        db: The store.
        user: An admin.
        adapter: The adapter folder that will train on the export, if not the active one.

    Returns:
        The prompt settings and the adapter folder they came from (None for the default).
        Raises ``ModelError`` (a ``ValueError``, one line) when the folder is not an adapter.
    """
    from echogpt.model.adapters import read_adapter_meta

    if adapter is None:
        active = db.active_adapter(user)
        if active is None:
            return DEFAULT_PROMPT, None
        adapter = active.path
    return read_adapter_meta(adapter).prompt_settings, str(adapter)


def export_feedback(db: Store, user: User, out_dir: str | Path, prompt: PromptSettings | None = None,
                    adapter: str | Path | None = None) -> ExportReport:
    """Export approved finals and edited drafts for further training (admins only).

    Args:
        db: The store.
        user: An admin.
        out_dir: Folder to write into (created).
        prompt: Prompt settings to render the records with; default those of the adapter that
            will train on them (``training_prompt``).
        adapter: That adapter's folder; default the active adapter version.

    Returns:
        Counts, the held-back records (ids and identifier kinds, never their text).
    """
    if prompt is None:
        prompt, adapter = training_prompt(db, user, adapter)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    studies, sft, pairs, held = [], [], [], []
    cleared = 0
    for item in db.feedback_items(user):
        hits = {k: kinds for k, v in _free_text(item).items() if (kinds := find_identifiers(v))}
        record = _pseudonym(item.study.study_id)
        if hits and not item.cleared:
            held.append(HeldBack(report_id=item.report_id, record=record, fields=hits))
            continue
        cleared += bool(hits)
        study = _export_study(item)
        messages = build_messages(study, prompt, answer=study.impression)
        studies.append(study.model_dump(mode="json", exclude_none=True))
        sft.append({"prompt": messages[:-1], "completion": messages[-1:]})
        if item.edited:
            pairs.append({"id": record, "prompt": messages[:-1], "chosen": messages[-1:],
                          "rejected": [{"role": "assistant", "content": item.model_text.strip()}],
                          "source": "review", "prompt_fingerprint": prompt.fingerprint()})
    _write(out / "studies.jsonl", studies)
    _write(out / "sft.jsonl", sft)
    _write(out / "preferences.jsonl", pairs)
    _write(out / "held_back.jsonl", [h.model_dump() for h in held])
    report = ExportReport(out_dir=str(out), sft_records=len(sft), preference_pairs=len(pairs),
                          held_back=held, cleared_by_admin=cleared,
                          prompt_fingerprint=prompt.fingerprint(),
                          adapter=str(adapter) if adapter is not None else None)
    (out / "manifest.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return report


def export_feedback_to(out_dir: str | Path, url: str | None = None,
                       adapter: str | Path | None = None) -> ExportReport:
    """``echogpt export-feedback``: export from the configured database as the command line's admin,
    with the prompt settings of ``adapter`` (default: the active adapter version).

    Raises ``ValueError`` with one line when the database cannot be opened.
    """
    from sqlalchemy.exc import SQLAlchemyError

    try:
        db = Store(url)
    except SQLAlchemyError as exc:
        raise ValueError(f"cannot open the database: {str(exc).splitlines()[0]}") from None
    try:
        return export_feedback(db, db.cli_user(), out_dir, adapter=adapter)
    finally:
        db.dispose()
