"""Shared fixtures: every test gets its own ECHOGPT_HOME so nothing touches ~/.echogpt, and no
background batch worker a test started outlives it."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.fixture(autouse=True)
def echogpt_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("echogpt_home")
    monkeypatch.setenv("ECHOGPT_HOME", str(home))
    monkeypatch.delenv("ECHOGPT_DATABASE_URL", raising=False)
    monkeypatch.delenv("ECHOGPT_BASE_MODEL", raising=False)
    yield home
    _stop_spawned_workers()


def _stop_spawned_workers() -> None:
    """Ends the ``echogpt batch-worker`` processes this test started (a trained version's gate, an
    uploaded job): their database lives in this test's home, so nothing will read their work."""
    worker = sys.modules.get("echogpt.batch.worker")
    if worker is None:
        return
    for pid, proc in list(worker._CHILDREN.items()):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        del worker._CHILDREN[pid]
