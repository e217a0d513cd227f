"""Hospital sign-in: the identity an OpenID Connect provider vouches for (the ID token's claims,
which the app receives from Streamlit's ``st.login``) mapped to an EchoGPT account and role.

The mapping is data an administrator writes, ``ECHOGPT_HOME/oidc_roles.yaml`` (or the file
``ECHOGPT_OIDC_ROLES`` names); it says which claim names the account, which claim lists the
user's groups, and which role each group (or named user) gets. The provider itself is configured
where Streamlit reads it, the ``[auth]`` section of ``.streamlit/secrets.toml``. Example::

    name_claim: preferred_username
    groups_claim: groups
    groups:                 # the first group listed here that the user is in gives the role
      echo-cardiologists: cardiologist
      echo-readers: reader
    users:                  # named exceptions, ahead of the groups
      dr.lee: admin

A user whose claims give no role is refused (``SignInRefused``) and the refusal is audited
(``login.refused``). A mapped user's account is created on first sign-in (without a password: it
cannot sign in locally) and its role follows the mapping on every sign-in (``user.role``).

    mapping = oidc.load_mapping(); user = oidc.sign_in(db, claims, mapping)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select

from echogpt.review import accounts
from echogpt.review.accounts import AuthenticationError, User
from echogpt.review.database import Database
from echogpt.review.permissions import Role
from echogpt.review.tables import UserRow

ENV = "ECHOGPT_OIDC_ROLES"
"""Environment variable naming the mapping file (default ``ECHOGPT_HOME/oidc_roles.yaml``)."""


class RoleMapping(BaseModel):
    """Which claim names the account and which role a user gets, from groups or by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name_claim: str = Field("preferred_username", min_length=1,
                            description="Claim whose value is the EchoGPT account name")
    groups_claim: str = Field("groups", min_length=1, description="Claim listing the user's groups")
    groups: dict[str, Role] = Field(default_factory=dict,
                                    description="Group -> role; the first listed group the user is in wins")
    users: dict[str, Role] = Field(default_factory=dict,
                                   description="Account name -> role, ahead of any group")

    @field_validator("users")
    @classmethod
    def _names(cls, users: dict[str, Role]) -> dict[str, Role]:
        for name, role in users.items():
            accounts.new_account(name, role.value)  # ValueError names the bad one
        return users


class SignInRefused(AuthenticationError):
    """The provider vouched for the user, but EchoGPT gives them no account (message says why)."""


def mapping_path() -> Path:
    """The mapping file: ``$ECHOGPT_OIDC_ROLES``, else ``ECHOGPT_HOME/oidc_roles.yaml``."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser()
    from echogpt.config import Settings

    return Settings().home / "oidc_roles.yaml"


def load_mapping(path: Path | None = None) -> RoleMapping | None:
    """The role mapping, or None when the file does not exist (``ValueError``, one line, if bad)."""
    path = path or mapping_path()
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return RoleMapping.model_validate(data)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "mapping"
        raise ValueError(f"{path}: {where}: {first['msg']} (keys: {', '.join(RoleMapping.model_fields)})"
                         ) from None


def map_claims(claims: Mapping[str, Any], mapping: RoleMapping) -> tuple[str, Role]:
    """The account name and role the claims give (``SignInRefused`` when they give none)."""
    name = claims.get(mapping.name_claim)
    if not isinstance(name, str) or not name.strip():
        raise SignInRefused(f"the identity provider sent no '{mapping.name_claim}' to name your account")
    name = name.strip()
    role = mapping.users.get(name)
    if role is None:
        groups = _groups(claims.get(mapping.groups_claim))
        role = next((r for g, r in mapping.groups.items() if g in groups), None)
    if role is None:
        raise SignInRefused(f"{name} has no EchoGPT role: none of your groups is mapped to one. Ask "
                            "an administrator to add your group to the sign-in role mapping.")
    try:
        accounts.new_account(name, role.value)
    except ValueError as exc:
        raise SignInRefused(f"{name} cannot be an EchoGPT account: {exc}") from None
    return name, role


def _groups(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list | tuple):
        return {g for g in value if isinstance(g, str)}
    return set()


def sign_in(db: Database, claims: Mapping[str, Any], mapping: RoleMapping | None,
            client: str | None = None) -> User:
    """The account for a user the identity provider vouched for; created on first sign-in, its
    role set from the mapping. Audited: ``login`` (with ``user.add``/``user.role`` when they
    change), or ``login.refused`` with the reason and ``SignInRefused``.

    Args:
        db: The copilot's database.
        claims: The ID token's claims (``st.user``), ``sub`` among them.
        mapping: The role mapping; None (no file) refuses everyone.
        client: The client's address, for the audit entry.
    """
    try:
        if mapping is None:
            raise SignInRefused(f"hospital sign-in has no role mapping yet ({mapping_path()}); ask "
                                "an administrator")
        name, role = map_claims(claims, mapping)
        with db.transaction() as s:
            return _account(db, s, name, role, claims, client)
    except SignInRefused as exc:
        _refused(db, claims, mapping, str(exc), client)
        raise


def _account(db: Database, s: Any, name: str, role: Role, claims: Mapping[str, Any],
             client: str | None) -> User:
    row = s.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()
    if row is not None and (row.password_hash or not row.active):
        why = "is a local account with a password" if row.password_hash else "is deactivated"
        raise SignInRefused(f"the EchoGPT account {name} {why}: it cannot be used for hospital sign-in")
    if row is None:
        row = UserRow(name=name, role=role.value, password_hash=None, active=True)
        s.add(row)
        s.flush()
        db.audit(s, accounts.to_user(row), "user.add", entity="user", entity_id=row.id,
                 detail=f"role={role.value}; hospital sign-in")
    elif row.role != role.value:  # role sync from the mapping, not a permission check
        db.audit(s, accounts.to_user(row), "user.role", entity="user", entity_id=row.id,
                 detail=f"{row.role} -> {role.value}; from the sign-in role mapping")
        row.role = role.value
    user = accounts.to_user(row)
    where = f"; client={client}" if client else ""
    db.audit(s, user, "login", entity="user", entity_id=row.id,
             detail=f"name={name}; oidc sub={_text(claims.get('sub'))}{where}")
    return user


def _refused(db: Database, claims: Mapping[str, Any], mapping: RoleMapping | None, reason: str,
             client: str | None) -> None:
    groups_claim = mapping.groups_claim if mapping else "groups"
    groups = ",".join(sorted(_groups(claims.get(groups_claim)))) or "none"
    name = claims.get(mapping.name_claim if mapping else "preferred_username")
    with db.transaction() as s:
        db.audit(s, None, "login.refused",
                 detail=f"oidc sub={_text(claims.get('sub'))}; name={_text(name)}; groups={groups}; "
                        f"{reason}" + (f"; client={client}" if client else ""))


def _text(value: Any) -> str:
    return str(value)[:128] if value is not None else "-"
