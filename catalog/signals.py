"""Signals catalog sends; higher packages connect their receivers in their own `init_app`
(catalog never imports them)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent by the catalog item page once per section it offers, with the section's name as sender
# ("satisfaction", "purchases") and `item=`; a receiver connected for that name returns the
# section's markup, or None to leave the page's own text.
item_page_section = _signals.signal("item-page-section")

ITEM_SECTIONS = ("satisfaction", "purchases")


def item_sections(item) -> dict:
    """Each section's markup from its receivers (None where no receiver filled it)."""
    from core.signals import markup_for

    return {name: (markup_for(item_page_section, name, item=item) or [None])[0] for name in ITEM_SECTIONS}
