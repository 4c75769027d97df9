"""Accounts: users, their roles, sign-in attempts and API tokens."""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.areas.models import Area, AreaLevel
from core.db import UTCDateTime, db, enum_column, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    OFFICER = "officer"
    EXPERT = "expert"
    PROVIDER = "provider"
    RESIDENT = "resident"
    ASSESSOR = "assessor"
    SUPERVISOR = "supervisor"

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.OFFICER: _l("Officer"),
    Role.EXPERT: _l("Expert"),
    Role.PROVIDER: _l("Provider"),
    Role.RESIDENT: _l("Resident"),
    Role.ASSESSOR: _l("Assessor"),
    Role.SUPERVISOR: _l("Supervisor"),
}


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
    # Raised on logout: every copy of a session cookie minted before is void, on every server
    # (the user loader compares it on each request); API tokens are left alone.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set after very many failed sign-ins from any addresses: no sign-in until then (or until an
    # administrator lifts the lock).
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
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
        return f"{self.id}:{self.session_token}:{self.session_epoch or 0}"

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
        """Void every session cookie and API token of this user."""
        self.session_token = secrets.token_hex(16)

    def end_browser_sessions(self):
        """Void every session cookie of this user (API tokens stay valid)."""
        self.session_epoch = (self.session_epoch or 0) + 1

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > utcnow()

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


class PhoneCode(db.Model):
    """A one-time sign-in code sent by SMS. Only a keyed hash of it is stored; it is valid for a few
    minutes, used once, and dies after a few wrong tries."""

    __tablename__ = "phone_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)  # 11-digit mainland mobile number
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A keyed hash of the requesting address (no address is kept in clear).
    address_hash: Mapped[str] = mapped_column(String(64), default="")
