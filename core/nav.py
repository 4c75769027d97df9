"""Navigation by role: each module registers its entries; the base layout shows the ones the
current user may reach."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_login import current_user

from core.permissions import AUTHENTICATED, PUBLIC, endpoint_access


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # lazy string
    order: int = 50
    group: str = "main"  # "main" for the top bar, "public" for everyone's links


_ITEMS: list[NavItem] = []


def register(endpoint: str, label, order: int = 50, group: str = "main"):
    _ITEMS.append(NavItem(endpoint, label, order, group))


def items_for_current_user() -> list[dict]:
    """The entries whose endpoint's access declaration admits the current user."""
    roles = current_user.roles if current_user.is_authenticated else set()
    out = []
    for item in sorted(_ITEMS, key=lambda i: i.order):
        allowed = endpoint_access(item.endpoint) or frozenset()
        if PUBLIC in allowed or (current_user.is_authenticated and (AUTHENTICATED in allowed or roles & allowed)):
            out.append({"url": url_for(item.endpoint), "label": item.label, "endpoint": item.endpoint,
                        "group": item.group})
    return out
