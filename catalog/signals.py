"""Places on the item page that higher modules fill (catalog never imports them).

    from catalog import hooks
    hooks.register_item_section("satisfaction", lambda item: Markup(...))   # evaluation
    hooks.register_item_section("purchases", lambda item: Markup(...))      # marketplace

A section's function takes the Item and returns markup (or None to show the placeholder).
"""

from __future__ import annotations

ITEM_SECTIONS = ("satisfaction", "purchases")
_SECTIONS: dict[str, object] = {}


def register_item_section(key: str, fn) -> None:
    if key not in ITEM_SECTIONS:
        raise ValueError(f"unknown item section {key!r}; one of {ITEM_SECTIONS}")
    _SECTIONS[key] = fn


def render_item_section(key: str, item):
    fn = _SECTIONS.get(key)
    return fn(item) if fn else None
