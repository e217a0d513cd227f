"""The main flow once in a real browser: headless Chromium signs in, generates a draft with the
tiny test model, edits it, approves and signs it; then the database rows and audit entries are
checked. A screenshot of the draft page goes to ECHOGPT_SCREENSHOT_DIR (default: a tmp folder).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from _app_fixtures import (  # noqa: F401  (fixtures)
    PASSWORDS,
    copilot_fixture,
    talking_model_fixture,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
GOOD = "1. Normal left ventricular size and systolic function, LVEF 60 %."


def _chromium() -> str:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y "
                    "chromium chromium-driver) to run the browser test")
    try:
        from playwright.sync_api import expect
    except ImportError:
        pytest.skip("the playwright Python package is missing (pip install playwright)")
    # a rerun on a busy 2-core runner can take longer than expect's default 5 s
    expect.set_options(timeout=30_000)
    return CHROMIUM


@pytest.fixture
def served_app(copilot, tmp_path):
    """The copilot served by ``streamlit run`` on a free port, on the test's database and model."""
    from echogpt.quickstart import free_port

    _chromium()  # skip before starting a server nobody will visit
    with serve(copilot, tmp_path, free_port()) as url:
        yield url


@contextmanager
def serve(copilot, tmp_path: Path, port: int, args: tuple[str, ...] = ()) -> Iterator[str]:
    """``streamlit run`` of the copilot on ``port`` (extra command-line ``args``); its URL."""
    from echogpt.quickstart import app_command

    log = (tmp_path / "streamlit.log").open("w")
    env = dict(os.environ, ECHOGPT_BASE_MODEL=str(copilot.base_model), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([*app_command(port), *args], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("streamlit did not start: " + (tmp_path / "streamlit.log").read_text()[-2000:])
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_sign_in_generate_edit_approve_sign(copilot, served_app, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("ECHOGPT_SCREENSHOT_DIR") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        try:
            page.goto(served_app)
            # Streamlit renders over a websocket: wait for the widgets, not for load events.
            page.locator(".st-key-login_name input").fill("doc")
            page.locator(".st-key-login_password input").fill(PASSWORDS["doc"])
            page.locator(".st-key-login_submit button").click()
            expect(page.get_by_role("heading", name="Worklist")).to_be_visible()

            picker = page.locator(".st-key-worklist_pick input")
            picker.click()
            picker.fill("S-NORMAL")
            picker.press("Enter")
            page.locator(".st-key-worklist_open button").click()
            expect(page.get_by_role("heading", name="Draft")).to_be_visible()
            expect(page.get_by_text("Status: pending")).to_be_visible()

            page.locator(".st-key-generate button").click()
            editor = page.locator(".st-key-edit_text textarea")
            expect(editor).to_be_visible(timeout=60_000)
            expect(page.locator("span.verdict").first).to_be_visible()
            page.screenshot(path=str(shots / "draft_page.png"), full_page=True)

            editor.fill(GOOD)
            editor.press("Control+Enter")  # commit the text area before the button reads it
            page.locator(".st-key-save_edit button").click()
            expect(page.get_by_text("Edit saved and re-checked.")).to_be_visible()
            expect(page.locator('span[data-verdict="supported"]')).to_have_text(GOOD[3:])

            page.locator(".st-key-approve button").click()
            expect(page.get_by_text("Approved. Sign the report to lock it.")).to_be_visible()
            page.locator(".st-key-sign button").click()
            expect(page.get_by_text("Report signed and locked.")).to_be_visible()
            expect(page.locator(".st-key-addendum_text textarea")).to_be_visible()
            expect(page.locator(".st-key-edit_text")).to_have_count(0)
            expect(page.locator(".st-key-sign")).to_have_count(0)  # a signed report offers no signing
            page.screenshot(path=str(shots / "signed_report.png"), full_page=True)
        finally:
            browser.close()
    seconds = time.perf_counter() - began

    db = copilot.db
    assert [i.study_id for i in db.list_worklist(copilot.boss, "signed")] == ["S-NORMAL"]
    draft = db.current_draft(copilot.boss, "S-NORMAL")
    assert draft.text == GOOD and draft.model_text != GOOD
    assert draft.model.startswith("local:tiny-talking@")
    report = db.get_report(copilot.boss, "S-NORMAL")
    assert report.signed_by == "doc" and report.approved_by == "doc" and report.edited
    final = db.final_report(copilot.boss, "S-NORMAL")
    assert "AI assistance" in final and "Electronically signed by doc" in final
    audit = db.audit_log(copilot.boss, "S-NORMAL")
    actions = [a.action for a in audit if a.user == "doc"]
    for expected in ("draft.draft", "draft.edit", "draft.approve", "report.sign"):
        assert expected in actions
    edit = next(a for a in audit if a.action == "draft.edit")
    assert edit.after == GOOD and edit.edit_distance and edit.edit_distance > 0
    assert (shots / "draft_page.png").stat().st_size > 10_000
    assert seconds < 90, f"browser flow took {seconds:.0f} s"


def test_a_deep_link_opened_first_after_start_signs_in_onto_its_page(copilot, served_app):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(30_000)
        try:
            page.goto(served_app + "/draft")  # the server's very first page load
            name = page.locator(".st-key-login_name input")
            expect(name).to_be_visible()
            page.wait_for_timeout(1500)  # a "Page not found" dialog would come after the form
            assert "Page not found" not in page.inner_text("body")
            name.fill("doc")
            page.locator(".st-key-login_password input").fill(PASSWORDS["doc"])
            page.locator(".st-key-login_submit button").click()
            expect(page.get_by_role("heading", name="Draft")).to_be_visible()
            assert page.url.endswith("/draft")
        finally:
            browser.close()


def test_batch_progress_updates_live_and_the_download_is_current(copilot, served_app, tmp_path):
    """A template job started on the batch page: the form stays open while a file is chosen, the
    progress and the table reach the end without a reload, and the CSV downloaded then holds the
    finished rows."""
    import csv
    import json

    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    from echogpt.batch import jobs as batch
    from echogpt.schemas import Study

    # an earlier job makes the page open with the "New batch job" form collapsed
    old = batch.create_job(copilot.db, copilot.doc, [Study(study_id="OLD-1", findings_text="LVEF 60%.")],
                           "template")
    studies = tmp_path / "studies.jsonl"
    studies.write_text("".join(json.dumps({"study_id": f"B-{i}", "findings_text": f"LVEF {50 + i}%."})
                               + "\n" for i in range(3)))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(30_000)
        try:
            page.goto(served_app + "/batch")
            page.locator(".st-key-login_name input").fill("doc")
            page.locator(".st-key-login_password input").fill(PASSWORDS["doc"])
            page.locator(".st-key-login_submit button").click()
            expect(page.get_by_role("heading", name="Batch generation")).to_be_visible()
            _settled(page)  # the run after signing in has drawn the whole page
            page.get_by_text("New batch job").click()
            uploader = page.locator(".st-key-batch_file")
            expect(uploader.get_by_role("button", name="Upload", exact=True)).to_be_visible()  # form open
            # as a user does, start once the file's chip shows it uploaded (a submit while the
            # upload is in flight is answered "Choose a studies file first."); a file chosen while
            # the page was still drawing is lost, and a user chooses it again
            chip = page.locator(".st-key-batch_file [data-testid=stFileChip]")
            for attempt in range(2):
                page.locator(".st-key-batch_file input[type=file]").set_input_files(str(studies))
                try:
                    expect(chip).to_contain_text("studies.jsonl", timeout=15_000)
                    break
                except AssertionError:
                    if attempt:
                        raise
            expect(chip.locator("[data-testid=stFileChipIconSpinner]")).to_have_count(0)
            start = page.locator(".st-key-batch_start button")
            expect(start).to_be_visible()
            expect(start).to_be_enabled()
            page.wait_for_timeout(1000)  # the rerun after choosing the file must not close the form
            expect(start).to_be_visible()
            page.locator(".st-key-batch_mode").click()
            page.get_by_role("option", name="template").click()
            start.click()
            expect(page.get_by_text("started with 3 studies")).to_be_visible()
            expect(page.locator(".st-key-batch_job_pick")).not_to_contain_text(f"#{old.id} ")
            expect(page.get_by_text("3/3 studies")).to_be_visible(timeout=60_000)  # no reload
            # progress came live; the download is read in a settled page (a click during the
            # rerun that the finish starts can be dropped), after a reload that keeps the session
            page.reload()
            expect(page.get_by_text("3/3 studies")).to_be_visible()
            for attempt in range(2):  # a click that lands in a rerun is dropped; a user clicks again
                _settled(page)
                try:
                    with page.expect_download(timeout=30_000) as info:
                        page.locator(".st-key-batch_csv button").click()
                    break
                except PlaywrightTimeout:
                    if attempt:
                        raise
            rows = list(csv.DictReader(open(info.value.path(), encoding="utf-8")))
        finally:
            browser.close()
    assert [r["study_id"] for r in rows] == ["B-0", "B-1", "B-2"]
    assert all(r["status"] == "done" and r["impression"].strip() for r in rows), rows


def test_chromium_skip_reason_is_clear(monkeypatch):
    monkeypatch.setattr(f"{__name__}.CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.skip.Exception, match="install Debian's chromium"):
        _chromium()
    assert shutil.which("python3")


def _sign_in(page, url: str, name: str) -> None:
    page.goto(url)
    page.locator(".st-key-login_name input").fill(name)
    page.locator(".st-key-login_password input").fill(PASSWORDS[name])
    page.locator(".st-key-login_submit button").click()


def _open_study(page, study_id: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    picker = page.locator(".st-key-worklist_pick input")
    picker.click()
    picker.fill(study_id)
    picker.press("Enter")
    page.locator(".st-key-worklist_open button").click()
    expect(page.get_by_role("heading", name="Draft")).to_be_visible()


def test_two_reviewers_a_stale_approve_is_refused_and_shown_the_other_text(copilot, served_app):
    """A saves an edit while B still shows version 1; B's Approve is refused with A's text, and the
    image syntax in A's text is shown as text: the browser never fetches it."""
    from playwright.sync_api import expect, sync_playwright

    from app.services import run_check

    first = "1. Normal study."
    study = copilot.db.get_study(copilot.doc, "S-NORMAL")
    copilot.db.save_draft(copilot.doc, "S-NORMAL", first, "m@1", None, None, run_check(first, study))
    theirs = GOOD + " ![c](http://127.0.0.1:9/x.png)"
    fetched: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        a = browser.new_context().new_page()  # two contexts: two sessions, two cookies
        b = browser.new_context().new_page()
        for page in (a, b):
            page.set_default_timeout(30_000)
            page.on("request", lambda r: fetched.append(r.url) if ":9/" in r.url else None)
        try:
            _sign_in(b, served_app, "doc2")
            _open_study(b, "S-NORMAL")
            expect(b.locator(".st-key-approve button")).to_be_enabled()  # B shows version 1

            _sign_in(a, served_app, "doc")
            _open_study(a, "S-NORMAL")
            editor = a.locator(".st-key-edit_text textarea")
            editor.fill(theirs)
            editor.press("Control+Enter")
            a.locator(".st-key-save_edit button").click()
            expect(a.get_by_text("Edit saved and re-checked.")).to_be_visible()

            b.locator(".st-key-approve button").click()
            expect(b.get_by_text("doc changed this draft (version 2) after you opened it")).to_be_visible()
            warning = b.locator('[data-testid="stAlertContentWarning"]').filter(has_text="holds now")
            expect(warning).to_contain_text("Normal left ventricular size")  # A's text, as text:
            expect(warning).to_contain_text("![c](")  # the image syntax shows, and makes no image
            expect(warning.locator("img, a")).to_have_count(0)  # nor a link
            b.wait_for_timeout(1000)
        finally:
            browser.close()
    assert copilot.db.get_report(copilot.doc, "S-NORMAL") is None
    assert copilot.db.current_draft(copilot.doc, "S-NORMAL").text == theirs
    assert fetched == [], f"the browser fetched {fetched}"


def _seed_gate(copilot, tmp_path) -> None:
    """Versions live (active) and worse (lower fact-F1, critical omissions), pending and failed
    ones, and three weeks of reviewed drafts for the monitoring plot."""
    from datetime import timedelta

    from sqlalchemy import select

    from echogpt.review import gate
    from echogpt.review.tables import ReviewRow
    from echogpt.schemas import CheckResult, Omission, StatementCheck, Study

    db, boss, doc = copilot.db, copilot.boss, copilot.doc
    cell = lambda m: {"mean": m, "ci_low": round(max(0.0, m - 0.06), 3),  # noqa: E731
                      "ci_high": round(min(1.0, m + 0.05), 3), "n": 40}
    for i, (name, f1, crit) in enumerate((("live", 0.81, 0.0), ("worse", 0.64, 0.1),
                                          ("pending", None, None), ("failed", None, None)), start=1):
        db.register_adapter(boss, tmp_path / name, "dpo" if name == "worse" else "sft", name=name)
        gate.record_evaluation(db, boss, name, 900 + i, "synthetic test split", 40)
        if f1 is not None:
            gate.finish_evaluation(db, 900 + i, {
                "fact_f1": cell(f1), "hallucination_rate": cell(0.12 if crit else 0.08),
                "critical_omission": cell(crit), "high_omission": cell(0.05), "rougeL": cell(0.52),
                "stopped": cell(0.97)})
    gate.finish_evaluation(db, 904, None, "OSError: adapter weights missing")
    gate.activate(db, boss, "live", next(r.seen for r in gate.comparison(db, boss).rows
                                         if r.version.name == "live"))
    omitted = [Omission(finding="cardiac tamponade", severity="critical", evidence="RV collapse")]
    for i in range(12):
        sid, version, weeks_ago = f"M-{i}", "worse (dpo)" if i >= 8 else "live (sft)", 2 - i // 4
        db.import_studies(boss, [Study(study_id=sid, patient_id=f"PM{i}", findings_text="LVEF 60%.")])
        bad = i % 3 == 0
        chk = CheckResult(study_id=sid, statements=[StatementCheck(
            text="Normal LV.", start=0, end=10, verdict="unsupported" if bad else "supported",
            reason="seed", facts=[])], omissions=omitted if i % 4 == 1 else [])
        d = db.save_draft(doc, sid, "1. Normal LV size.", "m@1", version, None, chk)
        if i % 4 < 1 + i // 4:  # edited: 1 of 4 drafts in the first week, 2 in the next, 3 in the last
            d = db.edit_draft(doc, d.id, "1. Normal LV size and systolic function, LVEF 60 %.",
                              d.version, chk.model_copy(update={"omissions": []}))
        db.approve(doc, d.id, d.version, confirm=True)
        with db.transaction() as s:
            review = s.scalars(select(ReviewRow).where(ReviewRow.draft_id == d.id)).one()
            review.at = review.at - timedelta(days=7 * weeks_ago)


def _settled(page) -> None:
    """Wait until the script run has finished (Streamlit shows a Stop button while it runs), so
    a screenshot shows no element left over from the previous run."""
    from playwright.sync_api import expect

    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    page.wait_for_timeout(500)


def test_version_gate_asks_for_a_reason_then_rolls_back(copilot, served_app, tmp_path):
    """The admin picks a version worse than the active one: Make active is refused until a reason
    is typed; the reason is audited; one click rolls back. Screenshots of the comparison and the
    monitoring plot go to ECHOGPT_SCREENSHOT_DIR."""
    import json

    from playwright.sync_api import expect, sync_playwright

    _seed_gate(copilot, tmp_path)
    shots = Path(os.environ.get("ECHOGPT_SCREENSHOT_DIR") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.set_default_timeout(30_000)
        try:
            _sign_in(page, served_app, "boss")
            expect(page.get_by_role("heading", name="Admin")).to_be_visible()
            table = page.get_by_test_id("stDataFrame").nth(1)  # after the users table
            expect(table).to_be_visible()
            _settled(page)
            table.scroll_into_view_if_needed()
            page.wait_for_timeout(1500)  # the data grid draws on a canvas after it appears
            table.screenshot(path=str(shots / "admin_comparison_table.png"))
            chart = page.get_by_test_id("stVegaLiteChart")
            expect(chart.locator("canvas, svg").first).to_be_visible()
            chart.scroll_into_view_if_needed()
            page.wait_for_timeout(1000)
            chart.screenshot(path=str(shots / "monitoring_plot.png"))

            picker = page.locator(".st-key-admin_adapter_pick input")
            picker.click()
            picker.fill("worse")
            picker.press("Enter")
            expect(page.get_by_text("Making worse active needs a reason")).to_be_visible()
            page.locator(".st-key-admin_adapter_activate button").click()
            expect(page.get_by_text("activation needs a typed reason")).to_be_visible()
            _settled(page)
            expect(page.locator(".st-key-admin_adapter_evaluate")).to_have_count(0)  # it was judged
            page.screenshot(path=str(shots / "admin_gate_confirmation.png"), full_page=True)
            reason = page.locator(".st-key-admin_adapter_reason input")
            reason.fill("DPO round asked for by the lab; watching monitoring")
            reason.press("Enter")
            page.locator(".st-key-admin_adapter_activate button").click()
            expect(page.get_by_text("worse is active; new drafts use it.")).to_be_visible()
            rollback = page.locator(".st-key-admin_adapter_rollback button")
            expect(rollback).to_have_text("Roll back to live")
            rollback.click()
            expect(page.get_by_text("Rolled back: live is active again.")).to_be_visible()
            _settled(page)
            expect(page.locator(".st-key-admin_adapter_reason input")).to_have_value("")  # not reused
            page.screenshot(path=str(shots / "admin_page.png"), full_page=True)
        finally:
            browser.close()
    db = copilot.db
    assert db.active_adapter(copilot.boss).name == "live"
    audit = [a for a in db.audit_log(copilot.boss) if a.action in ("adapter.select", "adapter.rollback")]
    assert [a.action for a in audit][-2:] == ["adapter.select", "adapter.rollback"]
    chosen = json.loads(audit[-2].detail)
    assert chosen["version"] == "worse" and chosen["previous"] == "live" and audit[-2].user == "boss"
    assert chosen["reason"] == "DPO round asked for by the lab; watching monitoring"
    assert chosen["worse_on"][0] == "fact-F1 0.640 < 0.810"


def test_a_guarded_draft_shows_its_guard_mark_and_the_unguarded_text(copilot, served_app):
    """The model leaves the tamponade out; the guard adds it, and the page marks the added statement
    (its reason in the tooltip) and shows the unguarded text on request."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        try:
            _sign_in(page, served_app, "doc")
            _open_study(page, "S-TAMPONADE")
            page.locator(".st-key-generate button").click()
            mark = page.locator('span.guard-mark[data-guard="added"]').first
            expect(mark).to_be_visible(timeout=60_000)
            expect(mark).to_have_attribute("title", re.compile(r"^added: .*tamponade", re.I))
            page.locator(".st-key-show_unguarded label").click()
            unguarded = copilot.db.current_draft(copilot.doc, "S-TAMPONADE").guard.unguarded_text
            first_line = (unguarded.splitlines() or [""])[0][:30]
            shown = page.locator('[data-testid="stText"]').filter(has_text=first_line)
            expect(shown.first).to_be_visible()
        finally:
            browser.close()
