"""Awards (中标), challenges (质疑) and contracts, with their payment milestones.

Other modules rely on:
- Award (project_id, bid_id, provider_id, amount, top_ranked, reason, published_at,
  publicity_ends_at, challenge_deadline, status, score_summary) — at most one live
  (not void) award per project;
- Challenge (award_id, bid_id, provider_id, text, lodged_at, answer_due, status, outcome);
- Contract (project_id, award_id, provider_id, number, amount, sessions_total, state,
  start_date, end_date, lines, milestones, `venues`) with its states
  pending → active → completed | terminated (with reason); signed by the buyer (an officer)
  and by the provider, and active only once both have signed;
- ContractLine (item_id, venue_id, sessions — the number of sessions (场次) of that item
  to deliver at that venue —, unit_price, amount): issue 6 schedules sessions from these;
- PaymentMilestone (position, label, percent, amount, condition, due_date, paid_at).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts.models import User
from core.db import Money, UTCDateTime, db, enum_column, utcnow
from marketplace.bids.models import Bid
from marketplace.projects.models import PurchaseProject
from marketplace.providers.models import Provider


class AwardStatus(enum.StrEnum):
    PUBLISHED = "published"  # the result is public; publicity period and challenge window run
    VOID = "void"  # an upheld challenge or a cancellation voided it

    @property
    def label(self):
        return {AwardStatus.PUBLISHED: _l("Published"), AwardStatus.VOID: _l("Void")}[self]


class Award(db.Model):
    """The officer's award of a project to one bid, published as the award notice (中标公告).

    `top_ranked` says whether the bid was first in the review; when it was not, `reason`
    says why (shown publicly). `score_summary` is written by the review when it awards:
    {"result_id", "ranking": [{"rank", "bid_id", "provider_name", "price", "total"}, …]}.
    """

    __tablename__ = "awards"
    __table_args__ = (
        CheckConstraint("top_ranked OR reason <> ''", name="not_top_has_reason"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status <> 'void' OR (voided_at IS NOT NULL AND void_reason <> '')", name="void_has_reason"),
        CheckConstraint("challenge_deadline >= publicity_ends_at", name="window_after_publicity"),
        # One live award per project.
        Index("uq_awards_live_project", "project_id", unique=True,
              sqlite_where=text("status = 'published'"), postgresql_where=text("status = 'published'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("purchase_projects.id"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)  # the awarded bid's price
    top_ranked: Mapped[bool] = mapped_column(default=True)
    top_bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"))  # first in the review's ranking
    reason: Mapped[str] = mapped_column(Text, default="")
    score_summary: Mapped[dict] = mapped_column(JSON, default=dict)
    awarded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Indexed: the dashboards and the briefing sum the awards of a month and of the year so far.
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Both counted in Chinese working days from the publication (core.workdays.working_deadline).
    publicity_ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    challenge_deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[AwardStatus] = mapped_column(enum_column(AwardStatus), default=AwardStatus.PUBLISHED, index=True)
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When the scheduler recorded the close of the challenge window (and told the officer).
    window_closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str] = mapped_column(Text, default="")

    project: Mapped[PurchaseProject] = relationship(lazy="joined", innerjoin=True)
    bid: Mapped[Bid] = relationship(foreign_keys=[bid_id], lazy="joined", innerjoin=True)
    top_bid: Mapped[Bid] = relationship(foreign_keys=[top_bid_id], lazy="select")
    provider: Mapped[Provider] = relationship(lazy="joined", innerjoin=True)
    awarded_by: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    challenges: Mapped[list[Challenge]] = relationship(
        back_populates="award", lazy="selectin", order_by="Challenge.lodged_at")

    @property
    def live(self) -> bool:
        return self.status == AwardStatus.PUBLISHED

    def window_open(self, now: dt.datetime | None = None) -> bool:
        """Challenges may still be lodged."""
        return self.live and (now or utcnow()) <= self.challenge_deadline

    def in_publicity(self, now: dt.datetime | None = None) -> bool:
        return self.live and (now or utcnow()) <= self.publicity_ends_at

    @property
    def pending_challenges(self) -> list[Challenge]:
        return [c for c in self.challenges if c.status == ChallengeStatus.PENDING]


class ChallengeStatus(enum.StrEnum):
    PENDING = "pending"
    DISMISSED = "dismissed"
    UPHELD = "upheld"

    @property
    def label(self):
        return {
            ChallengeStatus.PENDING: _l("Waiting for an answer"),
            ChallengeStatus.DISMISSED: _l("Dismissed"),
            ChallengeStatus.UPHELD: _l("Upheld"),
        }[self]


class ChallengeOutcome(enum.StrEnum):
    """What an upheld challenge does to the project."""

    REVIEW_AGAIN = "review_again"  # the award is void and the panel reviews again
    CANCEL = "cancel"  # the award is void and the project is cancelled

    @property
    def label(self):
        return {
            ChallengeOutcome.REVIEW_AGAIN: _l("Back to review"),
            ChallengeOutcome.CANCEL: _l("Project cancelled"),
        }[self]


class Challenge(db.Model):
    """A bidder's formal objection (质疑) to a published award, lodged inside the window.
    The officer answers by `answer_due` (working days after lodging)."""

    __tablename__ = "challenges"
    __table_args__ = (
        CheckConstraint("text <> ''", name="has_text"),
        CheckConstraint("(status = 'pending') = (answered_at IS NULL)", name="answered_has_time"),
        CheckConstraint("status = 'pending' OR answer <> ''", name="answer_has_text"),
        CheckConstraint("(status = 'upheld') = (outcome IS NOT NULL)", name="upheld_has_outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("purchase_projects.id"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), index=True)  # the challenger's bid
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    lodged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    lodged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer_due: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[ChallengeStatus] = mapped_column(enum_column(ChallengeStatus), default=ChallengeStatus.PENDING,
                                                    index=True)
    outcome: Mapped[ChallengeOutcome | None] = mapped_column(enum_column(ChallengeOutcome))
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    award: Mapped[Award] = relationship(back_populates="challenges")
    provider: Mapped[Provider] = relationship(lazy="joined", innerjoin=True)
    attachments: Mapped[list[ChallengeAttachment]] = relationship(
        back_populates="challenge", cascade="all, delete-orphan", lazy="selectin", order_by="ChallengeAttachment.id")


class ChallengeAttachment(db.Model):
    """A file supporting a challenge, stored by SHA-256 outside the web root."""

    __tablename__ = "challenge_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    challenge: Mapped[Challenge] = relationship(back_populates="attachments")


