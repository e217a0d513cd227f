"""Entry point of the copilot: sets up the page, the session and the navigation, which shows the
pages whose action the user's role may take (``echogpt.review.permissions``).

    streamlit run app/main.py --server.headless true
Permissions are enforced by the library; the navigation only reflects them.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run app/main.py` puts only app/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import services, signin, state  # noqa: E402
from app.markup import inert  # noqa: E402

# url path -> (file, title, icon). The folder is views/, not pages/: Streamlit also lists a pages/
# folder as old-style pages, and a deep link opened first after a server start then showed
# "Page not found" before st.navigation had run.
PAGES = {
    "login": ("views/login_page.py", "Sign in", ":material/login:"),
    "worklist": ("views/worklist_page.py", "Worklist", ":material/list:"),
    "draft": ("views/draft_page.py", "Draft", ":material/edit_note:"),
    "reports": ("views/reports_page.py", "Signed reports", ":material/verified:"),
    "admin": ("views/admin_page.py", "Admin", ":material/admin_panel_settings:"),
    "account": ("views/account_page.py", "Account", ":material/person:"),
    "batch": ("views/batch_page.py", "Batch", ":material/dynamic_feed:"),
    "reader": ("views/reader_page.py", "Reader study", ":material/rate_review:"),
    "reader-admin": ("views/reader_admin_page.py", "Reader studies", ":material/analytics:"),
}

# The action a page is for, in menu order (the first visible page is where one lands); a page
# shows when the permission table lets the user's role take its action. The library refuses
# anything a role may not do whatever the page shows.
PAGE_ACTIONS = {
    "admin": "users.manage",
    "worklist": "study.create",
    "draft": "draft.write",
    "reports": "study.read",
    "batch": "batch.run",
    "reader": "reader.rate",
    "reader-admin": "reader.manage",
    "account": None,  # every signed-in user
}


def pages_for(account: object | None) -> list[str]:
    """The pages the signed-in account sees (the sign-in page when nobody is signed in)."""
    if account is None:
        return ["login"]
    return [page for page, action in PAGE_ACTIONS.items()
            if action is None or services.may(account, action)]


def navigation_for(names: list[str]) -> list:
    """The visible pages, plus every other address as a hidden alias of the first page, so a
    link to a page the user cannot see (or signing in and out) lands there, not on an error."""
    visible = [st.Page(PAGES[n][0], title=PAGES[n][1], icon=PAGES[n][2], url_path=n) for n in names]
    landing = PAGES[names[0]]
    hidden = [st.Page(landing[0], title=landing[1], url_path=n, visibility="hidden")
              for n in PAGES if n not in names]
    return visible + hidden


st.set_page_config(page_title="EchoGPT copilot", page_icon=":material/cardiology:", layout="wide")
state.init()
signin.restore()  # a reload keeps the user signed in (session cookie or hospital identity)
account = state.user()
navigation = st.navigation(navigation_for(pages_for(account)))
if account is not None:
    st.sidebar.caption(f"Signed in as **{inert(account.name)}** ({account.role})")
state.show_flash()
signin.write_cookie()
try:
    navigation.run()
except Exception as exc:  # noqa: BLE001 - one line on the page, never a traceback
    services.log_failure("page", exc)
    st.error(f"Something went wrong: {inert(services.describe(exc))}")
