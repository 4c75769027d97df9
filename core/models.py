"""Accounts, roles, the three-level area network, venues, settings, notifications."""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, db, utcnow


def enum_column(enum_cls, **kw):
    """An enum stored by value as a plain string with a CHECK, stable across backends."""
    return Enum(
        enum_cls,
        values_callable=lambda e: [m.value for m in e],
        native_enum=False,
        validate_strings=True,
        create_constraint=True,
        name=kw.pop("name", enum_cls.__name__.lower()),
        length=kw.pop("length", 32),
    )


class Role(enum.StrEnum):
    ADMIN = "admin"
    OFFICER = "officer"
    EXPERT = "expert"
    PROVIDER = "provider"
    RESIDENT = "resident"

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.OFFICER: _l("Officer"),
    Role.EXPERT: _l("Expert"),
    Role.PROVIDER: _l("Provider"),
    Role.RESIDENT: _l("Resident"),
}


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
    population: Mapped[int] = mapped_column(Integer, default=0)

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
    __table_args__ = (CheckConstraint("capacity >= 0", name="capacity_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[VenueKind] = mapped_column(enum_column(VenueKind))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    area: Mapped[Area] = relationship(lazy="joined", innerjoin=True)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised login: lower-case e-mail or an 11-digit mainland mobile number.
    login: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Officers: the area they act for (the district, or one town/street).
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    # Residents: the village/community they live in.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    # Rotated on disable and password change: every session and token minted before is void.
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="user"
    )
    jurisdiction: Mapped[Area | None] = relationship(foreign_keys=[jurisdiction_id], lazy="joined")
    community: Mapped[Area | None] = relationship(foreign_keys=[community_id], lazy="joined")

    def __repr__(self):
        return f"<User {self.login}>"

    # Flask-Login protocol
    @property
    def is_authenticated(self):
        return True

    @property
    def is_active(self):
        return self.active

    @property
    def is_anonymous(self):
        return False

    def get_id(self):
        return f"{self.id}:{self.session_token}"

    # Roles
    @property
    def roles(self) -> set[Role]:
        return {r.role for r in self.role_rows}

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    def set_roles(self, roles):
        wanted = {Role(r) for r in roles}
        self.role_rows = [r for r in self.role_rows if r.role in wanted]
        for role in wanted - {r.role for r in self.role_rows}:
            self.role_rows.append(UserRole(role=role))

    def end_sessions(self):
        self.session_token = secrets.token_hex(16)

    def covers_area(self, area: Area | None) -> bool:
        """Whether this officer's jurisdiction includes the area."""
        if area is None or self.jurisdiction is None:
            return False
        if self.jurisdiction.level == AreaLevel.DISTRICT:
            return True
        return self.jurisdiction_id in (area.id, area.town_id)


class UserRole(db.Model):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column(Role), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class LoginAttempt(db.Model):
    """Failed logins, kept in the database so every worker sees the same count."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The user's session_token at issue: rotating it (disable, password change) voids the token.
    session_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class Setting(db.Model):
    """An admin-changed value of a rule; rules not in this table take their coded default."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Notification(db.Model):
    """An in-app inbox message."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Holiday(db.Model):
    """Admin-entered statutory holidays and make-up working days for years the calendar
    package does not cover."""

    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column()
    is_workday: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(60), default="")
