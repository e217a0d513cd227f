"""First run and start of the copilot: database, demo accounts, a demo worklist, the shipped
adapter and the base model made ready, then ``streamlit run app/main.py``.

Every step is idempotent: a second run finds everything in place and starts in seconds.

    result = setup(); print(result.summary()); run_app(port=8501)
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from echogpt.config import EMBEDDED_MODEL, Settings

APP_SCRIPT = Path(__file__).resolve().parent.parent / "app" / "main.py"
"""The Streamlit entry point (the app lives next to the package in the source tree)."""

DEMO_ADAPTER = Path(__file__).resolve().parent / "adapters" / "smollm2-echo-demo"
"""The fine-tuned adapter shipped with the package, registered and made active on first run."""

DEMO_ACCOUNTS = (("cardiologist", "cardiologist"), ("admin", "admin"))
"""(name, role) of the demo accounts; their passwords are random and kept in CREDENTIALS_FILE."""

CREDENTIALS_FILE = "demo-accounts.json"
DEMO_STUDIES = 12
DEMO_SEED = 0

log = logging.getLogger(__name__)


@dataclass
class SetupResult:
    """What ``setup`` found or made."""

    database_url: str
    credentials: dict[str, dict[str, str]] = field(default_factory=dict)
    """Passwords of the demo accounts made by this run (empty once they exist)."""
    credentials_file: Path | None = None
    studies_added: int = 0
    adapter: str | None = None
    base_model: str = EMBEDDED_MODEL
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        """Lines to print: new accounts with their passwords (once), worklist, model, timing."""
        lines = [f"database: {_safe_url(self.database_url)}"]
        for name, c in self.credentials.items():
            lines.append(f"account: {name} ({c['role']})  password: {c['password']}")
        if self.credentials_file is not None and not self.credentials:
            lines.append(f"demo accounts: passwords kept in {self.credentials_file} (readable only by you)")
        lines.append(f"demo worklist: {self.studies_added} studies added" if self.studies_added
                     else "demo worklist: in place")
        lines.append(f"model: {self.base_model}"
                     + (f" + adapter {self.adapter}" if self.adapter else " (no adapter)"))
        lines += self.notes
        lines.append(f"ready in {self.seconds:.1f} s")
        return "\n".join(lines)


def _safe_url(url: str) -> str:
    """The URL without a password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else url
    return url


def _demo_accounts(db: Any, admin: Any, home: Path) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Create the demo accounts once; their random passwords live in a file only the owner reads.

    Returns:
        The passwords of the accounts made now (shown once, on creation), and notes.
    """
    path = home / CREDENTIALS_FILE
    saved = json.loads(path.read_text()) if path.is_file() else {}
    existing = {u.name for u in db.list_users(admin)}
    notes, created = [], {}
    for name, role in DEMO_ACCOUNTS:
        if name in existing:
            if name not in saved:
                notes.append(f"account {name} exists; its password was set elsewhere")
            continue
        password = secrets.token_urlsafe(9)
        db.add_user(admin, name, role, password=password)
        created[name] = saved[name] = {"role": role, "password": password}
    if created:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(saved, fh, indent=2)
    return created, notes


def _demo_worklist(db: Any, admin: Any, n: int, seed: int) -> int:
    """Fill an empty worklist with ``n`` synthetic studies (without their reference impressions)."""
    if db.list_worklist(admin):
        return 0
    try:
        from echogpt.synth.corpus import generate_corpus
    except ImportError:  # a partial install without the corpus generator: start with no studies
        return 0

    studies = [s.model_copy(update={"impression": None}) for s in generate_corpus(n, seed)]
    return len(db.import_studies(admin, studies))


def _demo_adapter(db: Any, admin: Any, settings: Settings) -> tuple[str | None, list[str]]:
    """Register the shipped adapter and make it active, unless an adapter already is."""
    active = db.active_adapter(admin)
    if active is not None:
        return active.name, []
    if settings.base_model != EMBEDDED_MODEL:
        return None, [f"ECHOGPT_BASE_MODEL={settings.base_model}: the shipped adapter (trained on "
                      f"{EMBEDDED_MODEL}) is not used"]
    if not (DEMO_ADAPTER / "adapter_config.json").is_file():
        return None, [f"no shipped adapter at {DEMO_ADAPTER}: drafts come from the base model"]
    name = DEMO_ADAPTER.name
    if name not in {a.name for a in db.list_adapters(admin)}:
        db.register_adapter(admin, DEMO_ADAPTER, "sft", name=name, base_model=EMBEDDED_MODEL)
    db.select_adapter(admin, name)
    return name, []


def _prepare_engine(settings: Settings) -> None:
    """Write the llama.cpp weights of the active adapter now (about 10 s, once) where drafts use it."""
    from echogpt.model.base import ModelError, resolve_base_model
    from echogpt.model.generator import choose_engine
    from echogpt.review.registry import active_adapter_path

    try:
        if choose_engine("auto", resolve_base_model(EMBEDDED_MODEL, settings), "auto") != "llama.cpp":
            return
        from echogpt.model.merged_gguf import cached_gguf

        cached_gguf(active_adapter_path(settings.database_url), settings=settings)
    except ModelError as exc:  # drafting falls back to PyTorch and says why then
        log.warning("llama.cpp weights not prepared: %s", exc)


def setup(settings: Settings | None = None, *, n_studies: int = DEMO_STUDIES, seed: int = DEMO_SEED,
          prepare_model: bool = True) -> SetupResult:
    """Make an installation ready to use (idempotent).

    Args:
        settings: Installation settings (default: from the environment).
        n_studies: Synthetic studies for the demo worklist (only when the worklist is empty).
        seed: Seed of the demo worklist.
        prepare_model: Convert the embedded base model into its cache now (about 20 s, once) and
            write the llama.cpp weights of the active adapter (about 10 s, once), so the first
            draft does not wait for them.

    Returns:
        The database, demo credentials, studies added, active adapter and timing.
    """
    from echogpt.review.store import Store

    started = time.perf_counter()
    settings = (settings or Settings()).ensure()
    db = Store(settings.database_url)
    try:
        admin = db.cli_user()
        credentials, notes = _demo_accounts(db, admin, settings.home)
        added = _demo_worklist(db, admin, n_studies, seed)
        adapter, more = _demo_adapter(db, admin, settings)
    finally:
        db.dispose()
    notes += more
    if prepare_model and settings.base_model == EMBEDDED_MODEL:
        from echogpt.model.base import convert_embedded

        convert_embedded(settings)
        _prepare_engine(settings)
    creds_file = settings.home / CREDENTIALS_FILE
    return SetupResult(database_url=settings.database_url, credentials=credentials,
                       credentials_file=creds_file if creds_file.is_file() else None,
                       studies_added=added, adapter=adapter, base_model=settings.base_model,
                       notes=notes, seconds=time.perf_counter() - started)


def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def app_command(port: int = 8501, address: str = "127.0.0.1") -> list[str]:
    """The ``streamlit run`` command line of the copilot (headless, no usage statistics)."""
    return [sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT), "--server.headless", "true",
            "--server.port", str(port), "--server.address", address,
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--client.toolbarMode", "viewer"]


def run_app(port: int = 8501, address: str = "127.0.0.1") -> int:
    """Run the copilot in the foreground until it is stopped.

    On POSIX the process becomes Streamlit (exec), so Ctrl-C and SIGTERM reach the server
    directly and no orphan is left behind; elsewhere Streamlit runs as a child process.

    Args:
        port: TCP port to listen on.
        address: Interface to bind (127.0.0.1: this machine only; 0.0.0.0: every interface).

    Returns:
        Streamlit's exit status (only where it runs as a child).

    Raises:
        ValueError: the app is not beside the package, or the port cannot be bound.
    """
    if not APP_SCRIPT.is_file():
        raise ValueError(f"the copilot is not installed next to the package ({APP_SCRIPT}); "
                         "install EchoGPT from its source folder (pip install -e .)")
    with socket.socket() as probe:
        try:
            probe.bind((address, port))
        except OSError as exc:
            raise ValueError(f"cannot listen on {address}:{port} ({exc.strerror or exc}); "
                             "choose another --port or --address") from None
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(APP_SCRIPT.parent.parent), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    cmd = app_command(port, address)
    sys.stdout.flush()
    if os.name == "posix":
        os.execve(cmd[0], cmd, env)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0
