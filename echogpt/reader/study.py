"""Blinded reader studies: an admin creates a study from cases with two or more report sources;
each reader rates their own randomised tasks (A-vs-B preference per dimension and/or 1-5 Likert
per report); the admin exports the ratings with the unblinding key and analyses them.

Blinding is enforced here and in the queries: functions a reader may call never read the
``reader_source_key`` table, return reports only by random id with normalised text, and only
the reader's own answers. Format and coding: ``docs/reader_study.md``.

    task = next_task(db, reader, "pilot"); submit_answer(db, reader, "pilot", task.position, {...})
    # creation, export and the unblinding key: ``echogpt.reader.admin`` (admin only)
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from echogpt.reader.tables import (
    ReaderAnswerRow,
    ReaderAssignmentRow,
    ReaderCaseRow,
    ReaderReportRow,
    ReaderStudyRow,
    ReaderTaskRow,
)
from echogpt.review.accounts import User
from echogpt.review.database import Database, NotFound
from echogpt.review.permissions import PermissionDenied
from echogpt.text import number_statements, split_statements

DIMENSIONS = ["completeness", "conciseness", "correctness", "clinical_utility"]
PREFERENCE_SCALE = {-2: "A much better", -1: "A somewhat better", 0: "No preference",
                    1: "B somewhat better", 2: "B much better"}
"""EchoGPT's 5-level A-vs-B preference, coded toward report B (negative: A preferred)."""
LIKERT_SCALE = {1: "Very poor", 2: "Poor", 3: "Acceptable", 4: "Good", 5: "Excellent"}


class Case(BaseModel):
    """One line of the cases JSONL: what readers see and the reports to compare."""

    model_config = ConfigDict(extra="forbid")
    case_id: str = Field(min_length=1, max_length=128)
    findings_text: str = Field(min_length=1, description="The study findings shown to readers")
    reports: dict[str, str] = Field(description="source name -> report text (two or more)")
    metrics: dict[str, dict[str, float]] | None = Field(
        None, description="Optional per-source automatic metrics, source -> {name: value}")

    @model_validator(mode="after")
    def _two_sources(self) -> Case:
        if len(self.reports) < 2:
            raise ValueError("a case needs reports from two or more sources")
        if any(not t.strip() for t in self.reports.values()):
            raise ValueError("a report is empty")
        return self


class Design(BaseModel):
    """What readers do. Pair rule: ``all`` shows every pair of sources (B is the later source in
    ``sources`` order); ``vs_reference`` shows each other source against ``reference`` (B is the
    other source). Preference values are stored toward B *as shown* and recoded toward the design's
    B for analysis."""

    model_config = ConfigDict(extra="forbid")
    preference: bool = Field(True, description="A-vs-B 5-level preference per dimension")
    likert: bool = Field(False, description="Absolute 1-5 Likert per report and dimension")
    dimensions: list[str] = Field(default_factory=lambda: list(DIMENSIONS), min_length=1)
    pairs: Literal["all", "vs_reference"] = Field("all", description="Which pairs are shown")
    reference: str | None = Field(None, description="Reference source (metrics, vs_reference)")
    sources: list[str] = Field(default_factory=list, description="Source order; default sorted")

    @model_validator(mode="after")
    def _consistent(self) -> Design:
        if not (self.preference or self.likert):
            raise ValueError("choose preference, likert or both")
        if self.pairs == "vs_reference" and not self.reference:
            raise ValueError("pairs vs_reference needs a reference source")
        return self

    def source_pairs(self) -> list[tuple[str, str]]:
        """(design A, design B) source pairs shown for each case."""
        if self.pairs == "vs_reference":
            return [(self.reference, s) for s in self.sources if s != self.reference]
        return list(itertools.combinations(self.sources, 2))


class BlindReport(BaseModel):
    """A report as a reader sees it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str  # "A", "B" or "Report"
    report_id: str  # random public id
    text: str


class ReaderTask(BaseModel):
    """One screen of a reader's session."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    study: str
    position: int
    total: int
    kind: Literal["ab", "likert"]
    findings_text: str
    reports: list[BlindReport]
    dimensions: list[str]
    scale: dict[int, str]
    answers: dict[str, int] | None  # this reader's latest answer, when resuming
    comment: str | None


class ReaderProgress(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    study: str
    answered: int
    total: int


# ---------------------------------------------------------------- helpers


def _study_row(s: Session, name: str) -> ReaderStudyRow:
    row = s.scalars(select(ReaderStudyRow).where(ReaderStudyRow.name == name)).one_or_none()
    if row is None:
        raise NotFound(f"no reader study '{name}'")
    return row


def normalize_report(text: str) -> str:
    """The report as readers see it: one statement per line, numbered ``1.``, single spaces,
    each ending with a full stop, so numbering, bullets or spacing cannot reveal the source."""
    statements = []
    for st in split_statements(text):
        body = re.sub(r"\s+", " ", st.text).strip()
        body = body[0].upper() + body[1:] if body else body
        statements.append(body if body.endswith((".", "!", "?")) else body + ".")
    return number_statements(statements)


def parse_cases(text: str, source: str = "cases") -> list[Case]:
    """Validate cases JSONL text (``ValueError`` naming the line of the first bad one)."""
    cases = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cases.append(Case.model_validate_json(line))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err["loc"])
            raise ValueError(f"{source} line {n}: {where + ': ' if where else ''}"
                             f"{err['msg'].removeprefix('Value error, ')}") from None
    if not cases:
        raise ValueError(f"{source} holds no cases")
    return cases


def load_cases(path: str | Path) -> list[Case]:
    """Read and validate a cases JSONL file (see :func:`parse_cases`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    return parse_cases(text, str(path))


# ---------------------------------------------------------------- rating (readers)


def _assignment(s: Session, me: User, name: str) -> tuple[ReaderStudyRow, ReaderAssignmentRow]:
    study = _study_row(s, name)
    a = s.scalars(select(ReaderAssignmentRow).where(ReaderAssignmentRow.study_pk == study.id,
                                                    ReaderAssignmentRow.reader_id == me.id)).first()
    if a is None:
        raise PermissionDenied(f"{me.name} is not a reader of '{name}'")
    return study, a


def _answered(s: Session, a: ReaderAssignmentRow) -> set[int]:
    return set(s.scalars(select(ReaderTaskRow.position).join(
        ReaderAnswerRow, ReaderAnswerRow.task_pk == ReaderTaskRow.id).where(
        ReaderTaskRow.assignment_pk == a.id)))


def _task_count(s: Session, a: ReaderAssignmentRow) -> int:
    return s.scalar(select(func.count()).where(ReaderTaskRow.assignment_pk == a.id)) or 0


def my_studies(db: Database, user: User) -> list[ReaderProgress]:
    """The studies this reader is assigned to, with their own progress."""
    with db.transaction() as s:
        me = db.acting(s, user, "reader.rate")
        out = []
        for a in s.scalars(select(ReaderAssignmentRow).where(ReaderAssignmentRow.reader_id == me.id)
                           .order_by(ReaderAssignmentRow.id)):
            name = s.get(ReaderStudyRow, a.study_pk).name
            out.append(ReaderProgress(study=name, answered=len(_answered(s, a)),
                                      total=_task_count(s, a)))
        return out


def progress(db: Database, user: User, study: str) -> ReaderProgress:
    """This reader's answered and total tasks in one study."""
    with db.transaction() as s:
        me = db.acting(s, user, "reader.rate")
        _, a = _assignment(s, me, study)
        return ReaderProgress(study=study, answered=len(_answered(s, a)), total=_task_count(s, a))


def next_task(db: Database, user: User, study: str) -> ReaderTask | None:
    """The reader's first unanswered task (resume point), or None when all are answered."""
    with db.transaction() as s:
        me = db.acting(s, user, "reader.rate")
        _, a = _assignment(s, me, study)
        done = _answered(s, a)
        pos = next((p for p in range(1, _task_count(s, a) + 1) if p not in done), None)
    return None if pos is None else get_task(db, user, study, pos)


def get_task(db: Database, user: User, study: str, position: int) -> ReaderTask:
    """One of the reader's own tasks, with their latest answer to it (if any)."""
    with db.transaction() as s:
        me = db.acting(s, user, "reader.rate")
        row, a = _assignment(s, me, study)
        design = Design.model_validate_json(row.design_json)
        t = s.scalars(select(ReaderTaskRow).where(ReaderTaskRow.assignment_pk == a.id,
                                                  ReaderTaskRow.position == position)).first()
        if t is None:
            raise NotFound(f"no task {position} in '{study}' (1-{_task_count(s, a)})")
        case = s.get(ReaderCaseRow, t.case_pk)
        reps = [s.get(ReaderReportRow, t.report_a)] + ([s.get(ReaderReportRow, t.report_b)]
                                                       if t.report_b else [])
        labels = ["A", "B"] if t.kind == "ab" else ["Report"]
        last = s.scalars(select(ReaderAnswerRow).where(ReaderAnswerRow.task_pk == t.id,
                                                       ReaderAnswerRow.reader_id == me.id)
                         .order_by(ReaderAnswerRow.id.desc())).first()
        return ReaderTask(study=study, position=position, total=_task_count(s, a), kind=t.kind,
                          findings_text=case.context,
                          reports=[BlindReport(label=lab, report_id=r.public_id, text=r.text)
                                   for lab, r in zip(labels, reps, strict=True)],
                          dimensions=design.dimensions,
                          scale=PREFERENCE_SCALE if t.kind == "ab" else LIKERT_SCALE,
                          answers=json.loads(last.answers_json) if last else None,
                          comment=last.comment if last else None)


def submit_answer(db: Database, user: User, study: str, position: int, answers: dict[str, int],
                  comment: str | None = None, seconds: float | None = None) -> ReaderProgress:
    """Save the reader's answer to one task as given (a new answer adds a row; the latest counts).

    Args:
        db: The store.
        user: The reader.
        study: Study name.
        position: The task's position in this reader's list.
        answers: Dimension -> value (-2..2 toward B for A-vs-B; 1..5 for Likert), every dimension.
        comment: Optional free text.
        seconds: Time on task.

    Returns:
        The reader's progress.
    """
    with db.transaction() as s:
        me = db.acting(s, user, "reader.rate")
        row, a = _assignment(s, me, study)
        design = Design.model_validate_json(row.design_json)
        t = s.scalars(select(ReaderTaskRow).where(ReaderTaskRow.assignment_pk == a.id,
                                                  ReaderTaskRow.position == position)).first()
        if t is None:
            raise NotFound(f"no task {position} in '{study}'")
        allowed = PREFERENCE_SCALE if t.kind == "ab" else LIKERT_SCALE
        if set(answers) != set(design.dimensions):
            raise ValueError(f"answer every dimension: {', '.join(design.dimensions)}")
        for dim, v in answers.items():
            if isinstance(v, bool) or not isinstance(v, int) or v not in allowed:
                raise ValueError(f"{dim}: {v!r} is not one of {sorted(allowed)}")
        if seconds is not None and seconds < 0:
            raise ValueError("time on task cannot be negative")
        s.add(ReaderAnswerRow(task_pk=t.id, reader_id=me.id, answers_json=json.dumps(answers),
                              comment=(comment or "").strip() or None, seconds=seconds))
        s.flush()
        return ReaderProgress(study=study, answered=len(_answered(s, a)), total=_task_count(s, a))
