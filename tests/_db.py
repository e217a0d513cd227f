"""Database fixtures for the store tests: a fresh SQLite file per test, and a throwaway PostgreSQL
database per test session on 127.0.0.1:5432 (skipped, saying so, when the server is unreachable).

    db_url, people, pg_url = _db.db_url, _db.people, _db.pg_url  # in a test module
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("ECHOGPT_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def pg_url():
    """URL of a throwaway PostgreSQL database, dropped after the session."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 3})
    name = f"echogpt_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL at {PG_ADMIN_URL.split('@')[-1]} is not reachable "
                    f"({str(exc).splitlines()[0][:120]}): PostgreSQL store tests skipped, "
                    "SQLite tests still ran")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'echogpt.sqlite'}"
    return request.getfixturevalue("pg_url")


@dataclass
class People:
    """A store with one user of each role (unique names, so PostgreSQL tests can share a DB)."""

    db: object
    admin: object
    doc: object
    doc2: object
    reader: object
    tag: str


@pytest.fixture
def people(db_url: str, monkeypatch: pytest.MonkeyPatch) -> People:
    from argon2 import PasswordHasher

    from echogpt.review import accounts
    from echogpt.review.store import Store

    # Cheap argon2 parameters for speed here; test_accounts checks the real ones.
    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024,
                                                            parallelism=1))
    db = Store(db_url)
    cli = db.cli_user()
    tag = uuid.uuid4().hex[:8]
    admin = db.add_user(cli, f"admin-{tag}", "admin", "admin-password")
    doc = db.add_user(admin, f"doc-{tag}", "cardiologist", "doc-password")
    doc2 = db.add_user(admin, f"doc2-{tag}", "cardiologist", "doc2-password")
    reader = db.add_user(admin, f"reader-{tag}", "reader", "reader-password")
    yield People(db, admin, doc, doc2, reader, tag)
    db.dispose()
