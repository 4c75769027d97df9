"""Navigation by role: each package adds its entries to the app in its `init_app`, each entry
in a task group (a dropdown menu of the top bar); the base layout shows the ones the current user
may reach. A group the user reaches only one entry of shows as that entry alone, so the top bar
never holds more than one entry per group plus the few ungrouped ones (dashboard, inbox)."""

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
    group: str | None = None  # a group key (see add_group), None for a top-bar entry of its own


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: object  # lazy string
    order: int = 50


EXTENSION = "huimin.nav"
GROUPS_EXTENSION = "huimin.nav_groups"


def add(app: Flask, endpoint: str, label, order: int = 50, group: str | None = None) -> None:
    """Offer `endpoint` in this app's navigation, inside the task group `group` (a key given to
    add_group, by this package or another); adding it again replaces the entry."""
    app.extensions.setdefault(EXTENSION, {})[endpoint] = NavItem(endpoint, label, order, group)


def add_group(app: Flask, key: str, label, order: int = 50) -> None:
    """A task group of the top bar: its entries show as one dropdown menu named `label`."""
    app.extensions.setdefault(GROUPS_EXTENSION, {})[key] = NavGroup(key, label, order)


def entries(app: Flask) -> list[NavItem]:
    """This app's entries in display order (equal orders keep the order they were added in)."""
    return sorted(app.extensions.get(EXTENSION, {}).values(), key=lambda i: i.order)


def groups(app: Flask) -> dict[str, NavGroup]:
    return dict(app.extensions.get(GROUPS_EXTENSION, {}))


def _allowed(endpoint: str) -> bool:
    allowed = endpoint_access(endpoint) or frozenset()
    if PUBLIC in allowed:
        return True
    if not current_user.is_authenticated:
        return False
    return bool(AUTHENTICATED in allowed or current_user.roles & allowed)


def items_for_current_user() -> list[dict]:
    """The entries whose endpoint's access declaration admits the current user."""
    return [{"url": url_for(item.endpoint), "label": item.label, "endpoint": item.endpoint,
             "group": item.group} for item in entries(current_app) if _allowed(item.endpoint)]


def menu_for_current_user() -> list[dict]:
    """The top bar for the current user: a list of {"label", "items", "key", "order"}; an entry
    with one item is a plain link, one with more a dropdown menu. Ordered by the group's order (an
    ungrouped entry by its own)."""
    known = groups(current_app)
    top: dict[str, dict] = {}
    for item in items_for_current_user():
        group = known.get(item["group"]) if item["group"] else None
        if group is None:
            key = "item:" + item["endpoint"]
            order = next(e.order for e in entries(current_app) if e.endpoint == item["endpoint"])
            top[key] = {"key": key, "label": item["label"], "order": order, "items": [item]}
        else:
            top.setdefault(group.key, {"key": group.key, "label": group.label, "order": group.order,
                                       "items": []})["items"].append(item)
    return sorted(top.values(), key=lambda e: e["order"])
