"""First-run setup: database, demo accounts with working passwords, a demo worklist, idempotence,
the app's command line, and the `quickstart` command."""

from __future__ import annotations

import stat

from typer.testing import CliRunner

from echogpt.cli import app as cli
from echogpt.config import Settings
from echogpt.quickstart import APP_SCRIPT, CREDENTIALS_FILE, app_command, setup


def test_setup_creates_accounts_worklist_and_is_idempotent(echogpt_home):
    from echogpt.review.accounts import authenticate
    from echogpt.review.store import Store

    first = setup(n_studies=5, seed=3, prepare_model=False)
    assert set(first.credentials) == {"cardiologist", "admin"}
    assert first.studies_added == 5
    creds = echogpt_home / CREDENTIALS_FILE
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600

    second = setup(n_studies=5, seed=3, prepare_model=False)
    assert second.studies_added == 0
    assert second.credentials == first.credentials  # same passwords, not reset

    db = Store(Settings().database_url)
    try:
        doc = authenticate(db, "cardiologist", first.credentials["cardiologist"]["password"])
        assert doc.role == "cardiologist"
        admin = authenticate(db, "admin", first.credentials["admin"]["password"])
        assert admin.role == "admin"
        items = db.list_worklist(doc)
        assert len(items) == 5 and {i.status.value for i in items} == {"pending"}
        # Demo studies carry no reference impression: the worklist is there to be drafted.
        assert all(db.get_study(doc, i.study_id).impression is None for i in items)
    finally:
        db.dispose()
    summary = second.summary()
    assert first.credentials["admin"]["password"] in summary and "demo worklist: in place" in summary


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
    from echogpt.review.accounts import cli_user
    from echogpt.review.registry import list_adapters
    from echogpt.review.store import Store

    shipped = tmp_path / "smollm2-echo-demo"
    shipped.mkdir()
    (shipped / "adapter_config.json").write_text("{}")
    monkeypatch.setattr(quickstart, "DEMO_ADAPTER", shipped)
    assert setup(n_studies=1, prepare_model=False).adapter == "smollm2-echo-demo"
    assert setup(n_studies=1, prepare_model=False).adapter == "smollm2-echo-demo"
    db = Store(Settings().database_url)
    try:
        versions = list_adapters(db, cli_user(db))
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
