"""What residents and officers say about delivered sessions, and what the market does with it.

Other modules rely on: Rating (one per resident per session), Complaint, PerformanceSnapshot
(every computation of a provider's performance score, kept so that any past review can be
explained), AdjustmentDecision (a rule's proposal and what became of it).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts.models import User
from core.db import UTCDateTime, db, enum_column, utcnow
from marketplace.providers.models import Provider
from marketplace.sessions.models import ServiceSession

# --- ratings ---------------------------------------------------------------------------------


class RatingStatus(enum.StrEnum):
    COUNTED = "counted"  # enters the scores
    FLAGGED = "flagged"  # suspicious: kept out of the scores until an officer reviews it
    REJECTED = "rejected"  # an officer found it not genuine: never counted

    @property
    def label(self):
        return {
            RatingStatus.COUNTED: _l("Counted"),
            RatingStatus.FLAGGED: _l("Flagged for review"),
            RatingStatus.REJECTED: _l("Rejected"),
        }[self]


class FlagReason(enum.StrEnum):
    OVER_ATTENDANCE = "over_attendance"  # more ratings than the reported attendance
    BURST = "burst"  # several ratings from one address within a few minutes

    @property
    def label(self):
        return {
            FlagReason.OVER_ATTENDANCE: _l("More ratings than the reported attendance"),
            FlagReason.BURST: _l("Several ratings from one address within minutes"),
        }[self]


class Rating(db.Model):
    """A resident's rating of one session: 1–5 stars on three dimensions and an optional comment."""

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("session_id", "resident_id"),
        CheckConstraint("content BETWEEN 1 AND 5", name="content_stars"),
        CheckConstraint("organisation BETWEEN 1 AND 5", name="organisation_stars"),
        CheckConstraint("venue BETWEEN 1 AND 5", name="venue_stars"),
        CheckConstraint("status <> 'flagged' OR flag_reason IS NOT NULL", name="flag_has_reason"),
        CheckConstraint("comment_hidden_at IS NULL OR hidden_reason <> ''", name="hidden_has_reason"),
        # A provider's counted ratings by time, with the stars: the profile's latest comments, and
        # the per-provider aggregates of the performance model read from the index alone.
        Index("ix_ratings_provider_status_time", "provider_id", "status", "created_at", "content", "organisation",
              "venue"),
        # Counted ratings by time, with item and stars: items' 12-month satisfaction and the district's
        # mean from the index alone.
        Index("ix_ratings_status_time_item", "status", "created_at", "item_id", "content", "organisation", "venue"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("service_sessions.id"), index=True)
    # Repeated from the session so scores aggregate without joins.
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    content: Mapped[int] = mapped_column(SmallInteger)
    organisation: Mapped[int] = mapped_column(SmallInteger)
    venue: Mapped[int] = mapped_column(SmallInteger)  # venue and experience
    comment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[RatingStatus] = mapped_column(enum_column(RatingStatus), default=RatingStatus.COUNTED, index=True)
    flag_reason: Mapped[FlagReason | None] = mapped_column(enum_column(FlagReason))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_note: Mapped[str] = mapped_column(Text, default="")
    # A keyed hash of the client address: enough to see a burst, not to find the person.
    address_hash: Mapped[str] = mapped_column(String(64), default="", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The provider's public answer.
    reply: Mapped[str] = mapped_column(Text, default="")
    replied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # An officer hid an abusive comment's text (the stars still count).
    comment_hidden_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    comment_hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str] = mapped_column(Text, default="")

    session: Mapped[ServiceSession] = relationship(lazy="select")
    provider: Mapped[Provider] = relationship(lazy="select")
    resident: Mapped[User] = relationship(foreign_keys=[resident_id], lazy="select")

    @property
    def stars(self) -> Decimal:
        """The mean of the three dimensions, as scores use it."""
        return (Decimal(self.content + self.organisation + self.venue) / 3).quantize(Decimal("0.01"))

    @property
    def counted(self) -> bool:
        return self.status == RatingStatus.COUNTED


# --- complaints ------------------------------------------------------------------------------


class ComplaintStatus(enum.StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"
    DISMISSED = "dismissed"

    @property
    def label(self):
        return {
            ComplaintStatus.PENDING: _l("Waiting for a decision"),
            ComplaintStatus.UPHELD: _l("Upheld"),
            ComplaintStatus.DISMISSED: _l("Dismissed"),
        }[self]


class Complaint(db.Model):
    """A resident's complaint about a session. Upheld complaints count against the provider."""

    __tablename__ = "complaints"
    __table_args__ = (
        CheckConstraint("text <> ''", name="has_text"),
        CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="decided_has_time"),
        CheckConstraint("status = 'pending' OR reason <> ''", name="decision_has_reason"),
        # One open complaint per resident and session.
        Index("uq_complaints_pending", "session_id", "resident_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("service_sessions.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[ComplaintStatus] = mapped_column(enum_column(ComplaintStatus), default=ComplaintStatus.PENDING,
                                                    index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    session: Mapped[ServiceSession] = relationship(lazy="select")
    provider: Mapped[Provider] = relationship(lazy="select")


# --- performance -----------------------------------------------------------------------------


# --- adjustment rules and decisions ----------------------------------------------------------


