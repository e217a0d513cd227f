"""Sign-in that survives a reload, in headless Chromium: a local account's session cookie brings
back the user and their unsaved edit, and sign-out ends it; hospital sign-in through a local
OpenID Connect provider (``oidc-provider-mock``, started here) lands a mapped user on their pages
with their role, and refuses (and audits) a user the role mapping gives no role.
"""

from __future__ import annotations

import secrets
import time

import pytest
from _app_fixtures import (  # noqa: F401  (fixtures)
    PASSWORDS,
    copilot_fixture,
    talking_model_fixture,
)
from test_browser import CHROMIUM_ARGS, _chromium, _open_study, _sign_in, serve, served_app  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180),
              pytest.mark.filterwarnings("ignore:get_jwt_config")]  # inside oidc-provider-mock

TYPED = "1. Typed before the reload, never saved."


def _kept(copilot, study_id: str):
    """Wait until the server holds doc's unsaved edit of the study (the edit box sent it)."""
    from echogpt.review import edits

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        kept = edits.take(copilot.db, copilot.doc, study_id)
        if kept is not None:
            return kept
        time.sleep(0.3)
    pytest.fail("the unsaved edit never reached the server")


def test_a_reload_keeps_a_local_user_signed_in_with_the_unsaved_edit(copilot, served_app):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    from echogpt.review import edits

    first = "1. Normal study."
    copilot.db.save_draft(copilot.doc, "S-NORMAL", first, "m@1", None, None, None)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            _sign_in(page, served_app, "doc")
            _open_study(page, "S-NORMAL")
            editor = page.locator(".st-key-edit_text textarea")
            expect(editor).to_have_value(first)
            editor.fill(TYPED)  # typed, still in the box (not sent) when the page reloads
            cookie = next(c for c in context.cookies() if c["name"] == "echogpt_session")
            assert cookie["sameSite"] == "Strict" and cookie["expires"] > time.time() + 3600

            page.reload()
            assert _kept(copilot, "S-NORMAL").text == TYPED
            expect(page.get_by_role("heading", name="Draft")).to_be_visible()
            expect(page.get_by_text("Signed in as")).to_contain_text("doc")
            expect(page.locator(".st-key-login_name")).to_have_count(0)
            expect(editor).to_have_value(TYPED)
            expect(page.get_by_text("Your unsaved edit from before the page was reloaded")).to_be_visible()

            editor.press("Control+Enter")
            page.locator(".st-key-save_edit button").click()
            expect(page.get_by_text("Edit saved and re-checked.")).to_be_visible()
            assert edits.take(copilot.db, copilot.doc, "S-NORMAL") is None  # discarded by the save

            page.goto(served_app + "/account")
            page.locator(".st-key-sign_out button").click()
            expect(page.locator(".st-key-login_name input")).to_be_visible()
            context.add_cookies([cookie])  # a copy of the cookie kept from before: revoked
            page.reload()
            expect(page.locator(".st-key-login_name input")).to_be_visible()
            page.wait_for_timeout(1000)
            expect(page.get_by_text("Signed in as")).to_have_count(0)
        finally:
            browser.close()
    assert copilot.db.current_draft(copilot.doc, "S-NORMAL").text == TYPED
    actions = [a.action for a in copilot.db.audit_log(copilot.boss) if a.user == "doc"]
    assert "login.resumed" in actions and "logout" in actions


@pytest.fixture
def hospital(copilot, tmp_path):
    """A local OpenID provider with two users, the copilot configured to sign in through it, and
    a role mapping that gives ana's group a role and dee's none."""
    pytest.importorskip("oidc_provider_mock", reason="pip install oidc-provider-mock (the test extra)")
    from oidc_provider_mock import User, run_server_in_thread

    from echogpt.config import Settings
    from echogpt.quickstart import free_port

    _chromium()
    users = [User(sub="ana-sub", claims={"preferred_username": "ana", "groups": ["echo-cardiologists"]}),
             User(sub="dee-sub", claims={"preferred_username": "dee", "groups": ["nurses"]})]
    (Settings().home / "oidc_roles.yaml").write_text(
        "name_claim: preferred_username\ngroups_claim: groups\n"
        "groups:\n  echo-cardiologists: cardiologist\n  echo-readers: reader\n")
    port = free_port()
    with run_server_in_thread(user_claims=users) as provider:
        secrets_file = tmp_path / "secrets.toml"
        secrets_file.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(32)}"\n'
            'client_id = "echogpt"\nclient_secret = "not-a-real-secret"\n'
            f'server_metadata_url = "http://localhost:{provider.server_port}/.well-known/openid-configuration"\n')
        with serve(copilot, tmp_path, port, ("--secrets.files", str(secrets_file))) as url:
            yield url


def _hospital_sign_in(page, url: str, sub: str) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    page.locator(".st-key-login_oidc button").click()
    button = page.get_by_role("button", name=sub)  # the provider's page: one button per user
    expect(button).to_be_visible()
    button.click()


def test_hospital_sign_in_maps_the_user_to_their_role_and_refuses_an_unmapped_one(copilot, hospital):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        ana = browser.new_context().new_page()
        dee = browser.new_context().new_page()
        for page in (ana, dee):
            page.set_default_timeout(30_000)
        try:
            _hospital_sign_in(ana, hospital, "ana-sub")
            expect(ana.get_by_role("heading", name="Worklist")).to_be_visible()
            expect(ana.get_by_text("Signed in as")).to_contain_text("ana (cardiologist)")
            ana.reload()  # the identity cookie st.login set keeps her signed in
            expect(ana.get_by_role("heading", name="Worklist")).to_be_visible()
            expect(ana.get_by_text("Signed in as")).to_contain_text("ana (cardiologist)")
            ana.goto(hospital + "/account")
            expect(ana.get_by_text("Signed in with your hospital account")).to_be_visible()
            ana.locator(".st-key-sign_out button").click()
            end = ana.get_by_role("button", name="End session")  # the provider's sign-out page
            expect(end).to_be_visible()
            end.click()
            expect(ana.locator(".st-key-login_oidc button")).to_be_visible()
            ana.reload()  # the identity cookie is gone
            expect(ana.locator(".st-key-login_oidc button")).to_be_visible()
            expect(ana.get_by_text("Signed in as")).to_have_count(0)

            _hospital_sign_in(dee, hospital, "dee-sub")
            refusal = dee.get_by_text("Hospital sign-in refused")
            expect(refusal).to_be_visible()
            expect(refusal).to_contain_text("dee has no EchoGPT role")
            expect(dee.get_by_role("heading", name="Worklist")).to_have_count(0)
            expect(dee.get_by_text("Signed in as")).to_have_count(0)
        finally:
            browser.close()
    users = {u.name: u.role.value for u in copilot.db.list_users(copilot.boss)}
    assert users.get("ana") == "cardiologist" and "dee" not in users
    log = copilot.db.audit_log(copilot.boss)
    logins = [a for a in log if a.action == "login" and a.user == "ana" and "oidc sub=ana-sub" in a.detail]
    assert len(logins) == 3  # signing in, the reload, opening /account: none after signing out
    refused = [a for a in log if a.action == "login.refused"]
    assert len(refused) == 1 and "sub=dee-sub" in refused[0].detail and "groups=nurses" in refused[0].detail
