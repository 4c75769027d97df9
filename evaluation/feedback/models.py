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
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.items.models import Item
from core.db import Fixed, UTCDateTime, db, utcnow
from core.models import User, enum_column
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


class PerformanceRun(db.Model):
    """One full recompute: the district figures every provider's score of the run used. Between
    full recomputes a provider's update after a rating or decision takes its own figures as they
    are now and the district's from the latest run, so one rating costs a few indexed reads
    instead of a scan of the whole district (the district's mean moves by ~1/N per rating)."""

    __tablename__ = "performance_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(String(40), unique=True)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    model_version: Mapped[str] = mapped_column(String(20))
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    prior_mean: Mapped[Decimal] = mapped_column(Fixed(8, 6))
    acceptance: Mapped[Decimal | None] = mapped_column(Fixed(10, 6))
    punctuality: Mapped[Decimal | None] = mapped_column(Fixed(10, 6))
    providers: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=0)


class PerformanceSnapshot(db.Model):
    """One computation of one provider's performance score: every input, every component and the
    model it used. `trigger` says what caused it ("recompute", "rating", "review", …); rows of one
    full recompute share a `run_id`."""

    __tablename__ = "performance_snapshots"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        Index("ix_performance_snapshots_provider_time", "provider_id", "computed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    run_id: Mapped[str] = mapped_column(String(40), index=True)
    trigger: Mapped[str] = mapped_column(String(20))
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    model_version: Mapped[str] = mapped_column(String(20))
    # The model's parameters as used: weights, prior weight, half-life, complaint penalty.
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    # Satisfaction (1–5): counted ratings, their decayed weight and weighted sum; the prior.
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_weight: Mapped[Decimal] = mapped_column(Fixed(14, 6), default=Decimal(0))
    rating_weighted_sum: Mapped[Decimal] = mapped_column(Fixed(14, 6), default=Decimal(0))
    prior_mean: Mapped[Decimal] = mapped_column(Fixed(8, 6))
    satisfaction: Mapped[Decimal] = mapped_column(Fixed(8, 6))
    # Acceptance (0–100): decided sessions (a dispute counts 0) and their decayed mean.
    acceptance_count: Mapped[int] = mapped_column(Integer, default=0)
    acceptance: Mapped[Decimal] = mapped_column(Fixed(10, 6))
    acceptance_from_district: Mapped[bool] = mapped_column(Boolean, default=False)
    # Punctuality (0–100): sessions due (reported or missed) and the decayed share reported on time.
    due_count: Mapped[int] = mapped_column(Integer, default=0)
    on_time_count: Mapped[int] = mapped_column(Integer, default=0)
    punctuality: Mapped[Decimal] = mapped_column(Fixed(10, 6))
    punctuality_from_district: Mapped[bool] = mapped_column(Boolean, default=False)
    # Complaints: upheld complaints per 100 delivered sessions.
    delivered_count: Mapped[int] = mapped_column(Integer, default=0)
    complaints_upheld: Mapped[int] = mapped_column(Integer, default=0)
    complaints_per_100: Mapped[Decimal] = mapped_column(Fixed(12, 6), default=Decimal(0))
    # Each component as 0–100, then weighted into the score.
    satisfaction_points: Mapped[Decimal] = mapped_column(Fixed(10, 6))
    acceptance_points: Mapped[Decimal] = mapped_column(Fixed(10, 6))
    punctuality_points: Mapped[Decimal] = mapped_column(Fixed(10, 6))
    complaint_points: Mapped[Decimal] = mapped_column(Fixed(10, 6))
    score: Mapped[Decimal] = mapped_column(Fixed(5, 2))
    grade: Mapped[str] = mapped_column(String(1))

    provider: Mapped[Provider] = relationship(lazy="select")


# --- adjustment rules and decisions ----------------------------------------------------------


class DecisionAction(enum.StrEnum):
    SUSPEND = "suspend"  # the provider may not bid until a date
    WARN = "warn"  # a written warning to the provider
    WATCH = "watch"  # the item is put on watch (no new projects)
    RETIRE = "retire"  # the item leaves the catalog
    RESTORE = "restore"  # an item on watch returns to active
    MORE_BUDGET = "more_budget"  # the item is flagged for more budget

    @property
    def label(self):
        return {
            DecisionAction.SUSPEND: _l("Suspend from bidding"),
            DecisionAction.WARN: _l("Warning"),
            DecisionAction.WATCH: _l("Put the item on watch"),
            DecisionAction.RETIRE: _l("Retire the item"),
            DecisionAction.RESTORE: _l("Return the item to active"),
            DecisionAction.MORE_BUDGET: _l("Flag the item for more budget"),
        }[self]


class DecisionStatus(enum.StrEnum):
    PROPOSED = "proposed"  # a rule fired; waiting for an officer or for the automatic date
    CONFIRMED = "confirmed"  # an officer confirmed it; in effect
    AUTO_APPLIED = "auto_applied"  # nobody acted within the set days; in effect
    OVERRIDDEN = "overridden"  # an officer set it aside, with a reason
    REVERSED = "reversed"  # an appeal was upheld: its effect was undone

    @property
    def label(self):
        return {
            DecisionStatus.PROPOSED: _l("Proposed"),
            DecisionStatus.CONFIRMED: _l("Confirmed"),
            DecisionStatus.AUTO_APPLIED: _l("Applied automatically"),
            DecisionStatus.OVERRIDDEN: _l("Overridden"),
            DecisionStatus.REVERSED: _l("Reversed on appeal"),
        }[self]

    @property
    def in_effect(self) -> bool:
        return self in (DecisionStatus.CONFIRMED, DecisionStatus.AUTO_APPLIED)


class AppealStatus(enum.StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"
    DISMISSED = "dismissed"

    @property
    def label(self):
        return {
            AppealStatus.PENDING: _l("Appeal waiting for an answer"),
            AppealStatus.UPHELD: _l("Appeal upheld"),
            AppealStatus.DISMISSED: _l("Appeal dismissed"),
        }[self]


class AdjustmentDecision(db.Model):
    """A rule's firing: what it proposes, the rule version, the figures behind it, and what became
    of it (confirmed, overridden with a reason, or applied automatically after the set days)."""

    __tablename__ = "adjustment_decisions"
    __table_args__ = (
        CheckConstraint("(provider_id IS NULL) <> (item_id IS NULL)", name="one_subject"),
        CheckConstraint("status <> 'overridden' OR override_reason <> ''", name="override_has_reason"),
        CheckConstraint("status = 'proposed' OR decided_at IS NOT NULL", name="decided_has_time"),
        CheckConstraint("appeal_status IS NULL OR (appealed_at IS NOT NULL AND appeal_text <> '')",
                        name="appeal_has_text"),
        CheckConstraint("appeal_status IS NULL OR appeal_status = 'pending' OR appeal_answer <> ''",
                        name="appeal_answer_has_text"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(40), index=True)
    rule_version: Mapped[str] = mapped_column(String(20))
    action: Mapped[DecisionAction] = mapped_column(enum_column(DecisionAction), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    # The numbers the rule looked at (its explanation is written from them).
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("performance_snapshots.id"))
    proposed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # When it takes effect by itself if no officer acts first.
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[DecisionStatus] = mapped_column(enum_column(DecisionStatus), default=DecisionStatus.PROPOSED,
                                                   index=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    override_reason: Mapped[str] = mapped_column(Text, default="")
    # A suspension's end, fixed when it takes effect.
    effective_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The provider's appeal.
    appeal_text: Mapped[str] = mapped_column(Text, default="")
    appealed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    appeal_status: Mapped[AppealStatus | None] = mapped_column(enum_column(AppealStatus))
    appeal_answer: Mapped[str] = mapped_column(Text, default="")
    appeal_decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    appeal_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    provider: Mapped[Provider | None] = relationship(lazy="select")
    item: Mapped[Item | None] = relationship(lazy="select")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="select")
    snapshot: Mapped[PerformanceSnapshot | None] = relationship(lazy="select")

    @property
    def subject_name(self) -> str:
        if self.provider is not None:
            return self.provider.name
        return f"{self.item.code} {self.item.name}" if self.item is not None else ""
