"""Expert database, panels and the review: every number that decides an award is stored here.

Other modules rely on: Expert (id, user_id, name, employer, employer_credit_code, active,
specialties), Panel (project_id, seed, candidates, members), PanelMember, Score,
QualificationCheck, ReviewResult (the computed review of a project: one current row per
project, older ones superseded) with ReviewBidResult (per bid: price, price points,
performance snapshot and points, subjective points, total, rank) and ReviewLine (per bid per
subjective criterion: the mean and how it was reached), ReviewFlag.

The panel draw is reproducible by anyone: each eligible expert's draw key is
SHA-256("<seed>:<expert id>") in hex; the candidates in ascending key order form the ordered
candidate list; the panel is its first N; a recusal is replaced by the next one not yet used.
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
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts.models import User
from core.db import Fixed, Money, UTCDateTime, db, enum_column, utcnow
from evaluation.experts.models import Expert
from marketplace.bids.models import Bid
from marketplace.projects.models import Criterion, PurchaseProject
from marketplace.providers.models import Provider


class PanelStatus(enum.StrEnum):
    SCORING = "scoring"  # drawn; members confirm, check qualifications and score
    SIGNED_OFF = "signed_off"  # every member submitted and the leader signed the report

    @property
    def label(self):
        return {PanelStatus.SCORING: _l("Scoring"), PanelStatus.SIGNED_OFF: _l("Signed off")}[self]


class Panel(db.Model):
    """The review panel (评标委员会) drawn for one project, with the record of its draw.

    `pool` is every expert considered, each {expert_id, name, key, eligible, reason}: the
    eligible ones in draw order form `candidates` (expert ids), the excluded ones carry the
    reason they were skipped. `size` is the number of members the panel must have.
    """

    __tablename__ = "panels"
    __table_args__ = (
        CheckConstraint("size >= 1 AND size % 2 = 1", name="size_odd"),
        CheckConstraint("status <> 'signed_off' OR signed_off_at IS NOT NULL", name="signed_off_has_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("purchase_projects.id"), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    seed: Mapped[str] = mapped_column(String(64))
    # What the draw was asked for: the project's categories, budget, bidders' credit codes, the year.
    category_ids: Mapped[list] = mapped_column(JSON, default=list)
    bidder_credit_codes: Mapped[list] = mapped_column(JSON, default=list)
    budget: Mapped[Decimal] = mapped_column(Money)
    repeat_limit: Mapped[int] = mapped_column(Integer, default=0)  # 0: the rule was off
    pool: Mapped[list] = mapped_column(JSON, default=list)
    candidates: Mapped[list] = mapped_column(JSON, default=list)  # eligible expert ids in draw order
    drawn_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    drawn_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[PanelStatus] = mapped_column(enum_column(PanelStatus), default=PanelStatus.SCORING)
    signed_off_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The draw re-run from this record when it was made and after each recusal (draw.check): the
    # report shows this; the public draw record re-runs it whenever it is opened.
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    check_matched: Mapped[bool | None] = mapped_column(Boolean)

    project: Mapped[PurchaseProject] = relationship(lazy="joined", innerjoin=True)
    drawn_by: Mapped[User] = relationship(foreign_keys=[drawn_by_id], lazy="joined")
    signed_off_by: Mapped[User | None] = relationship(foreign_keys=[signed_off_by_id], lazy="joined")
    members: Mapped[list[PanelMember]] = relationship(
        back_populates="panel", cascade="all, delete-orphan", lazy="selectin", order_by="PanelMember.draw_position")

    @property
    def seated(self) -> list[PanelMember]:
        """The members who serve (drawn or confirmed, not recused), in draw order."""
        return [m for m in self.members if m.status != MemberStatus.RECUSED]

    @property
    def leader(self) -> PanelMember | None:
        return next((m for m in self.seated if m.is_leader), None)

    def member_for(self, user) -> PanelMember | None:
        uid = getattr(user, "id", None)
        return next((m for m in self.seated if m.expert.user_id == uid), None)

    @property
    def all_submitted(self) -> bool:
        seated = self.seated
        return len(seated) == self.size and all(m.submitted_at is not None for m in seated)


class MemberStatus(enum.StrEnum):
    DRAWN = "drawn"  # not yet confirmed "no conflict"
    CONFIRMED = "confirmed"  # declared no conflict on first opening the project
    RECUSED = "recused"  # withdrew for a conflict; a replacement was drawn

    @property
    def label(self):
        return {
            MemberStatus.DRAWN: _l("Drawn, not yet confirmed"),
            MemberStatus.CONFIRMED: _l("Confirmed no conflict"),
            MemberStatus.RECUSED: _l("Recused"),
        }[self]


class PanelMember(db.Model):
    """An expert drawn onto a panel. `draw_position` is their index in the panel's candidate
    list; a replacement names the member it replaces."""

    __tablename__ = "panel_members"
    __table_args__ = (
        UniqueConstraint("panel_id", "expert_id"),
        UniqueConstraint("panel_id", "draw_position"),
        CheckConstraint("status <> 'confirmed' OR confirmed_at IS NOT NULL", name="confirmed_has_time"),
        CheckConstraint("status <> 'recused' OR (recused_at IS NOT NULL AND recusal_reason <> '')",
                        name="recusal_has_reason"),
        CheckConstraint("submitted_at IS NULL OR status = 'confirmed'", name="submitted_is_confirmed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"), index=True)
    draw_position: Mapped[int] = mapped_column(Integer)
    status: Mapped[MemberStatus] = mapped_column(enum_column(MemberStatus, name="panelmemberstatus"),
                                                 default=MemberStatus.DRAWN)
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("panel_members.id"))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    recused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    recusal_reason: Mapped[str] = mapped_column(Text, default="")
    # Submitting locks the member's scores; a challenge sending the project back to review unlocks.
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    panel: Mapped[Panel] = relationship(back_populates="members")
    expert: Mapped[Expert] = relationship(lazy="joined", innerjoin=True)
    replaces: Mapped[PanelMember | None] = relationship(remote_side=[id], lazy="select")

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None


class Score(db.Model):
    """One expert's score of one bid on one subjective criterion. A score at either end of the
    criterion's range carries a one-line reason."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("member_id", "bid_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("panel_members.id", ondelete="CASCADE"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"), index=True)
    score: Mapped[Decimal] = mapped_column(Fixed(5, 2))
    reason: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    member: Mapped[PanelMember] = relationship(lazy="joined", innerjoin=True)
    bid: Mapped[Bid] = relationship(lazy="select")
    criterion: Mapped[Criterion] = relationship(lazy="select")


class QualificationCheck(db.Model):
    """The panel's pass/fail finding on one qualification criterion for one bid, with its reason
    (recorded by the panel leader). A failed check makes the bid invalid."""

    __tablename__ = "qualification_checks"
    __table_args__ = (
        UniqueConstraint("panel_id", "bid_id", "criterion_id"),
        CheckConstraint("reason <> ''", name="has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    passed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("panel_members.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    criterion: Mapped[Criterion] = relationship(lazy="joined", innerjoin=True)


class ReviewResult(db.Model):
    """The computed review of a project: inputs, rules applied and rounding, then one row per bid.

    Computed when the last member submits; the leader's sign-off freezes it. A challenge upheld
    back to review marks it superseded (kept for the record) and a new one is computed later.
    """

    __tablename__ = "review_results"
    __table_args__ = (
        CheckConstraint("superseded_at IS NULL OR superseded_reason <> ''", name="superseded_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("purchase_projects.id"), index=True)
    number: Mapped[int] = mapped_column(Integer, default=1)  # 1 for the first review, 2 after a re-review …
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Formula inputs.
    lowest_valid_price: Mapped[Decimal | None] = mapped_column(Money)  # 评标基准价
    price_weight: Mapped[Decimal] = mapped_column(Fixed(5, 2))
    performance_weight: Mapped[Decimal] = mapped_column(Fixed(5, 2))
    performance_prior: Mapped[Decimal] = mapped_column(Fixed(5, 2))
    panel_size: Mapped[int] = mapped_column(Integer)
    trimmed: Mapped[bool] = mapped_column(Boolean)  # highest and lowest score dropped per criterion
    deviation_percent: Mapped[Decimal] = mapped_column(Fixed(5, 2))  # flag threshold, % of the range
    rounding: Mapped[str] = mapped_column(String(200))  # how numbers were rounded, in words
    signed_off_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("panel_members.id"))
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    superseded_reason: Mapped[str] = mapped_column(Text, default="")

    panel: Mapped[Panel] = relationship(lazy="joined", innerjoin=True)
    signed_off_by: Mapped[PanelMember | None] = relationship(lazy="joined")
    bids: Mapped[list[ReviewBidResult]] = relationship(
        back_populates="result", cascade="all, delete-orphan", lazy="selectin",
        order_by="(ReviewBidResult.rank.is_(None), ReviewBidResult.rank, ReviewBidResult.id)")
    flags: Mapped[list[ReviewFlag]] = relationship(
        back_populates="result", cascade="all, delete-orphan", lazy="selectin", order_by="ReviewFlag.id")

    @property
    def current(self) -> bool:
        return self.superseded_at is None

    @property
    def ranked(self) -> list[ReviewBidResult]:
        return [b for b in self.bids if b.rank is not None]

    @property
    def top(self) -> ReviewBidResult | None:
        return next(iter(self.ranked), None)


class ReviewBidResult(db.Model):
    """One bid's line of the review: formula inputs and outputs, total and rank (NULL if invalid)."""

    __tablename__ = "review_bid_results"
    __table_args__ = (
        UniqueConstraint("result_id", "bid_id"),
        CheckConstraint("valid OR invalid_reason <> ''", name="invalid_has_reason"),
        CheckConstraint("valid OR rank IS NULL", name="invalid_unranked"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("review_results.id", ondelete="CASCADE"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    provider_name: Mapped[str] = mapped_column(String(200))
    price: Mapped[Decimal] = mapped_column(Money)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    valid: Mapped[bool] = mapped_column(Boolean)
    invalid_reason: Mapped[str] = mapped_column(Text, default="")
    price_points: Mapped[Decimal | None] = mapped_column(Fixed(7, 2))
    # The provider's performance score at opening (0–100), or the prior when it had none.
    performance_snapshot: Mapped[Decimal | None] = mapped_column(Fixed(5, 2))
    performance_from_prior: Mapped[bool] = mapped_column(Boolean, default=False)
    performance_points: Mapped[Decimal | None] = mapped_column(Fixed(7, 2))
    subjective_points: Mapped[Decimal | None] = mapped_column(Fixed(7, 2))
    total: Mapped[Decimal | None] = mapped_column(Fixed(7, 2))
    rank: Mapped[int | None] = mapped_column(Integer)

    result: Mapped[ReviewResult] = relationship(back_populates="bids")
    bid: Mapped[Bid] = relationship(lazy="joined", innerjoin=True)
    provider: Mapped[Provider] = relationship(lazy="select")
    lines: Mapped[list[ReviewLine]] = relationship(
        back_populates="bid_result", cascade="all, delete-orphan", lazy="selectin", order_by="ReviewLine.position")


class ReviewLine(db.Model):
    """One bid × one subjective criterion: the scores used, what was dropped, and the mean."""

    __tablename__ = "review_lines"
    __table_args__ = (UniqueConstraint("bid_result_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_result_id: Mapped[int] = mapped_column(ForeignKey("review_bid_results.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # {str(member_id): "score"} of every seated member, as submitted.
    scores: Mapped[dict] = mapped_column(JSON, default=dict)
    dropped_high_member_id: Mapped[int | None] = mapped_column(Integer)
    dropped_low_member_id: Mapped[int | None] = mapped_column(Integer)
    used_count: Mapped[int] = mapped_column(Integer)
    score_sum: Mapped[Decimal] = mapped_column(Fixed(8, 2))
    mean: Mapped[Decimal] = mapped_column(Fixed(7, 2))  # rounded as the result says

    bid_result: Mapped[ReviewBidResult] = relationship(back_populates="lines")
    criterion: Mapped[Criterion] = relationship(lazy="joined", innerjoin=True)


class ReviewFlag(db.Model):
    """A score that differs from the panel's mean by more than the threshold share of the range."""

    __tablename__ = "review_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("review_results.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("panel_members.id"))
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    score: Mapped[Decimal] = mapped_column(Fixed(5, 2))
    panel_mean: Mapped[Decimal] = mapped_column(Fixed(7, 4))  # the untrimmed mean of all seated members
    difference: Mapped[Decimal] = mapped_column(Fixed(7, 4))
    limit: Mapped[Decimal] = mapped_column(Fixed(7, 4))  # threshold % × (max − min)

    result: Mapped[ReviewResult] = relationship(back_populates="flags")
    member: Mapped[PanelMember] = relationship(lazy="joined", innerjoin=True)
    criterion: Mapped[Criterion] = relationship(lazy="joined", innerjoin=True)
