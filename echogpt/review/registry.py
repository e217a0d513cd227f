"""Adapter versions from the command line: ``echogpt train`` registers the adapter folder it wrote
as a new (inactive) version, and training and generation read which version an admin made active.
The records themselves are the store's (``Store.register_adapter``, ``Store.select_adapter``).

    v = register_trained("runs/dpo-1", parent="runs/sft-1"); active_adapter_path()  # -> folder
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from echogpt.review.database import AdapterVersion
from echogpt.review.store import Store


def register_trained(out: str | Path, parent: str | Path | None = None,
                     metrics: dict[str, Any] | None = None, url: str | None = None) -> AdapterVersion:
    """Register a freshly trained adapter folder (its ``echogpt_adapter.json`` gives the method and
    base) in the configured database, as the command line's admin; for ``echogpt train``. The
    version is named after the folder, so the copilot's list and the disk agree.

    Args:
        out: The adapter folder.
        parent: The adapter folder it was trained from, if any (matched to a registered version).
        metrics: Figures to show next to it.
        url: Database URL (default: the configured one).

    Returns:
        The new version (inactive until an admin selects it).
    """
    from echogpt.model.adapters import read_adapter_meta

    meta = read_adapter_meta(out)
    db = Store(url)
    try:
        user = db.cli_user()
        parent_name = None
        if parent is not None:
            parent_name = next((v.name for v in db.list_adapters(user)
                                if Path(v.path).resolve() == Path(parent).resolve()), None)
        name = _free_name(Path(out).name, {v.name for v in db.list_adapters(user)})
        return db.register_adapter(user, Path(out).resolve(), meta.method, name=name, parent=parent_name,
                                   base_model=meta.base_model, metrics=metrics)
    finally:
        db.dispose()


def _free_name(folder: str, taken: set[str]) -> str:
    """The version's name: its folder's name (``runs/dpo-1`` is ``dpo-1``), with ``-2``, ``-3`` ...
    added when another version already has it."""
    name, n = folder, 1
    while name in taken:
        n += 1
        name = f"{folder}-{n}"
    return name


def active_adapter_path(url: str | None = None) -> str | None:
    """The folder of the adapter version active in the database, if one is selected."""
    db = Store(url)
    try:
        version = db.active_adapter(db.cli_user())
        return version.path if version else None
    finally:
        db.dispose()
