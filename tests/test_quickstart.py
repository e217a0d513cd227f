"""First-run setup: database, demo accounts with working passwords, a demo worklist, idempotence,
the app's command line, and the `quickstart` command."""

from __future__ import annotations

import json
import stat

from typer.testing import CliRunner

from echogpt.cli import app as cli
from echogpt.config import Settings
from echogpt.quickstart import APP_SCRIPT, CREDENTIALS_FILE, app_command, setup


def test_setup_creates_accounts_worklist_and_is_idempotent(echogpt_home):
    from echogpt.review.store import Store

    first = setup(n_studies=5, seed=3, prepare_model=False)
    assert set(first.credentials) == {"cardiologist", "admin"}
    assert first.studies_added == 5
    creds = echogpt_home / CREDENTIALS_FILE
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600

    second = setup(n_studies=5, seed=3, prepare_model=False)
    assert second.studies_added == 0
    assert second.credentials == {}  # passwords are shown once, on creation, and not reset

    db = Store(Settings().database_url)
    try:
        doc = db.authenticate("cardiologist", first.credentials["cardiologist"]["password"])
        assert doc.role == "cardiologist"
        admin = db.authenticate("admin", first.credentials["admin"]["password"])
        assert admin.role == "admin"
        items = db.list_worklist(doc)
        assert len(items) == 5 and {i.status.value for i in items} == {"pending"}
        # Demo studies carry no reference impression: the worklist is there to be drafted.
        assert all(db.get_study(doc, i.study_id).impression is None for i in items)
    finally:
        db.dispose()
    assert first.credentials["admin"]["password"] in first.summary()
    summary = second.summary()
    assert "demo worklist: in place" in summary
    for account in first.credentials.values():
        assert account["password"] not in summary
    assert f"passwords kept in {creds}" in summary
    saved = json.loads(creds.read_text())
    assert {k: v["password"] for k, v in saved.items()} == {
        k: v["password"] for k, v in first.credentials.items()}


def test_home_database_and_wal_are_private(echogpt_home):
    """Only the owner may read the database, its WAL and shared-memory files, or enter the home."""
    from echogpt.review.store import Store

    home = echogpt_home / "fresh"
    db = Store(f"sqlite:///{home / 'echogpt.sqlite'}")
    try:
        db.cli_user()  # a write; the pooled connection keeps the WAL and shared-memory files open
        setup_home = Settings(home=echogpt_home / "new-home").ensure().home
        files = [home / "echogpt.sqlite", home / "echogpt.sqlite-wal", home / "echogpt.sqlite-shm"]
        assert all(f.is_file() for f in files)
        assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o600 for f in files}
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
        assert stat.S_IMODE(setup_home.stat().st_mode) == 0o700
    finally:
        db.dispose()


def test_setup_without_shipped_adapter_or_with_another_base_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("ECHOGPT_BASE_MODEL", str(tmp_path))
    result = setup(n_studies=1, prepare_model=False)
    assert result.adapter is None
    assert any("shipped adapter" in note for note in result.notes)


def test_app_command_is_headless_on_the_given_port():
    cmd = app_command(8765, "0.0.0.0")
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4] == str(APP_SCRIPT)
    assert APP_SCRIPT.is_file()
    joined = " ".join(cmd)
    assert "--server.headless true" in joined and "--server.port 8765" in joined
    assert "--server.address 0.0.0.0" in joined


def test_quickstart_command_sets_up_without_starting(monkeypatch, tmp_path):
    monkeypatch.setenv("ECHOGPT_BASE_MODEL", str(tmp_path))  # a local base: no model conversion
    result = CliRunner().invoke(cli, ["quickstart", "--no-start"])
    assert result.exit_code == 0, result.output
    assert "account: cardiologist (cardiologist)  password: " in result.output
    assert "demo worklist: 12 studies added" in result.output


def test_quickstart_command_fails_in_one_line(monkeypatch):
    monkeypatch.setenv("ECHOGPT_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = CliRunner().invoke(cli, ["quickstart", "--no-start"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("error: setup failed")


def test_setup_registers_and_activates_the_shipped_adapter_once(monkeypatch, tmp_path):
    from echogpt import quickstart
    from echogpt.review.store import Store

    shipped = tmp_path / "smollm2-echo-demo"
    shipped.mkdir()
    (shipped / "adapter_config.json").write_text("{}")
    monkeypatch.setattr(quickstart, "DEMO_ADAPTER", shipped)
    assert setup(n_studies=1, prepare_model=False).adapter == "smollm2-echo-demo"
    assert setup(n_studies=1, prepare_model=False).adapter == "smollm2-echo-demo"
    db = Store(Settings().database_url)
    try:
        versions = db.list_adapters(db.cli_user())
    finally:
        db.dispose()
    assert [(v.name, v.active, v.path) for v in versions] == [
        ("smollm2-echo-demo", True, str(shipped))]


def test_app_command_on_a_busy_port_fails_in_one_line():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["app", "--port", str(port)])
    assert result.exit_code == 2
    assert f"error: cannot listen on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


def test_an_older_readable_database_is_tightened_on_open(tmp_path):
    from echogpt.review.store import Store

    path = tmp_path / "old.sqlite"
    Store(f"sqlite:///{path}").dispose()
    path.chmod(0o644)
    Store(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
