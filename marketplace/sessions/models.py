"""Service sessions (场次): one delivered instance of a contracted item at a venue.

Other modules rely on: ServiceSession (id, contract_id, line_id, provider_id, item_id, venue_id,
scheduled_at, planned_audience, state, reported_at, attendance, reported_late, decided_at,
acceptance_score, dispute_reason, missed_at) and SessionPhoto.

A session is scheduled from a contract line; the provider reports it (actual times, attendance,
photos, notes); the officer whose jurisdiction covers the venue confirms it with an acceptance
score (0–100) or disputes it with a reason. A session not reported in time is recorded as missed.
`provider_id` and `item_id` repeat the contract's so that evaluation aggregates sessions per
provider and per item in one query.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.items.models import Item
from core.accounts.models import User
from core.areas.models import Venue
from core.db import UTCDateTime, db, enum_column, utcnow
from marketplace.contracts.models import Contract, ContractLine
from marketplace.providers.models import Provider


class SessionState(enum.StrEnum):
    SCHEDULED = "scheduled"  # planned; not reported yet
    REPORTED = "reported"  # the provider reported it; the venue's officer has not decided
    CONFIRMED = "confirmed"  # accepted by the officer with a score, or by default once the window passed
    DISPUTED = "disputed"  # the officer disputes the report, with a reason
    MISSED = "missed"  # not reported within the allowed days: recorded as not delivered

    @property
    def label(self):
        return SESSION_STATE_LABELS[self]

    @property
    def delivered(self) -> bool:
        """The provider says it took place (a dispute does not erase the report)."""
        return self in (SessionState.REPORTED, SessionState.CONFIRMED, SessionState.DISPUTED)

    @property
    def final(self) -> bool:
        return self in (SessionState.CONFIRMED, SessionState.DISPUTED, SessionState.MISSED)


SESSION_STATE_LABELS = {
    SessionState.SCHEDULED: _l("Scheduled"),
    SessionState.REPORTED: _l("Reported, awaiting acceptance"),
    SessionState.CONFIRMED: _l("Accepted"),
    SessionState.DISPUTED: _l("Disputed"),
    SessionState.MISSED: _l("Missed"),
}


ATTENDANCE_CODE_DIGITS = 6


def new_attendance_code() -> str:
    """A fresh attendance code (签到码): six digits, easy to read out and to type on a phone."""
    return f"{secrets.randbelow(10 ** ATTENDANCE_CODE_DIGITS):0{ATTENDANCE_CODE_DIGITS}d}"


class ServiceSession(db.Model):
    __tablename__ = "service_sessions"
    __table_args__ = (
        CheckConstraint("planned_audience >= 0", name="planned_not_negative"),
        CheckConstraint("attendance IS NULL OR attendance >= 0", name="attendance_not_negative"),
        CheckConstraint("acceptance_score IS NULL OR (acceptance_score >= 0 AND acceptance_score <= 100)",
                        name="acceptance_range"),
        CheckConstraint("state NOT IN ('reported', 'confirmed', 'disputed') OR "
                        "(reported_at IS NOT NULL AND attendance IS NOT NULL AND reported_late IS NOT NULL)",
                        name="reported_has_report"),
        CheckConstraint("state NOT IN ('confirmed', 'disputed') OR decided_at IS NOT NULL", name="decided_has_time"),
        CheckConstraint("state <> 'disputed' OR dispute_reason <> ''", name="dispute_has_reason"),
        CheckConstraint("state <> 'confirmed' OR acceptance_score IS NOT NULL OR accepted_by_default",
                        name="confirmed_has_score"),
        CheckConstraint("state <> 'missed' OR missed_at IS NOT NULL", name="missed_has_time"),
        # Every column the performance model aggregates per provider, so it reads the index alone.
        Index("ix_service_sessions_provider_figures", "provider_id", "scheduled_at", "state", "decided_at",
              "acceptance_score", "reported_late"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("contract_lines.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    scheduled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    planned_audience: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[SessionState] = mapped_column(enum_column(SessionState, name="sessionstate"),
                                                default=SessionState.SCHEDULED, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    scheduled_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The provider's report.
    reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actual_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    actual_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attendance: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Reported after the days allowed for an on-time report (the punctuality figure).
    reported_late: Mapped[bool | None] = mapped_column(Boolean)
    # The venue officer's decision.
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acceptance_score: Mapped[int | None] = mapped_column(Integer)
    accepted_by_default: Mapped[bool] = mapped_column(Boolean, default=False)
    dispute_reason: Mapped[str] = mapped_column(Text, default="")
    decision_note: Mapped[str] = mapped_column(Text, default="")
    missed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Shown at the event by the provider (never on the public poster or QR code): a resident who
    # types it proves attendance, which is what makes a rating eligible.
    attendance_code: Mapped[str] = mapped_column(String(ATTENDANCE_CODE_DIGITS), default=new_attendance_code)

    contract: Mapped[Contract] = relationship(lazy="select")
    line: Mapped[ContractLine] = relationship(lazy="select")
    provider: Mapped[Provider] = relationship(lazy="select")
    item: Mapped[Item] = relationship(lazy="select")
    venue: Mapped[Venue] = relationship(lazy="select")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="select")
    photos: Mapped[list[SessionPhoto]] = relationship(
        back_populates="session", cascade="all, delete-orphan", lazy="select", order_by="SessionPhoto.position")

    def __repr__(self):
        return f"<ServiceSession {self.id} {self.state}>"

    @property
    def reference(self) -> str:
        return f"CC-{self.contract_id}-{self.id:05d}"

    def started(self, now: dt.datetime | None = None) -> bool:
        return (now or utcnow()) >= self.scheduled_at


class SessionPhoto(db.Model):
    """A photo of a delivered session: checked by content, re-encoded (metadata dropped) and stored
    by SHA-256 outside the web root."""

    __tablename__ = "session_photos"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("service_sessions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[ServiceSession] = relationship(back_populates="photos")
