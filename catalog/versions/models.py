"""Catalog versions: the catalog as published for a year, with its entries frozen at publication."""

from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.items.models import ItemRevision
from core.accounts.models import User
from core.db import UTCDateTime, db, utcnow


class VersionPhase(enum.StrEnum):
    DRAFT = "draft"
    PUBLICITY = "publicity"
    IN_FORCE = "in_force"
    SUPERSEDED = "superseded"

    @property
    def label(self):
        return {
            VersionPhase.DRAFT: _l("Draft"),
            VersionPhase.PUBLICITY: _l("In publicity period"),
            VersionPhase.IN_FORCE: _l("In force"),
            VersionPhase.SUPERSEDED: _l("Superseded"),
        }[self]


class CatalogVersion(db.Model):
    """The catalog of one year: drafted, published for a publicity period (公示期), then in force
    until a later year's version comes into force. Publishing pins the revision of every item."""

    __tablename__ = "catalog_versions"
    __table_args__ = (
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_plausible"),
        CheckConstraint("(published_at IS NULL AND publicity_ends_at IS NULL) OR "
                        "(published_at IS NOT NULL AND publicity_ends_at > published_at)",
                        name="publicity_after_publishing"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(120))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    publicity_ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id], lazy="joined")

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def phase(self, now: dt.datetime | None = None, in_force_year: int | None = None) -> VersionPhase:
        """The phase at `now`; `in_force_year` is the year of the version in force then, when known,
        so that older published versions show as superseded."""
        now = now or utcnow()
        if self.published_at is None:
            return VersionPhase.DRAFT
        if now < self.publicity_ends_at:
            return VersionPhase.PUBLICITY
        if in_force_year is not None and in_force_year > self.year:
            return VersionPhase.SUPERSEDED
        return VersionPhase.IN_FORCE


class CatalogVersionEntry(db.Model):
    """An item as it stands in a published version: the revision pinned at publishing."""

    __tablename__ = "catalog_version_entries"

    version_id: Mapped[int] = mapped_column(ForeignKey("catalog_versions.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True, index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("item_revisions.id"), index=True)

    revision: Mapped[ItemRevision] = relationship(lazy="joined", innerjoin=True)
