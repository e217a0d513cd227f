"""Time from clicking Generate to the first streamed token on the page, in headless Chromium, on the
embedded defaults (never in CI): a fresh ECHOGPT_HOME is set up as the first start does (demo
worklist, demo accounts, the shipped adapter active), the copilot is served, a cardiologist signs in,
opens pending studies one after another and clicks Generate. The first click includes loading the
model; later clicks show the steady figure. Also prints the time until the whole draft is stored.

    python benchmarks/copilot_first_token.py --clicks 4
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path


def _serve(home: Path, port: int) -> subprocess.Popen:
    from echogpt.quickstart import app_command

    env = dict(os.environ, ECHOGPT_HOME=str(home), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(app_command(port), env=env, stdout=(home / "streamlit.log").open("w"),
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the copilot did not start: see " + str(home / "streamlit.log"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=4, help="studies drafted one after another")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=120_000)

    from echogpt.config import Settings
    from echogpt.quickstart import free_port, setup

    home = Path(tempfile.mkdtemp(prefix="echogpt-bench-"))
    os.environ["ECHOGPT_HOME"] = str(home)
    t0 = time.perf_counter()
    result = setup(Settings())
    print(f"first-run setup (database, demo worklist, model conversion): {time.perf_counter() - t0:.1f} s")
    password = result.credentials["cardiologist"]["password"]
    from echogpt.review.store import Store

    db = Store()
    pending = [item.study_id for item in db.list_worklist(db.cli_user(), "pending")][: args.clicks]
    db.dispose()
    port = free_port()
    proc = _serve(home, port)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium,
                                         args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            page.goto(f"http://127.0.0.1:{port}")
            page.locator(".st-key-login_name input").fill("cardiologist")
            page.locator(".st-key-login_password input").fill(password)
            page.locator(".st-key-login_submit button").click()
            expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
            for click, study_id in enumerate(pending):
                if click:  # back through the sidebar (a reload would sign out)
                    page.locator('[data-testid="stSidebarNav"]').get_by_text("Worklist").click()
                    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
                picker = page.locator(".st-key-worklist_pick input")
                picker.click()
                picker.fill(study_id)
                picker.press("Enter")
                page.locator(".st-key-worklist_open button").click()
                expect(page.get_by_role("heading", name="Draft")).to_be_visible()
                button = page.locator(".st-key-generate button")
                expect(button).to_be_visible()
                start = time.perf_counter()
                button.click()
                # poll the streaming container every 10 ms for its first character
                page.wait_for_function(
                    "() => { const e = document.querySelector('.st-key-draft_stream');"
                    " return e && e.innerText.trim().length > 0; }", polling=10)
                first = time.perf_counter() - start
                expect(page.locator(".st-key-edit_text textarea")).to_be_visible()
                done = time.perf_counter() - start
                label = "first click (loads the model)" if click == 0 else f"click {click + 1}"
                print(f"{label}: first streamed token {first:.2f} s, draft stored {done:.1f} s")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
