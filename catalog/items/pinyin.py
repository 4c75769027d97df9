"""Pinyin search keys for catalog names: full pinyin and initials, lower-case, letters and digits only.

"文艺演出进社区" → ("wenyiyanchujinshequ", "wyycjsq"); latin letters and digits are kept as they are.
"""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin

_KEEP = re.compile(r"[^a-z0-9]+")


def _join(parts) -> str:
    return _KEEP.sub("", "".join(parts).lower())


def pinyin_keys(text: str | None) -> tuple[str, str]:
    text = text or ""
    return _join(lazy_pinyin(text)), _join(lazy_pinyin(text, style=Style.FIRST_LETTER))


def pinyin_query(q: str) -> str | None:
    """The query as a pinyin key when it is written in latin letters and digits (spaces and
    punctuation dropped: "wen yi" → "wenyi"); None when it holds Chinese or other text."""
    q = (q or "").strip().lower()
    if not q or not q.isascii():
        return None
    key = _KEEP.sub("", q)
    return key or None
