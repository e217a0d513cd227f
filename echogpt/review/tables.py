"""Database tables of the copilot (SQLAlchemy 2 ORM): users, studies, drafts, reviews, reports,
signatures, addenda, notifications, adapter versions, feedback clearances, the audit log, unsaved
edits kept across a reload and the sign-in sessions of local accounts.

``echogpt.review.store`` queries these (``accounts`` and ``database`` read users and audit rows in its
transactions); the schema itself is created by the Alembic migrations in ``echogpt/migrations``
(``store.upgrade_db(url)``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Timezone-aware now in UTC (every timestamp in the database is UTC)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python (SQLite stores it without zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001, ANN201
        if value is not None:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):  # noqa: ANN001, ANN201
        if value is not None:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(Text)  # None: cannot log in (the CLI account)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StudyRow(Base):
    __tablename__ = "studies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[str] = mapped_column(String(128), unique=True)
    patient_id: Mapped[str | None] = mapped_column(String(128))
    study_date: Mapped[str | None] = mapped_column(String(10))
    study_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DraftRow(Base):
    __tablename__ = "drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    model_text: Mapped[str] = mapped_column(Text)  # what the model wrote; never changes
    text: Mapped[str] = mapped_column(Text)  # the working copy reviewers edit
    model: Mapped[str] = mapped_column(String(256))
    adapter: Mapped[str | None] = mapped_column(String(512))
    prompt_hash: Mapped[str | None] = mapped_column(String(64))
    check_json: Mapped[str | None] = mapped_column(Text)  # of ``text``: re-checked on every edit
    model_check_json: Mapped[str | None] = mapped_column(Text)  # of ``model_text``; never changes
    guard_json: Mapped[str | None] = mapped_column(Text)  # schemas.GuardRecord; null: drafted unguarded
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)  # replaced by a regeneration
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewRow(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    decision: Mapped[str] = mapped_column(String(16))  # approved | rejected
    reason: Mapped[str | None] = mapped_column(Text)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)  # approved despite flags
    reviewer: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seconds_to_decision: Mapped[float | None] = mapped_column(Float)


class ReportRow(Base):
    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("studies.id"), unique=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"))
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"))
    final_text: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(256))
    adapter: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignatureRow(Base):
    __tablename__ = "signatures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), unique=True)
    signed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Of what the signed report issues (``review.signature_digest``), to show it is unchanged;
    # hash_version 1 (rows signed before 0003) covered the impression text alone.
    text_sha256: Mapped[str] = mapped_column(String(64))
    hash_version: Mapped[int] = mapped_column(Integer, default=2, server_default="1")


class AddendumRow(Base):
    __tablename__ = "addenda"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationRow(Base):
    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    finding: Mapped[str] = mapped_column(Text)
    notified: Mapped[str] = mapped_column(String(256))  # who was told (name, role)
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # when they were told
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdapterRow(Base):
    __tablename__ = "adapter_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    path: Mapped[str] = mapped_column(String(1024))
    base_model: Mapped[str | None] = mapped_column(String(256))
    method: Mapped[str] = mapped_column(String(16))  # sft | dpo
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("adapter_versions.id"))
    metrics_json: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdapterEvaluationRow(Base):
    """The version gate's evaluation of an adapter version on the held-out set (one per version;
    ``echogpt.review.gate`` reads and writes it, ``echogpt.batch.gate`` runs it as a batch job)."""

    __tablename__ = "adapter_evaluations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    adapter_id: Mapped[int] = mapped_column(ForeignKey("adapter_versions.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done | failed
    job_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the batch job drafting it
    eval_set: Mapped[str] = mapped_column(String(1024))  # the lab's file, or the synthetic split
    n: Mapped[int] = mapped_column(Integer)  # studies asked for
    metrics_json: Mapped[str | None] = mapped_column(Text)  # {metric: {mean, ci_low, ci_high, n}}
    error: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)  # bumped by every change
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ClearanceRow(Base):
    """An admin's statement that a report's text was checked and holds no identifiers."""

    __tablename__ = "feedback_clearances"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), unique=True)
    cleared_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditRow(Base):
    """Append-only: database triggers refuse UPDATE and DELETE (see the migrations)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    user_name: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    study_id: Mapped[str | None] = mapped_column(String(128), index=True)
    entity: Mapped[str | None] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    diff: Mapped[str | None] = mapped_column(Text)
    edit_distance: Mapped[int | None] = mapped_column(Integer)  # words inserted/deleted/replaced
    seconds_to_approve: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str | None] = mapped_column(Text)


class EditDraftRow(Base):
    """A reviewer's typed, unsaved edit of a draft, kept across a page reload: one per user and
    study, valid only for the draft version it was typed on (``echogpt.review.edits``)."""

    __tablename__ = "edit_drafts"
    __table_args__ = (UniqueConstraint("user_id", "study_pk"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    study_pk: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"))
    draft_version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SessionRow(Base):
    """A signed-in browser session of a local account (``echogpt.review.sessions``): the cookie
    names its id; signing out revokes it."""

    __tablename__ = "sign_in_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
