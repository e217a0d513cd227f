"""Accounts: argon2 hashing, roles, log-in, and the ``users add`` / ``users set-password`` commands."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from echogpt.cli import app
from echogpt.review import accounts
from echogpt.review.accounts import AuthenticationError
from echogpt.review.permissions import PermissionDenied, Role
from echogpt.review.store import Store


@pytest.fixture(autouse=True)
def cheap_hashing(request, monkeypatch):
    """Fast argon2 parameters, except where the real ones are the point of the test."""
    if request.node.name != "test_passwords_are_argon2id_hashes":
        from argon2 import PasswordHasher

        monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024,
                                                                parallelism=1))


@pytest.fixture
def db(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'acc.sqlite'}")
    yield store
    store.dispose()


def test_passwords_are_argon2id_hashes():
    h = accounts.hash_password("correct horse")
    assert h.startswith("$argon2id$") and "correct horse" not in h
    assert "m=65536,t=3" in h  # argon2-cffi's RFC 9106 low-memory profile: 64 MiB, 3 passes
    assert h != accounts.hash_password("correct horse")  # salted
    assert accounts.verify_password(h, "correct horse")
    assert not accounts.verify_password(h, "correct hors")
    assert not accounts.verify_password(None, "anything")
    assert not accounts.verify_password("not-a-hash", "anything")
    with pytest.raises(ValueError, match="8 characters"):
        accounts.hash_password("short")


def test_add_and_authenticate(db):
    admin = db.cli_user()
    doc = db.add_user(admin, "dr-lee", "cardiologist", "s3cret-pass")
    assert db.authenticate("dr-lee", "s3cret-pass") == doc
    for name, pw in (("dr-lee", "wrong-pass"), ("nobody", "s3cret-pass")):
        with pytest.raises(AuthenticationError, match="unknown user or wrong password"):
            db.authenticate(name, pw)
    with pytest.raises(AuthenticationError):
        db.authenticate(accounts.CLI_USER, "")  # the command-line account cannot log in
    failed = [a for a in db.audit_log(admin) if a.action == "login.failed"]
    assert len(failed) == 3 and not any("wrong-pass" in (a.detail or "") for a in failed)


def test_only_admins_manage_users(db):
    admin = db.cli_user()
    doc = db.add_user(admin, "dr-lee", "cardiologist", "s3cret-pass")
    reader = db.add_user(admin, "reader-1", "reader", "s3cret-pass")
    for actor in (doc, reader):
        with pytest.raises(PermissionDenied, match="needs the admin role"):
            db.add_user(actor, "sneaky", "admin", "s3cret-pass")
        with pytest.raises(PermissionDenied):
            db.list_users(actor)
    with pytest.raises(PermissionDenied):
        db.set_password(doc, "reader-1", "new-password")
    db.set_password(doc, "dr-lee", "new-password")  # one's own password is fine
    assert db.authenticate("dr-lee", "new-password") == doc
    assert [u.name for u in db.list_users(admin)] == ["cli", "dr-lee", "reader-1"]


def test_changing_ones_own_password_needs_the_current_one(db):
    admin = db.cli_user()
    doc = db.add_user(admin, "dr-lee", "cardiologist", "s3cret-pass")
    with pytest.raises(AuthenticationError, match="current password is wrong"):
        db.set_password(doc, "dr-lee", "new-password", current_password="wrong-pass")
    assert db.authenticate("dr-lee", "s3cret-pass") == doc  # unchanged
    db.set_password(doc, "dr-lee", "new-password", current_password="s3cret-pass")
    assert db.authenticate("dr-lee", "new-password") == doc
    changes = [a for a in db.audit_log(admin) if a.action == "user.password"]
    assert [(a.user, a.entity_id) for a in changes] == [("dr-lee", doc.id)]
    with pytest.raises(ValueError, match="command line"):
        db.set_password(admin, accounts.CLI_USER, "new-password")  # it must stay unable to log in


@pytest.mark.parametrize(("name", "role", "message"), [
    ("dr lee", "cardiologist", "without spaces"),
    ("dr-lee", "nurse", "not one of: cardiologist, reader, admin"),
    ("cli", "admin", "reserved"),
])
def test_bad_accounts_are_refused(db, name, role, message):
    with pytest.raises(ValueError, match=message):
        db.add_user(db.cli_user(), name, role, "s3cret-pass")


def test_a_forged_role_is_not_trusted(db):
    admin = db.cli_user()
    reader = db.add_user(admin, "reader-1", "reader", "s3cret-pass")
    forged = reader.model_copy(update={"role": Role.admin})
    with pytest.raises(PermissionDenied):
        db.add_user(forged, "x", "admin", "s3cret-pass")


def test_users_add_command(tmp_path, monkeypatch):
    runner = CliRunner()
    ok = runner.invoke(app, ["users", "add", "--name", "boss", "--role", "admin", "--password-stdin"],
                       input="first-admin-pw\n")
    assert ok.exit_code == 0 and "created admin account 'boss'" in ok.output
    again = runner.invoke(app, ["users", "add", "--name", "boss", "--role", "admin",
                                "--password-stdin"], input="first-admin-pw\n")
    assert again.exit_code == 2 and "already exists" in again.output
    assert "Traceback" not in again.output
    short = runner.invoke(app, ["users", "add", "--name", "dr-x", "--role", "cardiologist",
                                "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "8 characters" in short.output
    db = Store()  # the configured database under this test's ECHOGPT_HOME
    try:
        assert db.authenticate("boss", "first-admin-pw").role == Role.admin
    finally:
        db.dispose()


def test_users_set_password_command_asks_twice_without_echo():
    runner = CliRunner()
    runner.invoke(app, ["users", "add", "--name", "dr-lee", "--role", "cardiologist",
                        "--password-stdin"], input="first-password\n")
    typo = runner.invoke(app, ["users", "set-password", "--name", "dr-lee"],
                         input="second-password\nsecond-passwrd\nsecond-password\nsecond-password\n")
    assert typo.exit_code == 0, typo.output
    assert "do not match" in typo.output and "password of 'dr-lee' changed" in typo.output
    assert "second-password" not in typo.output  # typed, never echoed
    unknown = runner.invoke(app, ["users", "set-password", "--name", "nobody"],
                            input="long-password\nlong-password\n")
    assert unknown.exit_code == 2 and "no user 'nobody'" in unknown.output
    assert "Traceback" not in unknown.output
    short = runner.invoke(app, ["users", "set-password", "--name", "dr-lee", "--password-stdin"],
                          input="short\n")
    assert short.exit_code == 2 and "8 characters" in short.output
    db = Store()
    try:
        db.authenticate("dr-lee", "second-password")
        with pytest.raises(AuthenticationError):
            db.authenticate("dr-lee", "first-password")
        actions = [(a.user, a.action) for a in db.audit_log(db.cli_user())]
        assert ("cli", "user.password") in actions
    finally:
        db.dispose()
