"""Navigation by role: each package adds its entries to the app in its `init_app`; the base
layout shows the ones the current user may reach."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, url_for
from flask_login import current_user

from core.permissions import AUTHENTICATED, PUBLIC, endpoint_access


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # lazy string
    order: int = 50
    group: str = "main"  # "main" for the top bar, "public" for everyone's links


EXTENSION = "huimin.nav"


def add(app: Flask, endpoint: str, label, order: int = 50, group: str = "main") -> None:
    """Offer `endpoint` in this app's navigation; adding it again replaces the entry."""
    app.extensions.setdefault(EXTENSION, {})[endpoint] = NavItem(endpoint, label, order, group)


def entries(app: Flask) -> list[NavItem]:
    """This app's entries in display order (equal orders keep the order they were added in)."""
    return sorted(app.extensions.get(EXTENSION, {}).values(), key=lambda i: i.order)


def items_for_current_user() -> list[dict]:
    """The entries whose endpoint's access declaration admits the current user."""
    roles = current_user.roles if current_user.is_authenticated else set()
    out = []
    for item in entries(current_app):
        allowed = endpoint_access(item.endpoint) or frozenset()
        if PUBLIC in allowed or (current_user.is_authenticated and (AUTHENTICATED in allowed or roles & allowed)):
            out.append({"url": url_for(item.endpoint), "label": item.label, "endpoint": item.endpoint,
                        "group": item.group})
    return out
