"""Database tables of reader studies (SQLAlchemy 2 ORM, same metadata as ``review.tables``).

Blinding lives in the schema: ``reader_reports`` carry a random public id and the normalised
text only; which source wrote a report is in ``reader_source_key``, read only by admin functions
of ``echogpt.reader.study``. The Alembic revision ``0002`` creates these tables.

    from echogpt.reader.tables import ReaderStudyRow, ReaderReportRow
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from echogpt.review.tables import Base, UTCDateTime, utcnow


class ReaderStudyRow(Base):
    __tablename__ = "reader_studies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    design_json: Mapped[str] = mapped_column(Text)  # reader.design.Design
    seed: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReaderCaseRow(Base):
    __tablename__ = "reader_cases"
    __table_args__ = (UniqueConstraint("study_pk", "case_key", name="uq_reader_cases_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("reader_studies.id"), index=True)
    case_key: Mapped[str] = mapped_column(String(128))  # the case_id of the input file
    context: Mapped[str] = mapped_column(Text)  # the findings shown to readers
    extra_json: Mapped[str | None] = mapped_column(Text)  # per-source metrics etc. (admin only)


class ReaderReportRow(Base):
    """A report as readers see it: random id and normalised text, nothing about its source."""

    __tablename__ = "reader_reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("reader_cases.id"), index=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    text: Mapped[str] = mapped_column(Text)


class ReaderSourceKeyRow(Base):
    """The unblinding key (admin only): which source wrote each report, and its original text."""

    __tablename__ = "reader_source_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_pk: Mapped[int] = mapped_column(ForeignKey("reader_reports.id"), unique=True)
    source: Mapped[str] = mapped_column(String(128))
    original_text: Mapped[str] = mapped_column(Text)


class ReaderAssignmentRow(Base):
    __tablename__ = "reader_assignments"
    __table_args__ = (UniqueConstraint("study_pk", "reader_id", name="uq_reader_assignments"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("reader_studies.id"), index=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    seed: Mapped[int] = mapped_column(Integer)  # drew this reader's case order and A/B sides


class ReaderTaskRow(Base):
    """One screen for one reader: an A-vs-B pair (report_b set) or one report to score (Likert)."""

    __tablename__ = "reader_tasks"
    __table_args__ = (UniqueConstraint("assignment_pk", "position", name="uq_reader_tasks_pos"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_pk: Mapped[int] = mapped_column(ForeignKey("reader_assignments.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based, in this reader's random order
    case_pk: Mapped[int] = mapped_column(ForeignKey("reader_cases.id"))
    kind: Mapped[str] = mapped_column(String(8))  # ab | likert
    report_a: Mapped[int] = mapped_column(ForeignKey("reader_reports.id"))
    report_b: Mapped[int | None] = mapped_column(ForeignKey("reader_reports.id"))


class ReaderAnswerRow(Base):
    """Every answer as given (a resubmission adds a row; the latest one counts)."""

    __tablename__ = "reader_answers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_pk: Mapped[int] = mapped_column(ForeignKey("reader_tasks.id"), index=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    answers_json: Mapped[str] = mapped_column(Text)  # {dimension: value}
    comment: Mapped[str | None] = mapped_column(Text)
    seconds: Mapped[float | None] = mapped_column(Float)  # time on task
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
