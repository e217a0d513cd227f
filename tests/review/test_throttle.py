"""Sign-in throttling: the wait schedule, refusals of the right password too, the lock and its end,
per-client counting across names, and what the audit log keeps (never a password typed as a name)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import _db
import pytest
from _app_fixtures import PASSWORDS, copilot_fixture, new_app, talking_model_fixture  # noqa: F401

from echogpt.review import throttle
from echogpt.review.accounts import AuthenticationError
from echogpt.review.throttle import ACCOUNT, CLIENT, SignInThrottled, wait_after

db_url, people, pg_url = _db.db_url, _db.people, _db.pg_url  # fixtures

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


class Clock:
    """The throttle's clock, moved by the test (the audit rows carry its times)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(throttle, "_now", c)
    return c


def _at(*seconds: float) -> list[datetime]:
    return [T0 + timedelta(seconds=s) for s in seconds]


# ---------------------------------------------------------------- the schedule (pure)


def test_waits_grow_then_lock() -> None:
    waits = [wait_after(_at(*range(n)), T0 + timedelta(seconds=n - 1), ACCOUNT) for n in range(13)]
    assert waits == [0, 0, 0, 2, 4, 8, 16, 32, 60, 60, 900, 900, 900]


def test_wait_counts_down_and_old_failures_are_forgotten() -> None:
    five = _at(0, 1, 2, 3, 4)  # five failures: an 8 s wait after the last
    assert wait_after(five, T0 + timedelta(seconds=7), ACCOUNT) == pytest.approx(5.0)
    assert wait_after(five, T0 + timedelta(seconds=12), ACCOUNT) == 0.0
    ten = _at(*range(10))
    assert wait_after(ten, T0 + timedelta(minutes=14), ACCOUNT) > 0
    assert wait_after(ten, T0 + timedelta(seconds=9 + 900), ACCOUNT) == 0.0
    assert wait_after(ten, T0 + timedelta(hours=2), ACCOUNT) == 0.0  # outside the window


def test_clients_get_more_free_failures_than_accounts() -> None:
    assert CLIENT.free > ACCOUNT.free and CLIENT.lock_after > ACCOUNT.lock_after


# ---------------------------------------------------------------- sign-in through the store


def _log(p) -> list:
    return p.db.audit_log(p.admin, limit=10**6)  # the PostgreSQL database is shared by the session


def _fail(db, name: str, times: int, client: str | None = None) -> list[str]:
    outcomes = []
    for _ in range(times):
        try:
            db.authenticate(name, "wrong-password", client=client)
        except SignInThrottled:
            outcomes.append("throttled")
        except AuthenticationError:
            outcomes.append("failed")
    return outcomes


def test_twelve_wrong_passwords_then_the_right_one_is_refused(people) -> None:
    p = people
    assert _fail(p.db, p.doc.name, 12) == ["failed"] * 3 + ["throttled"] * 9
    with pytest.raises(SignInThrottled, match="too many failed sign-ins: try again in 2 s"):
        p.db.authenticate(p.doc.name, "doc-password")
    log = [a for a in _log(p) if a.action.startswith("login")]
    mine = [a for a in log if a.entity_id == p.doc.id]
    assert [a.action for a in mine].count("login.failed") == 3
    assert [a.action for a in mine].count("login.throttled") == 10
    assert "login" not in [a.action for a in mine]
    assert not any("password" in (a.detail or "") for a in log)
    # another account is not affected
    assert p.db.authenticate(p.doc2.name, "doc2-password") == p.doc2


def test_lock_after_ten_failures_then_the_right_password_after_it(people, clock) -> None:
    p = people
    for n in range(10):  # each failure after the wait the one before it set
        clock.advance(wait_after([], clock.now, ACCOUNT) or 61)
        assert _fail(p.db, p.doc.name, 1) == ["failed"], n
    locked = [a for a in _log(p) if a.action == "login.locked"]
    assert len(locked) == 1 and locked[0].entity_id == p.doc.id and "15 min" in locked[0].detail
    clock.advance(14 * 60)
    with pytest.raises(SignInThrottled, match="try again in 60 s"):
        p.db.authenticate(p.doc.name, "doc-password")
    clock.advance(61)
    assert p.db.authenticate(p.doc.name, "doc-password") == p.doc
    # a success starts the count again: three more failures cost no wait
    assert _fail(p.db, p.doc.name, 3) == ["failed"] * 3


def test_a_client_is_throttled_across_names(people, clock) -> None:
    p = people
    names = [f"nobody-{i}" for i in range(CLIENT.free)]
    for name in names:  # ten different unknown names from one address, one second apart
        clock.advance(1)
        assert _fail(p.db, name, 1, client="10.0.0.9") == ["failed"]
    clock.advance(1)
    with pytest.raises(SignInThrottled):
        p.db.authenticate(p.doc.name, "doc-password", client="10.0.0.9")
    assert p.db.authenticate(p.doc.name, "doc-password", client="10.0.0.10") == p.doc
    assert p.db.authenticate(p.doc2.name, "doc2-password") == p.doc2  # no address known
    refused = [a for a in _log(p)
               if a.action == "login.throttled" and "client=10.0.0.9" in (a.detail or "")]
    assert len(refused) == 1 and "(client)" in refused[0].detail and refused[0].entity_id == p.doc.id


def test_a_failed_name_is_kept_only_when_it_names_an_account(people) -> None:
    p = people
    typed = "Tr0ub4dor&3-typed-into-the-name-field"
    for name in (typed, p.doc.name):
        with pytest.raises(AuthenticationError):
            p.db.authenticate(name, "wrong-password", client="10.1.1.1")
    failed = [a for a in _log(p) if a.action == "login.failed"]
    assert not any(typed in (a.detail or "") or typed in a.user for a in failed)
    assert [a.detail for a in failed][-2:] == ["unknown name; client=10.1.1.1",
                                               f"name={p.doc.name}; client=10.1.1.1"]
    assert failed[-1].entity_id == p.doc.id and failed[-2].entity_id is None
    ok = p.db.authenticate(p.doc.name, "doc-password")
    entry = [a for a in _log(p) if a.action == "login"][-1]
    assert (entry.user, entry.entity_id) == (ok.name, ok.id)


def test_the_sign_in_page_says_how_long_to_wait(copilot) -> None:
    at = new_app().run()
    at.text_input(key="login_name").input("doc")
    for _ in range(4):
        at.text_input(key="login_password").input("wrong-password")
        at.button(key="login_submit").click().run()
    assert [e.value for e in at.error] == ["too many failed sign-ins: try again in 2 s"]
    at.text_input(key="login_password").input(PASSWORDS["doc"])
    at.button(key="login_submit").click().run()
    assert at.session_state["user"] is None and not at.exception
