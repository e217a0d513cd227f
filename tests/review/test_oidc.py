"""Hospital sign-in: the role mapping file (validated, unknown keys refused), claims mapped to an
account and role, and a user the mapping gives no role refused and audited."""

from __future__ import annotations

import _db
import pytest

from echogpt.review import oidc
from echogpt.review.oidc import RoleMapping, SignInRefused
from echogpt.review.permissions import Role

db_url, people, pg_url = _db.db_url, _db.people, _db.pg_url  # fixtures

MAPPING = RoleMapping(groups={"echo-cardiologists": "cardiologist", "echo-readers": "reader"},
                      users={"dr.chief": "admin"})


def test_the_mapping_file_is_validated(tmp_path, monkeypatch):
    path = tmp_path / "roles.yaml"
    monkeypatch.setenv(oidc.ENV, str(path))
    assert oidc.mapping_path() == path and oidc.load_mapping() is None  # no file: no mapping
    path.write_text("groups:\n  echo-readers: reader\n  echo-cardiologists: cardiologist\n")
    assert oidc.load_mapping().groups == {"echo-readers": Role.reader,
                                          "echo-cardiologists": Role.cardiologist}
    path.write_text("group:\n  echo-readers: reader\n")  # a typo in a key
    with pytest.raises(ValueError, match="group: Extra inputs are not permitted .*keys: name_claim"):
        oidc.load_mapping()
    path.write_text("groups:\n  echo-readers: nurse\n")
    with pytest.raises(ValueError, match="groups.echo-readers"):
        oidc.load_mapping()
    path.write_text("users:\n  cli: admin\n")  # the command line's account
    with pytest.raises(ValueError, match="reserved"):
        oidc.load_mapping()
    path.write_text("groups: [\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        oidc.load_mapping()


def test_claims_map_to_a_name_and_a_role():
    assert oidc.map_claims({"preferred_username": "ana", "groups": ["x", "echo-readers"]},
                           MAPPING) == ("ana", Role.reader)
    both = {"preferred_username": "bo", "groups": ["echo-readers", "echo-cardiologists"]}
    assert oidc.map_claims(both, MAPPING)[1] == Role.cardiologist  # the mapping's order decides
    assert oidc.map_claims({"preferred_username": "dr.chief"}, MAPPING)[1] == Role.admin
    assert oidc.map_claims({"preferred_username": "cy", "groups": "echo-readers"}, MAPPING)[1] == Role.reader
    with pytest.raises(SignInRefused, match="no EchoGPT role"):
        oidc.map_claims({"preferred_username": "dee", "groups": ["nurses"]}, MAPPING)
    with pytest.raises(SignInRefused, match="no 'preferred_username'"):
        oidc.map_claims({"sub": "x", "groups": ["echo-readers"]}, MAPPING)
    with pytest.raises(SignInRefused, match="cannot be an EchoGPT account"):
        oidc.map_claims({"preferred_username": "two words", "groups": ["echo-readers"]}, MAPPING)


def test_a_mapped_user_gets_an_account_whose_role_follows_the_mapping(people):
    p = people
    name = f"ana-{p.tag}"
    user = oidc.sign_in(p.db, {"sub": "s-1", "preferred_username": name, "groups": ["echo-readers"]},
                        MAPPING, "10.0.0.7")
    assert user.name == name and user.role == Role.reader
    again = oidc.sign_in(p.db, {"sub": "s-1", "preferred_username": name,
                                "groups": ["echo-cardiologists"]}, MAPPING)
    assert again.id == user.id and again.role == Role.cardiologist
    log = [a for a in p.db.audit_log(p.admin) if a.user == name]
    assert [a.action for a in log] == ["user.add", "login", "user.role", "login"]
    assert "oidc sub=s-1" in log[1].detail and "client=10.0.0.7" in log[1].detail
    with pytest.raises(Exception, match="wrong password"):
        p.db.authenticate(name, "")  # no local password: hospital sign-in only


def test_an_unmapped_user_is_refused_and_the_refusal_audited(people):
    p = people
    name = f"dee-{p.tag}"
    with pytest.raises(SignInRefused, match="no EchoGPT role"):
        oidc.sign_in(p.db, {"sub": "s-2", "preferred_username": name, "groups": ["nurses"]}, MAPPING)
    with pytest.raises(SignInRefused, match="no role mapping yet"):
        oidc.sign_in(p.db, {"sub": "s-3", "preferred_username": name}, None)
    refused = [a for a in p.db.audit_log(p.admin) if a.action == "login.refused"
               and name in (a.detail or "")]
    assert len(refused) == 2 and "groups=nurses" in refused[0].detail
    assert all(u.name != name for u in p.db.list_users(p.admin))  # no account was made


def test_a_local_account_with_a_password_is_not_taken_over(people):
    p = people
    with pytest.raises(SignInRefused, match="local account with a password"):
        oidc.sign_in(p.db, {"sub": "s-4", "preferred_username": p.doc.name,
                            "groups": ["echo-cardiologists"]}, RoleMapping(users={p.doc.name: "admin"}))
    assert p.db.authenticate(p.doc.name, "doc-password").role == Role.cardiologist
