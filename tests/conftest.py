"""Shared fixtures: every test gets its own ECHOGPT_HOME so nothing touches ~/.echogpt."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def echogpt_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("echogpt_home")
    monkeypatch.setenv("ECHOGPT_HOME", str(home))
    monkeypatch.delenv("ECHOGPT_DATABASE_URL", raising=False)
    monkeypatch.delenv("ECHOGPT_BASE_MODEL", raising=False)
    return home
