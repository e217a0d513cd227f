"""Reader studies in the database, the one module of ``reader`` that opens transactions. An admin
creates a study from cases with two or more report sources (blinded reports, the source key, each
reader's randomised tasks from recorded seeds), follows progress and exports the ratings with the
unblinding key; each reader rates their own tasks (A-vs-B preference per dimension and/or 1-5
Likert per report). What a study is (cases, design, scales, views): ``reader.design``.

Blinding is enforced here and in the queries: functions a reader may call (``reader.rate``) never
read the ``reader_source_key`` table, return reports only by random id with normalised text, and
only the reader's own answers; everything else needs ``reader.manage`` (admins).

    create_study(db, admin, "pilot", load_cases("cases.jsonl"), ["r1", "r2"], 50, Design())
    task = next_task(db, reader, "pilot"); submit_answer(db, reader, "pilot", task.position, {...})
    rows = export_ratings(db, admin, "pilot")          # with source_a / source_b
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from echogpt.reader.design import (
    LIKERT_SCALE,
    PREFERENCE_SCALE,
    BlindReport,
    Case,
    Design,
    ReaderProgress,
    ReaderTask,
    StudySummary,
    normalize_report,
)
from echogpt.reader.tables import (
    ReaderAnswerRow,
    ReaderAssignmentRow,
    ReaderCaseRow,
    ReaderReportRow,
    ReaderSourceKeyRow,
    ReaderStudyRow,
    ReaderTaskRow,
)
from echogpt.review.accounts import User
from echogpt.review.database import Database, NotFound
from echogpt.review.permissions import PermissionDenied, may
from echogpt.review.tables import UserRow

# ---------------------------------------------------------------- helpers


def _study_row(s: Session, name: str) -> ReaderStudyRow:
    row = s.scalars(select(ReaderStudyRow).where(ReaderStudyRow.name == name)).one_or_none()
    if row is None:
        raise NotFound(f"no reader study '{name}'")
    return row


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


def _task(s: Session, a: ReaderAssignmentRow, study: str, position: int) -> ReaderTaskRow:
    """The assignment's task at ``position`` (1-based), or NotFound naming the valid range."""
    t = s.scalars(select(ReaderTaskRow).where(ReaderTaskRow.assignment_pk == a.id,
                                              ReaderTaskRow.position == position)).first()
    if t is None:
        raise NotFound(f"no task {position} in '{study}' (1-{_task_count(s, a)})")
    return t


def _task_count(s: Session, a: ReaderAssignmentRow) -> int:
    return s.scalar(select(func.count()).where(ReaderTaskRow.assignment_pk == a.id)) or 0


# ---------------------------------------------------------------- rating (readers)


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
        t = _task(s, a, study, position)
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
        t = _task(s, a, study, position)
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


# ---------------------------------------------------------------- the admin side


def create_study(db: Database, user: User, name: str, cases: Sequence[Case], readers: Sequence[str],
                 cases_per_reader: int | None = None, design: Design | None = None,
                 seed: int | None = None) -> StudySummary:
    """Create a reader study with blinded reports and each reader's randomised task list.

    Args:
        db: The store.
        user: An admin.
        name: Unique study name.
        cases: Cases, every one with the same set of sources.
        readers: Account names (reader or cardiologist role).
        cases_per_reader: Cases each reader rates (default: all). Cases are dealt in rotation
            over a shuffled case list, so coverage is even and readers overlap.
        design: Preference and/or Likert, dimensions, pair rule.
        seed: Seed of every random choice (default: drawn and recorded).

    Returns:
        The study summary.
    """
    design = (design or Design()).model_copy(deep=True)
    seed = secrets.randbelow(2**31) if seed is None else seed
    if not cases:
        raise ValueError("no cases")
    keys = [c.case_id for c in cases]
    if len(set(keys)) != len(keys):
        raise ValueError(f"case '{next(k for k in keys if keys.count(k) > 1)}' appears twice")
    sources = set(cases[0].reports)
    bad = next((c for c in cases if set(c.reports) != sources), None)
    if bad is not None:
        raise ValueError(f"case '{bad.case_id}' has sources {sorted(bad.reports)}, "
                         f"the first case {sorted(sources)}: every case needs the same sources")
    design.sources = design.sources or sorted(sources)
    if set(design.sources) != sources:
        raise ValueError(f"design sources {design.sources} differ from the cases' {sorted(sources)}")
    if design.reference is not None and design.reference not in sources:
        raise ValueError(f"reference '{design.reference}' is not a source: {sorted(sources)}")
    per = cases_per_reader or len(cases)
    if not 1 <= per <= len(cases):
        raise ValueError(f"cases per reader must be 1 to {len(cases)}")
    if not readers or len(set(readers)) != len(readers):
        raise ValueError("name one or more distinct readers")
    rng = random.Random(seed)
    with db.transaction() as s:
        me = db.acting(s, user, "reader.manage")
        if s.scalars(select(ReaderStudyRow.id).where(ReaderStudyRow.name == name)).first():
            raise ValueError(f"a reader study named '{name}' exists")
        accounts = {u.name: u for u in s.scalars(select(UserRow).where(UserRow.name.in_(readers)))}
        for r in readers:
            if r not in accounts or not accounts[r].active or not may(accounts[r].role, "reader.rate"):
                raise ValueError(f"'{r}' is not an active reader or cardiologist account")
        study = ReaderStudyRow(name=name, design_json=design.model_dump_json(), seed=seed,
                               created_by=me.id)
        s.add(study)
        s.flush()
        case_rows, report_ids = [], []
        for c in cases:
            row = ReaderCaseRow(study_pk=study.id, case_key=c.case_id, context=c.findings_text,
                                extra_json=json.dumps(c.metrics) if c.metrics else None)
            s.add(row)
            case_rows.append(row)
        s.flush()
        for c, row in zip(cases, case_rows, strict=True):
            ids = {}
            for src in design.sources:
                rep = ReaderReportRow(case_pk=row.id, public_id=secrets.token_hex(8),
                                      text=normalize_report(c.reports[src]) or c.reports[src].strip())
                s.add(rep)
                s.flush()
                s.add(ReaderSourceKeyRow(report_pk=rep.id, source=src, original_text=c.reports[src]))
                ids[src] = rep.id
            report_ids.append(ids)
        order = list(range(len(cases)))
        rng.shuffle(order)
        for k, r in enumerate(readers):
            reader_seed = rng.randrange(2**31)
            a = ReaderAssignmentRow(study_pk=study.id, reader_id=accounts[r].id, seed=reader_seed)
            s.add(a)
            s.flush()
            mine = [order[(k * per + j) % len(cases)] for j in range(per)]
            s.add_all(_tasks(a.id, mine, case_rows, report_ids, design, random.Random(reader_seed)))
        db.audit(s, me, "reader_study.create", entity="reader_study", entity_id=study.id,
                 detail=f"cases={len(cases)} readers={len(readers)} per_reader={per} seed={seed}")
    return study_summary(db, user, name)


def _tasks(assignment: int, mine: list[int], case_rows: list[ReaderCaseRow],
           report_ids: list[dict[str, int]], design: Design, rng: random.Random) -> list[ReaderTaskRow]:
    """One reader's tasks: cases in random order; within a case, pairs (sides drawn at random)
    and Likert reports in random order."""
    rng.shuffle(mine)
    tasks, pos = [], 0
    for ci in mine:
        screens: list[tuple[str, int, int | None]] = []
        if design.preference:
            for a, b in design.source_pairs():
                x, y = report_ids[ci][a], report_ids[ci][b]
                screens.append(("ab", *((y, x) if rng.random() < 0.5 else (x, y))))
        if design.likert:
            screens += [("likert", report_ids[ci][src], None) for src in design.sources]
        rng.shuffle(screens)
        for kind, ra, rb in screens:
            pos += 1
            tasks.append(ReaderTaskRow(assignment_pk=assignment, position=pos,
                                       case_pk=case_rows[ci].id, kind=kind, report_a=ra, report_b=rb))
    return tasks


def list_studies(db: Database, user: User) -> list[str]:
    """Names of every reader study (admin)."""
    with db.transaction() as s:
        db.acting(s, user, "reader.manage")
        return list(s.scalars(select(ReaderStudyRow.name).order_by(ReaderStudyRow.id)))


def study_summary(db: Database, user: User, name: str) -> StudySummary:
    """Design, seed, case count and each reader's progress (admin)."""
    with db.transaction() as s:
        db.acting(s, user, "reader.manage")
        row = _study_row(s, name)
        n_cases = s.scalar(select(func.count()).where(ReaderCaseRow.study_pk == row.id)) or 0
        readers = {}
        for a in s.scalars(select(ReaderAssignmentRow).where(ReaderAssignmentRow.study_pk == row.id)
                           .order_by(ReaderAssignmentRow.id)):
            readers[s.get(UserRow, a.reader_id).name] = ReaderProgress(
                study=name, answered=len(_answered(s, a)), total=_task_count(s, a))
        return StudySummary(name=name, seed=row.seed, design=Design.model_validate_json(row.design_json),
                            cases=n_cases, readers=readers)


def export_ratings(db: Database, user: User, name: str, all_answers: bool = False) -> list[dict]:
    """Raw ratings with the unblinding key (admin): one row per answer and dimension.

    Columns: reader, case_id, position, kind, dimension, value (as given: toward B shown, or
    Likert), source_a, source_b (shown), report_a, report_b (public ids), design_a, design_b
    and toward_design_b (preference recoded toward the design pair's B), comment, seconds, at,
    latest (False for superseded answers, listed only with ``all_answers``).
    """
    with db.transaction() as s:
        me = db.acting(s, user, "reader.manage")
        row = _study_row(s, name)
        design = Design.model_validate_json(row.design_json)
        rank = {src: i for i, src in enumerate(design.sources)}
        key = dict(s.execute(select(ReaderReportRow.id, ReaderSourceKeyRow.source).join(
            ReaderSourceKeyRow, ReaderSourceKeyRow.report_pk == ReaderReportRow.id).join(
            ReaderCaseRow, ReaderCaseRow.id == ReaderReportRow.case_pk).where(
            ReaderCaseRow.study_pk == row.id)).all())
        public = dict(s.execute(select(ReaderReportRow.id, ReaderReportRow.public_id).join(
            ReaderCaseRow, ReaderCaseRow.id == ReaderReportRow.case_pk).where(
            ReaderCaseRow.study_pk == row.id)).all())
        q = (select(ReaderAnswerRow, ReaderTaskRow, ReaderCaseRow.case_key, UserRow.name)
             .join(ReaderTaskRow, ReaderTaskRow.id == ReaderAnswerRow.task_pk)
             .join(ReaderAssignmentRow, ReaderAssignmentRow.id == ReaderTaskRow.assignment_pk)
             .join(ReaderCaseRow, ReaderCaseRow.id == ReaderTaskRow.case_pk)
             .join(UserRow, UserRow.id == ReaderAnswerRow.reader_id)
             .where(ReaderAssignmentRow.study_pk == row.id).order_by(ReaderAnswerRow.id))
        answers = list(s.execute(q).all())
        latest = {t.id: ans.id for ans, t, _, _ in answers}
        out = []
        for ans, t, case_key, reader in answers:
            if not all_answers and latest[t.id] != ans.id:
                continue
            sa, sb = key[t.report_a], key.get(t.report_b) if t.report_b else None
            flip = sb is not None and rank[sa] > rank[sb] if design.pairs == "all" else (
                sb is not None and sa != design.reference)
            for dim, value in json.loads(ans.answers_json).items():
                out.append({
                    "reader": reader, "case_id": case_key, "position": t.position, "kind": t.kind,
                    "dimension": dim, "value": value, "source_a": sa, "source_b": sb,
                    "report_a": public[t.report_a], "report_b": public.get(t.report_b),
                    "design_a": (sb if flip else sa) if sb else None,
                    "design_b": (sa if flip else sb) if sb else None,
                    "toward_design_b": (-value if flip else value) if t.kind == "ab" else None,
                    "comment": ans.comment, "seconds": ans.seconds, "at": ans.at.isoformat(),
                    "latest": latest[t.id] == ans.id})
        db.audit(s, me, "reader_study.export", entity="reader_study", entity_id=row.id,
                 detail=f"rows={len(out)}")
        return out


def case_metrics(db: Database, user: User, name: str) -> dict[str, dict[str, dict[str, float]]]:
    """Per-case automatic metrics supplied with the cases (admin): case_id -> source -> values."""
    with db.transaction() as s:
        db.acting(s, user, "reader.manage")
        row = _study_row(s, name)
        return {c.case_key: json.loads(c.extra_json) for c in s.scalars(
            select(ReaderCaseRow).where(ReaderCaseRow.study_pk == row.id)) if c.extra_json}


def source_texts(db: Database, user: User, name: str) -> dict[str, dict[str, str]]:
    """The original report texts by case and source (admin; for automatic metrics)."""
    with db.transaction() as s:
        db.acting(s, user, "reader.manage")
        row = _study_row(s, name)
        q = (select(ReaderCaseRow.case_key, ReaderSourceKeyRow.source, ReaderSourceKeyRow.original_text)
             .join(ReaderReportRow, ReaderReportRow.case_pk == ReaderCaseRow.id)
             .join(ReaderSourceKeyRow, ReaderSourceKeyRow.report_pk == ReaderReportRow.id)
             .where(ReaderCaseRow.study_pk == row.id))
        out: dict[str, dict[str, str]] = {}
        for case, src, text in s.execute(q):
            out.setdefault(case, {})[src] = text
        return out
