"""Entry point of the copilot: sets up the page, the session and the navigation by role.

    streamlit run app/main.py --server.headless true
Roles are enforced by the library; the navigation only reflects them.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run app/main.py` puts only app/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import state  # noqa: E402

PAGES = {
    "login": st.Page("pages/login.py", title="Sign in", icon=":material/login:", url_path="login"),
    "worklist": st.Page("pages/worklist.py", title="Worklist", icon=":material/list:",
                        url_path="worklist"),
    "draft": st.Page("pages/draft.py", title="Draft", icon=":material/edit_note:", url_path="draft"),
    "reports": st.Page("pages/reports.py", title="Signed reports", icon=":material/verified:",
                       url_path="reports"),
    "admin": st.Page("pages/admin.py", title="Admin", icon=":material/admin_panel_settings:",
                     url_path="admin"),
    "account": st.Page("pages/account.py", title="Account", icon=":material/person:",
                       url_path="account"),
}

# Pages each role sees; the library refuses anything a role may not do whatever the page shows.
ROLE_PAGES = {
    "cardiologist": ["worklist", "draft", "reports", "account"],
    "reader": ["reports", "account"],
    "admin": ["admin", "worklist", "reports", "account"],
}

st.set_page_config(page_title="EchoGPT copilot", page_icon=":material/cardiology:", layout="wide")
state.init()
account = state.user()
names = ROLE_PAGES.get(str(getattr(account, "role", "")), []) if account else ["login"]
navigation = st.navigation([PAGES[n] for n in names] or [PAGES["account"]])
if account is not None:
    st.sidebar.caption(f"Signed in as **{account.name}** ({account.role})")
state.show_flash()
navigation.run()
