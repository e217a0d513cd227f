"""Database tables of batch generation (SQLAlchemy 2 ORM, same metadata as ``review.tables``):
one row per job and one row per (job, study) holding the claim, the draft and its check.

Only ``echogpt.batch.jobs`` and ``echogpt.batch.lease`` query these; the Alembic revision ``0002``
creates them.

    from echogpt.batch.tables import BatchJobRow, BatchItemRow
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from echogpt.review.tables import Base, UTCDateTime, utcnow


class BatchJobRow(Base):
    __tablename__ = "batch_jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    mode: Mapped[str] = mapped_column(String(16))  # zero-shot | fine-tuned | template
    base_model: Mapped[str | None] = mapped_column(String(512))
    adapter: Mapped[str | None] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    total: Mapped[int] = mapped_column(Integer)
    worker_token: Mapped[str | None] = mapped_column(String(64))  # the worker holding the lease
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BatchItemRow(Base):
    """One study of a job; ``(job_id, study_id)`` is unique, so a study is never drafted twice."""

    __tablename__ = "batch_items"
    __table_args__ = (UniqueConstraint("job_id", "study_id", name="uq_batch_items_job_study"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("batch_jobs.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # order in the uploaded file
    study_id: Mapped[str] = mapped_column(String(128))
    study_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    impression: Mapped[str | None] = mapped_column(Text)
    check_json: Mapped[str | None] = mapped_column(Text)
    guard_json: Mapped[str | None] = mapped_column(Text)  # schemas.GuardRecord; null: drafted unguarded
    supported: Mapped[int] = mapped_column(Integer, default=0)
    contradicted: Mapped[int] = mapped_column(Integer, default=0)
    unsupported: Mapped[int] = mapped_column(Integer, default=0)
    critical_omissions: Mapped[str | None] = mapped_column(Text)  # "; "-joined "finding (severity)"
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    model: Mapped[str | None] = mapped_column(String(256))
    prompt_hash: Mapped[str | None] = mapped_column(String(64))
    seconds: Mapped[float | None] = mapped_column(Float)
    stopped: Mapped[bool | None] = mapped_column(Boolean)  # ended on end-of-turn (model modes)
    error: Mapped[str | None] = mapped_column(Text)
    sent: Mapped[bool] = mapped_column(Boolean, default=False)  # stored as a worklist draft
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
