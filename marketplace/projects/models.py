"""Purchase projects (采购项目): lines, criteria, clarifications and the project state machine.

Other modules rely on: PurchaseProject (id, reference, title, area_id, method, budget,
bid_deadline, state, `state_at(now)`, `current_state`, the transition methods, opened_at,
awarded_at …), ProjectLine (item_id, venue_id, quantity, unit_ceiling), Criterion (kind,
name, rubric, weight, min_score, max_score, position), Clarification, and the enums below.

"closed" is derived from the server clock: a published project whose bid deadline has passed
*is* closed, whether or not anything stored that yet (`state_at`). The stored state moves on
from there only through the transition methods, which raise IllegalTransition otherwise.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, and_, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.items.models import Item
from core.accounts.models import User
from core.areas.models import Area, Venue
from core.db import Fixed, Money, UTCDateTime, db, enum_column, utcnow
from core.errors import Refused


class ProjectMethod(enum.StrEnum):
    OPEN_TENDER = "open_tender"  # 公开招标
    COMPETITIVE_CONSULTATION = "competitive_consultation"  # 竞争性磋商
    INQUIRY = "inquiry"  # 询价
    SINGLE_SOURCE = "single_source"  # 单一来源

    @property
    def label(self):
        return METHOD_LABELS[self]


METHOD_LABELS = {
    ProjectMethod.OPEN_TENDER: _l("Open tender"),
    ProjectMethod.COMPETITIVE_CONSULTATION: _l("Competitive consultation"),
    ProjectMethod.INQUIRY: _l("Inquiry"),
    ProjectMethod.SINGLE_SOURCE: _l("Single source"),
}


class ProjectState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"  # open for bids until the deadline
    CLOSED = "closed"  # deadline passed, bids sealed, not yet opened (usually derived, see state_at)
    OPENED = "opened"  # 开标 done: the opening record is public
    UNDER_REVIEW = "under_review"  # the expert panel is scoring
    AWARDED = "awarded"  # result published; publicity period and challenge window run
    CONTRACTED = "contracted"
    IN_DELIVERY = "in_delivery"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"  # fewer valid bids than the method's minimum

    @property
    def label(self):
        return STATE_LABELS[self]

    @property
    def terminal(self) -> bool:
        return self in (ProjectState.COMPLETED, ProjectState.CANCELLED, ProjectState.FAILED)


STATE_LABELS = {
    ProjectState.DRAFT: _l("Draft"),
    ProjectState.PUBLISHED: _l("Open for bids"),
    ProjectState.CLOSED: _l("Closed, awaiting opening"),
    ProjectState.OPENED: _l("Bids opened"),
    ProjectState.UNDER_REVIEW: _l("Under review"),
    ProjectState.AWARDED: _l("Awarded"),
    ProjectState.CONTRACTED: _l("Contracted"),
    ProjectState.IN_DELIVERY: _l("In delivery"),
    ProjectState.COMPLETED: _l("Completed"),
    ProjectState.CANCELLED: _l("Cancelled"),
    ProjectState.FAILED: _l("Failed"),
}

S = ProjectState
# Where each state may go. PUBLISHED → CLOSED happens by the clock; the stored state may lag.
TRANSITIONS: dict[ProjectState, frozenset[ProjectState]] = {
    S.DRAFT: frozenset({S.PUBLISHED, S.CANCELLED}),
    S.PUBLISHED: frozenset({S.CLOSED, S.CANCELLED}),
    S.CLOSED: frozenset({S.OPENED, S.CANCELLED}),
    S.OPENED: frozenset({S.UNDER_REVIEW, S.FAILED, S.CANCELLED}),
    S.UNDER_REVIEW: frozenset({S.AWARDED, S.FAILED, S.CANCELLED}),
    # An upheld challenge sends an award back to review (or cancels the project).
    S.AWARDED: frozenset({S.CONTRACTED, S.UNDER_REVIEW, S.CANCELLED}),
    S.CONTRACTED: frozenset({S.IN_DELIVERY, S.CANCELLED}),
    S.IN_DELIVERY: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.FAILED: frozenset(),
}
# States in which the opening has happened (the bids are unsealed).
OPENED_STATES = frozenset({S.OPENED, S.UNDER_REVIEW, S.AWARDED, S.CONTRACTED, S.IN_DELIVERY, S.COMPLETED})
# States visible to the public (everything but a draft).
PUBLIC_STATES = frozenset(set(ProjectState) - {S.DRAFT})


class IllegalTransition(Refused):
    """A project was asked to move to a state its current state does not lead to."""

    def __init__(self, project: PurchaseProject, current: ProjectState, target: ProjectState):
        super().__init__(
            _l("A project that is “%(current)s” cannot become “%(target)s”.",
               current=current.label, target=target.label),
            obj=project, code="illegal_transition")
        self.current, self.target = current, target


class CriterionKind(enum.StrEnum):
    PRICE = "price"  # points by formula from the bid prices
    SUBJECTIVE = "subjective"  # scored by each expert within [min_score, max_score]
    PERFORMANCE = "performance"  # from the provider's performance score at opening
    QUALIFICATION = "qualification"  # pass/fail; weight 0; a failed bid is invalid

    @property
    def label(self):
        return CRITERION_LABELS[self]


CRITERION_LABELS = {
    CriterionKind.PRICE: _l("Price"),
    CriterionKind.SUBJECTIVE: _l("Subjective"),
    CriterionKind.PERFORMANCE: _l("Performance"),
    CriterionKind.QUALIFICATION: _l("Qualification (pass/fail)"),
}


class PurchaseProject(db.Model):
    __tablename__ = "purchase_projects"
    __table_args__ = (
        CheckConstraint("budget > 0", name="budget_positive"),
        CheckConstraint("method <> 'single_source' OR justification <> ''", name="single_source_justified"),
        CheckConstraint("state <> 'cancelled' OR cancel_reason <> ''", name="cancel_has_reason"),
        CheckConstraint("state <> 'failed' OR failed_reason <> ''", name="failure_has_reason"),
        CheckConstraint("state IN ('draft', 'cancelled') OR (published_at IS NOT NULL AND bid_deadline IS NOT NULL)",
                        name="published_has_deadline"),
        CheckConstraint("state NOT IN ('opened', 'under_review', 'awarded', 'contracted', 'in_delivery', "
                        "'completed') OR opened_at IS NOT NULL", name="opened_has_time"),
        CheckConstraint("state NOT IN ('awarded', 'contracted', 'in_delivery', 'completed') OR awarded_at IS NOT NULL",
                        name="awarded_has_time"),
        # The public list's order (newest first): its first page is read without sorting every project.
        Index("ix_purchase_projects_published", "published_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The jurisdiction the project is bought for: the creating officer's area (district or town).
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    method: Mapped[ProjectMethod] = mapped_column(enum_column(ProjectMethod), index=True)
    justification: Mapped[str] = mapped_column(Text, default="")  # required for single source
    budget: Mapped[Decimal] = mapped_column(Money)
    bid_deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    state: Mapped[ProjectState] = mapped_column(enum_column(ProjectState), default=ProjectState.DRAFT, index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Set when the first bid arrives; from then on the criteria cannot change.
    criteria_locked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    review_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    awarded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    contracted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    delivery_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    failed_reason: Mapped[str] = mapped_column(Text, default="")
    # A failed project re-issued as a copy points back at the original.
    reissued_from_id: Mapped[int | None] = mapped_column(ForeignKey("purchase_projects.id"), index=True)

    # Not joined: lock_row(PurchaseProject, id) must lock the project row alone, not its area
    # or its author (FOR UPDATE locks every joined row on PostgreSQL).
    area: Mapped[Area] = relationship(lazy="select")
    created_by: Mapped[User] = relationship(lazy="select")
    reissued_from: Mapped[PurchaseProject | None] = relationship(remote_side=[id], lazy="select")
    lines: Mapped[list[ProjectLine]] = relationship(
        back_populates="project", cascade="all, delete-orphan", lazy="selectin",
        order_by="ProjectLine.position")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="project", cascade="all, delete-orphan", lazy="selectin",
        order_by="Criterion.position")

    def __repr__(self):
        return f"<PurchaseProject {self.id} {self.state}>"

    @property
    def reference(self) -> str:
        """The project number shown to people: HM-<year>-<id>."""
        year = (self.created_at or utcnow()).year
        return f"HM-{year}-{self.id:05d}"

    # --- state, by the server clock -------------------------------------------------------

    def state_at(self, now: dt.datetime | None = None) -> ProjectState:
        """The state as the clock says: a published project past its deadline is closed."""
        now = now or utcnow()
        if self.state == S.PUBLISHED and self.bid_deadline is not None and now >= self.bid_deadline:
            return S.CLOSED
        return self.state

    @property
    def current_state(self) -> ProjectState:
        return self.state_at()

    @classmethod
    def state_is(cls, state: ProjectState, now: dt.datetime | None = None):
        """SQL condition: the project is in `state` by the clock (the query twin of state_at)."""
        now = now or utcnow()
        if state == S.PUBLISHED:
            return and_(cls.state == S.PUBLISHED, cls.bid_deadline > now)
        if state == S.CLOSED:
            return or_(cls.state == S.CLOSED, and_(cls.state == S.PUBLISHED, cls.bid_deadline <= now))
        return cls.state == state

    def accepts_bids(self, now: dt.datetime | None = None) -> bool:
        return self.state_at(now) == S.PUBLISHED

    @property
    def is_public(self) -> bool:
        return self.state in PUBLIC_STATES

    @property
    def is_opened(self) -> bool:
        """Bids have been unsealed (the opening happened and the project has not failed before it)."""
        return self.opened_at is not None

    @property
    def criteria_locked(self) -> bool:
        return self.criteria_locked_at is not None

    @property
    def ceiling_total(self) -> Decimal:
        """Σ unit ceiling × quantity over the lines: the highest budget allowed."""
        return sum((ln.unit_ceiling * ln.quantity for ln in self.lines), Decimal("0.00"))

    @property
    def category_ids(self) -> set[int]:
        """Catalog categories of the project's items (for panel draws by specialty)."""
        return {ln.item.category_id for ln in self.lines}

    def criteria_of(self, kind: CriterionKind) -> list[Criterion]:
        return [c for c in self.criteria if c.kind == kind]

    @property
    def price_criterion(self) -> Criterion | None:
        return next(iter(self.criteria_of(CriterionKind.PRICE)), None)

    # --- transitions ----------------------------------------------------------------------

    def can_move_to(self, target: ProjectState, now: dt.datetime | None = None) -> bool:
        return target in TRANSITIONS[self.state_at(now)]

    def _move(self, target: ProjectState, now: dt.datetime | None) -> dt.datetime:
        now = now or utcnow()
        current = self.state_at(now)
        if target not in TRANSITIONS[current]:
            raise IllegalTransition(self, current, target)
        self.state = target
        return now

    def publish(self, now=None):
        self.published_at = self._move(S.PUBLISHED, now)

    def close(self, now=None):
        """Store the closed state once the deadline has passed (the clock already says so)."""
        now = now or utcnow()
        if self.state != S.PUBLISHED or self.state_at(now) != S.CLOSED:
            raise IllegalTransition(self, self.state_at(now), S.CLOSED)
        self.state, self.closed_at = S.CLOSED, now

    def mark_opened(self, now=None):
        now = now or utcnow()
        if self.state == S.PUBLISHED:
            self.close(now)
        self.opened_at = self._move(S.OPENED, now)

    def start_review(self, now=None):
        self.review_started_at = self._move(S.UNDER_REVIEW, now)

    def award(self, now=None):
        self.awarded_at = self._move(S.AWARDED, now)

    def return_to_review(self, now=None):
        """An upheld challenge: the award is void and the review runs again."""
        self._move(S.UNDER_REVIEW, now)
        self.awarded_at = None

    def contract(self, now=None):
        self.contracted_at = self._move(S.CONTRACTED, now)

    def start_delivery(self, now=None):
        self.delivery_started_at = self._move(S.IN_DELIVERY, now)

    def complete(self, now=None):
        self.completed_at = self._move(S.COMPLETED, now)

    def cancel(self, reason: str, now=None):
        reason = (reason or "").strip()
        if not reason:
            raise Refused(_l("A cancellation needs a reason."), "reason")
        self.cancelled_at = self._move(S.CANCELLED, now)
        self.cancel_reason = reason

    def fail(self, reason: str, now=None):
        reason = (reason or "").strip()
        if not reason:
            raise Refused(_l("A failure needs a reason."), "reason")
        self.failed_at = self._move(S.FAILED, now)
        self.failed_reason = reason


class ProjectLine(db.Model):
    """One item bought for one venue: quantity in the item's unit, ceiling as it was at creation."""

    __tablename__ = "project_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_ceiling > 0", name="ceiling_positive"),
        UniqueConstraint("project_id", "item_id", "venue_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("purchase_projects.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_ceiling: Mapped[Decimal] = mapped_column(Money)
    position: Mapped[int] = mapped_column(Integer, default=0)

    project: Mapped[PurchaseProject] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship(lazy="joined", innerjoin=True)
    venue: Mapped[Venue] = relationship(lazy="joined", innerjoin=True)

    @property
    def ceiling_total(self) -> Decimal:
        return self.unit_ceiling * self.quantity


class Criterion(db.Model):
    """One evaluation criterion. Weights of a project's criteria sum to 100; qualification
    checks weigh 0. Subjective scores lie in [min_score, max_score] (max_score ≤ weight)."""

    __tablename__ = "criteria"
    __table_args__ = (
        CheckConstraint("weight >= 0 AND weight <= 100", name="weight_range"),
        CheckConstraint("kind <> 'qualification' OR weight = 0", name="qualification_weightless"),
        CheckConstraint("kind <> 'price' OR (weight >= 10 AND weight <= 30)", name="price_weight_range"),
        CheckConstraint("kind <> 'subjective' OR (min_score IS NOT NULL AND max_score IS NOT NULL "
                        "AND min_score >= 0 AND min_score < max_score AND max_score <= weight)",
                        name="subjective_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("purchase_projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[CriterionKind] = mapped_column(enum_column(CriterionKind))
    name: Mapped[str] = mapped_column(String(120))
    # Scoring guidance for experts (subjective) or the requirement to meet (qualification).
    rubric: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[Decimal] = mapped_column(Fixed(5, 2), default=Decimal("0"))
    min_score: Mapped[Decimal | None] = mapped_column(Fixed(5, 2))
    max_score: Mapped[Decimal | None] = mapped_column(Fixed(5, 2))
    position: Mapped[int] = mapped_column(Integer, default=0)

    project: Mapped[PurchaseProject] = relationship(back_populates="criteria")


class Clarification(db.Model):
    """A provider's question about a project and the officer's answer. Answered questions are
    public; the asker is never shown to anyone but themself."""

    __tablename__ = "clarifications"
    __table_args__ = (
        CheckConstraint("(answer IS NULL) = (answered_at IS NULL)", name="answer_has_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("purchase_projects.id", ondelete="CASCADE"), index=True)
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    question: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    project: Mapped[PurchaseProject] = relationship(lazy="select")

    @property
    def answered(self) -> bool:
        return self.answer is not None
