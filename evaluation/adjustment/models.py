"""Adjustment decisions (动态调整): a rule's firing, its figures, the officer's decision and appeals."""

from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.items.models import Item
from core.accounts.models import User
from core.db import UTCDateTime, db, enum_column, utcnow
from evaluation.performance.models import PerformanceSnapshot
from marketplace.providers.models import Provider


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
