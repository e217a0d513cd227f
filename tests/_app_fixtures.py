"""Fixtures for the copilot tests: a store under the test's ECHOGPT_HOME with one account per role,
a few studies, the tiny test model as the base model, and AppTest helpers.

    from _app_fixtures import copilot_fixture, new_app, talking_model_fixture  # noqa: F401
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _tiny import build_tiny_model  # noqa: E402

APP = ROOT / "app" / "main.py"
PASSWORDS = {"doc": "doc-password", "doc2": "doc2-password", "reader": "reader-password",
             "boss": "boss-password"}

STUDIES = [
    {"study_id": "S-NORMAL", "patient_id": "P1",
     "measurements": {"lvef": "60", "lvidd": 4.8},
     "findings_text": "Normal left ventricular size and wall thickness. LVEF 60% by biplane. "
                      "No significant valve disease. No pericardial effusion."},
    {"study_id": "S-HFREF", "patient_id": "P2",
     "measurements": {"lvef": "25", "lvidd": 6.6},
     "findings_text": "Severely dilated left ventricle with global hypokinesis. LVEF 25% by "
                      "biplane. Moderate mitral regurgitation."},
    {"study_id": "S-TAMPONADE", "patient_id": "P3",
     "findings": {"effusion": {"size": "large", "tamponade": True, "rv_collapse": True}},
     "findings_text": "Large circumferential pericardial effusion with right ventricular "
                      "diastolic collapse, consistent with tamponade physiology. LVEF 60%."},
]


def build_talking_model(folder: Path, seconds: float, repeats: bool = False) -> Path:
    """The tiny random Llama, told to write whole BPE words (no byte pieces, no end-of-turn and,
    unless ``repeats``, no repeated word) for at most ``seconds`` per draft: an untrained model
    otherwise stops at once or repeats one token, and 256 tokens would be slow on a busy CPU."""
    from transformers import GenerationConfig

    build_tiny_model(folder)
    config = GenerationConfig.from_pretrained(folder)
    # ids 0-2 are the special tokens, 3-258 the byte alphabet; the rest are merged word pieces.
    config.suppress_tokens = list(range(259))
    if not repeats:  # (the vocabulary then runs out after ~340 words)
        config.no_repeat_ngram_size = 1
    config.max_time = seconds
    config.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session", name="talking_model")
def talking_model_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny test model that drafts for about one second."""
    return build_talking_model(tmp_path_factory.mktemp("models") / "tiny-talking", 1.0)


@dataclass
class Copilot:
    """The test installation: the store, one account per role, the base model folder."""

    db: Any
    admin: Any
    doc: Any
    doc2: Any
    reader: Any
    boss: Any
    base_model: Path


@pytest.fixture(name="copilot")
def copilot_fixture(talking_model: Path, monkeypatch: pytest.MonkeyPatch) -> Copilot:
    """A store with accounts doc/doc2 (cardiologists), reader, boss (admin) and three studies."""
    import streamlit as st
    from argon2 import PasswordHasher

    from echogpt.review import accounts
    from echogpt.review.store import Store
    from echogpt.schemas import Study

    # Cheap hashing parameters keep logins fast; the accounts tests check the real ones.
    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024,
                                                            parallelism=1))
    monkeypatch.setenv("ECHOGPT_BASE_MODEL", str(talking_model))
    # a bounded salad: unbounded, a fast CPU writes enough of it in a second to spell "tamponade",
    # which the guard rightly drops, leaving an empty draft
    monkeypatch.setenv("ECHOGPT_MAX_NEW_TOKENS", "40")
    st.cache_resource.clear()
    db = Store()
    cli = db.cli_user()
    boss = db.add_user(cli, "boss", "admin", PASSWORDS["boss"])
    made = {n: db.add_user(boss, n, role, PASSWORDS[n])
            for n, role in (("doc", "cardiologist"), ("doc2", "cardiologist"),
                            ("reader", "reader"))}
    db.import_studies(boss, [Study.model_validate(s) for s in STUDIES])
    yield Copilot(db, cli, made["doc"], made["doc2"], made["reader"], boss, talking_model)
    st.cache_resource.clear()
    db.dispose()


def new_app(user: Any = None, timeout: float = 60) -> Any:
    """An AppTest of the copilot, signed in as ``user`` (None: the login page)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if user is not None:
        at.session_state["user"] = user
    return at


def texts(at: Any) -> str:
    """All markdown, caption, alert and code text of the last run, joined (for assertions)."""
    parts = []
    for kind in ("markdown", "caption", "success", "info", "warning", "error", "code", "title",
                 "subheader"):
        parts += [str(getattr(e, "value", "")) for e in getattr(at, kind)]
    return "\n".join(parts)
