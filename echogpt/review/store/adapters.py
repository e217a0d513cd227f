"""The store's adapter versions: registering a trained adapter, listing versions, selecting the
active one (admins) and reading which one drafts are generated with. Mixed into ``Store``.

    db.register_adapter(db.cli_user(), "runs/sft-1", "sft"); db.select_adapter(admin, "sft-1")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from echogpt.review.accounts import User
from echogpt.review.database import AdapterVersion, Database
from echogpt.review.tables import AdapterRow


class Adapters(Database):
    """Adapter versions, each method one transaction (see ``Store``)."""

    def register_adapter(self, user: User, path: str | Path, method: str, *, name: str | None = None,
                         base_model: str | None = None, parent: str | None = None,
                         metrics: dict[str, Any] | None = None) -> AdapterVersion:
        """Record a trained adapter as a new version (not active until an admin selects it).

        Args:
            user: An admin (the command line acts as one).
            path: The adapter folder.
            method: ``sft`` or ``dpo``.
            name: Unique name; default ``<method>-<n>``.
            base_model: The base model identity it was trained on.
            parent: Name of the version it was trained from.
            metrics: Figures worth showing next to it (losses, steps).

        Returns:
            The registered version.
        """
        if method not in ("sft", "dpo"):
            raise ValueError(f"method '{method}' is not one of: sft, dpo")
        with self.transaction() as s:
            me = self.acting(s, user, "adapter.register")
            if name is None:
                n = s.scalar(select(func.count()).select_from(AdapterRow)) or 0
                name = f"{method}-{n + 1}"
            if s.scalars(select(AdapterRow).where(AdapterRow.name == name)).first() is not None:
                raise ValueError(f"adapter version '{name}' already exists")
            row = AdapterRow(name=name, path=str(path), base_model=base_model, method=method,
                             parent_id=self.adapter_row(s, parent).id if parent else None,
                             metrics_json=json.dumps(metrics or {}), active=False, created_by=me.id)
            s.add(row)
            s.flush()
            self.audit(s, me, "adapter.register", entity="adapter", entity_id=row.id,
                       detail=f"{name} {method} {path}")
            return self.adapter_view(s, row)

    def list_adapters(self, user: User) -> list[AdapterVersion]:
        """All adapter versions, newest first."""
        with self.transaction() as s:
            self.acting(s, user, "adapter.list")
            return [self.adapter_view(s, r)
                    for r in s.scalars(select(AdapterRow).order_by(AdapterRow.id.desc()))]

    def select_adapter(self, user: User, name: str) -> AdapterVersion:
        """Make ``name`` the active adapter (admins only); the previous one is deactivated."""
        with self.transaction() as s:
            me = self.acting(s, user, "adapter.select")
            row = self.adapter_row(s, name)
            s.execute(update(AdapterRow).where(AdapterRow.id != row.id).values(active=False))
            row.active = True
            s.flush()
            self.audit(s, me, "adapter.select", entity="adapter", entity_id=row.id, detail=name)
            return self.adapter_view(s, row)

    def active_adapter(self, user: User) -> AdapterVersion | None:
        """The adapter drafts are generated with, or None for the base model."""
        with self.transaction() as s:
            self.acting(s, user, "adapter.list")
            row = s.scalars(select(AdapterRow).where(AdapterRow.active.is_(True))).first()
            return self.adapter_view(s, row) if row else None
