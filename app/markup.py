"""Text from data (studies, drafts, reasons, names, imported files, error lines that quote them)
shown through Streamlit's markdown elements exactly as it is: no image is fetched, no link, HTML,
colour, icon or formula is made of it. Pages pass every such piece through ``inert``.

    st.warning("Previous draft rejected: " + inert(reason))
"""

from __future__ import annotations

import re

_MARKUP = re.compile(r"([\\`*_\[\]()!<>#|~$&{}]|:(?=\S))")
"""What Markdown, GitHub's extensions and Streamlit's own (``:red[...]``, ``:material/x:``,
emoji shortcodes, ``$math$``; a colon only where a word follows) build on; each is
backslash-escaped, which Markdown shows as is."""

_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(?=://)|(?<=\bwww)(?=\.)")
"""Where a bare address (``http://…``, ``www.…``) starts: GitHub's markdown links those after
escapes are read, so an invisible word joiner (U+2060) goes there instead."""


def inert(text: object) -> str:
    """``text`` escaped so that markdown shows it character for character (bare addresses
    carry an invisible word joiner that keeps them from becoming links)."""
    return _MARKUP.sub(r"\\\1", _AUTOLINK.sub("\u2060", str(text)))
