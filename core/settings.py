"""Rules with numbers: coded defaults that an admin may change, each change audited.

A module declares its settings as constants with `define()`; its package's `init_app` adds
them to the app with `add(app, ...)`. `get()` reads the stored value or the default;
`change()` validates, stores and audits; both know only the settings the app was given.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import JSON, ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from core import audit
from core.db import UTCDateTime, db, utcnow


@dataclass(frozen=True)
class SettingDef:
    key: str
    default: object
    label: object  # lazy string
    kind: type = int
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None  # a text setting must match it whole

    def parse(self, raw) -> object:
        """Convert input to the setting's type; raise ValueError with a reason."""
        try:
            if self.kind is bool:
                value = raw if isinstance(raw, bool) else str(raw).strip().lower() in ("1", "true", "yes", "on", "是")
            elif self.kind is Decimal:
                value = Decimal(str(raw).strip())
            elif self.kind is str:
                value = str(raw).strip()
            else:
                value = self.kind(str(raw).strip())
        except (ValueError, InvalidOperation):
            raise ValueError("not a valid value") from None
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"must be at most {self.maximum}")
        if self.pattern is not None and not re.fullmatch(self.pattern, str(value)):
            raise ValueError(f"must match {self.pattern}")
        return value


EXTENSION = "huimin.settings"


def define(key, default, label, kind=int, minimum=None, maximum=None, pattern=None) -> SettingDef:
    """Declare a setting (a constant); it exists in an app once a package `add`s it there."""
    return SettingDef(key, default, label, kind, minimum, maximum, pattern)


def add(app: Flask, *defs: SettingDef) -> None:
    """Give the app these settings (the admin page lists them; `get` and `change` accept them)."""
    known = app.extensions.setdefault(EXTENSION, {})
    for d in defs:
        known[d.key] = d


def definitions() -> dict[str, SettingDef]:
    """The current app's settings by key, in the order they were added."""
    return current_app.extensions.get(EXTENSION, {})


def _stored() -> dict:
    # Read all overrides once per request; settings are few.
    if has_app_context() and "settings_cache" in g:
        return g.settings_cache
    values = {s.key: s.value for s in db.session.scalars(select(Setting))}
    if has_app_context():
        g.settings_cache = values
    return values


def shown(value, html: bool = True):
    """A setting's value as the pages show it: yes/no in words (是/否, Yes/No), never True/False;
    in a page (`html`) a text value is marked as data."""
    from flask_babel import gettext

    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if not html:
        return value
    from core.i18n import as_data

    return as_data(value)  # a text setting is data (a name as entered)


def get(key: str):
    d = definitions()[key]
    stored = _stored()
    if key in stored:
        return d.parse(stored[key])
    return d.default


def change(key: str, raw, actor) -> object:
    d = definitions()[key]
    value = d.parse(raw)
    before = get(key)
    row = db.session.get(Setting, key)
    stored = str(value) if isinstance(value, Decimal) else value
    if row is None:
        row = Setting(key=key, value=stored)
        db.session.add(row)
    row.value = stored
    row.updated_at = utcnow()
    row.updated_by_id = actor.id if actor else None
    if has_app_context():
        g.pop("settings_cache", None)
    audit.record("setting.change", actor=actor, object_type="settings", object_id=key, before=before, after=value)
    return value


class Setting(db.Model):
    """An admin-changed value of a rule; rules not in this table take their coded default."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
