"""Reading pages the way a user does."""

from __future__ import annotations

import re


def html_text(resp) -> str:
    """Visible text of a page, tags removed, for assertions on what a user reads."""
    body = resp.get_data(as_text=True)
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))
