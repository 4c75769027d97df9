"""The three-level area network (district → town/street → village/community) and its venues."""

from __future__ import annotations

import enum
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, enum_column


class AreaLevel(enum.StrEnum):
    DISTRICT = "district"
    TOWN = "town"
    COMMUNITY = "community"

    @property
    def label(self):
        return {
            AreaLevel.DISTRICT: _l("District"),
            AreaLevel.TOWN: _l("Town / street"),
            AreaLevel.COMMUNITY: _l("Village / community"),
        }[self]


PARENT_LEVEL = {AreaLevel.TOWN: AreaLevel.DISTRICT, AreaLevel.COMMUNITY: AreaLevel.TOWN}


class Area(db.Model):
    """One node of the district → town/street → village/community network."""

    __tablename__ = "areas"
    __table_args__ = (
        CheckConstraint("population >= 0", name="population_not_negative"),
        CheckConstraint("latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude_range"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_paired"),
        CheckConstraint(
            "(level = 'district' AND parent_id IS NULL) OR (level <> 'district' AND parent_id IS NOT NULL)",
            name="parent_matches_level",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[AreaLevel] = mapped_column(enum_column(AreaLevel), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    population: Mapped[int] = mapped_column(Integer, default=0)  # resident population (常住人口)
    # WGS-84; for a village/community, its centre (the community service centre).
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))

    parent: Mapped[Area | None] = relationship(remote_side=[id], lazy="joined", innerjoin=False)

    def __repr__(self):
        return f"<Area {self.code} {self.name}>"

    @property
    def town_id(self) -> int | None:
        """The town/street this area lies in (itself for a town; None for the district)."""
        if self.level == AreaLevel.TOWN:
            return self.id
        if self.level == AreaLevel.COMMUNITY:
            return self.parent_id
        return None

    def path_name(self) -> str:
        names, node = [], self
        while node is not None and node.level != AreaLevel.DISTRICT:
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names)) or self.name


class VenueKind(enum.StrEnum):
    CULTURAL_CENTRE = "cultural_centre"
    CULTURAL_STATION = "cultural_station"
    CULTURAL_ROOM = "cultural_room"
    LIBRARY = "library"
    MUSEUM = "museum"
    SQUARE = "square"
    THEATRE = "theatre"
    OTHER = "other"

    @property
    def label(self):
        return VENUE_KIND_LABELS[self]


VENUE_KIND_LABELS = {
    VenueKind.CULTURAL_CENTRE: _l("Comprehensive cultural centre"),
    VenueKind.CULTURAL_STATION: _l("Town cultural station"),
    VenueKind.CULTURAL_ROOM: _l("Community cultural room"),
    VenueKind.LIBRARY: _l("Library"),
    VenueKind.MUSEUM: _l("Museum"),
    VenueKind.SQUARE: _l("Cultural square"),
    VenueKind.THEATRE: _l("Theatre"),
    VenueKind.OTHER: _l("Other"),
}


class Venue(db.Model):
    __tablename__ = "venues"
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude_range"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_paired"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[VenueKind] = mapped_column(enum_column(VenueKind))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))  # WGS-84
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))

    area: Mapped[Area] = relationship(lazy="joined", innerjoin=True)
