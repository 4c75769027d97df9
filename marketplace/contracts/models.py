"""Contracts made from awards, their lines and payment milestones."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.items.models import Item
from core.accounts.models import User
from core.areas.models import Area, Venue
from core.db import Fixed, Money, UTCDateTime, db, enum_column, utcnow
from core.errors import Refused
from marketplace.awards.models import Award
from marketplace.projects.models import ProjectLine, PurchaseProject
from marketplace.providers.models import Provider


class ContractState(enum.StrEnum):
    PENDING = "pending"  # generated, waiting for both signatures
    ACTIVE = "active"  # signed by both sides: sessions may be scheduled and delivered
    COMPLETED = "completed"
    TERMINATED = "terminated"  # ended early, with a reason

    @property
    def label(self):
        return {
            ContractState.PENDING: _l("Waiting for signatures"),
            ContractState.ACTIVE: _l("In force"),
            ContractState.COMPLETED: _l("Completed"),
            ContractState.TERMINATED: _l("Terminated"),
        }[self]


CONTRACT_TRANSITIONS = {
    ContractState.PENDING: frozenset({ContractState.ACTIVE, ContractState.TERMINATED}),
    ContractState.ACTIVE: frozenset({ContractState.COMPLETED, ContractState.TERMINATED}),
    ContractState.COMPLETED: frozenset(),
    ContractState.TERMINATED: frozenset(),
}


class Contract(db.Model):
    """The service contract generated from an award: buyer (the project's area government),
    provider, lines (item × venue × sessions), amount and payment milestones."""

    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("sessions_total >= 0", name="sessions_not_negative"),
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        CheckConstraint("state NOT IN ('active', 'completed') OR "
                        "(buyer_signed_at IS NOT NULL AND provider_signed_at IS NOT NULL AND activated_at IS NOT NULL)",
                        name="active_is_signed"),
        CheckConstraint("state <> 'completed' OR completed_at IS NOT NULL", name="completed_has_time"),
        CheckConstraint("state <> 'terminated' OR (terminated_at IS NOT NULL AND termination_reason <> '')",
                        name="terminated_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)  # HT-<year>-<project id>
    project_id: Mapped[int] = mapped_column(ForeignKey("purchase_projects.id"), index=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    buyer_area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    # The parties as written into the contract when it was generated.
    buyer_name: Mapped[str] = mapped_column(String(200))
    provider_name: Mapped[str] = mapped_column(String(200))
    provider_credit_code: Mapped[str] = mapped_column(String(18))
    provider_representative: Mapped[str] = mapped_column(String(60), default="")
    amount: Mapped[Decimal] = mapped_column(Money)
    sessions_total: Mapped[int] = mapped_column(Integer)  # Σ line sessions
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    terms: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[ContractState] = mapped_column(enum_column(ContractState), default=ContractState.PENDING, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    buyer_signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    buyer_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    provider_signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    provider_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    terminated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    termination_reason: Mapped[str] = mapped_column(Text, default="")

    project: Mapped[PurchaseProject] = relationship(lazy="joined", innerjoin=True)
    award: Mapped[Award] = relationship(lazy="joined", innerjoin=True)
    provider: Mapped[Provider] = relationship(lazy="joined", innerjoin=True)
    buyer_area: Mapped[Area] = relationship(lazy="joined", innerjoin=True)
    buyer_signed_by: Mapped[User | None] = relationship(foreign_keys=[buyer_signed_by_id], lazy="joined")
    provider_signed_by: Mapped[User | None] = relationship(foreign_keys=[provider_signed_by_id], lazy="joined")
    lines: Mapped[list[ContractLine]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", lazy="selectin", order_by="ContractLine.position")
    milestones: Mapped[list[PaymentMilestone]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", lazy="selectin", order_by="PaymentMilestone.position")

    def __repr__(self):
        return f"<Contract {self.number} {self.state}>"

    @property
    def venues(self) -> list[Venue]:
        """The venues where sessions are delivered, in line order, each once."""
        seen, out = set(), []
        for ln in self.lines:
            if ln.venue_id not in seen:
                seen.add(ln.venue_id)
                out.append(ln.venue)
        return out

    @property
    def fully_signed(self) -> bool:
        return self.buyer_signed_at is not None and self.provider_signed_at is not None

    def _move(self, target: ContractState):
        if target not in CONTRACT_TRANSITIONS[self.state]:
            raise Refused(_l("A contract that is “%(current)s” cannot become “%(target)s”.",
                             current=self.state.label, target=target.label), obj=self, code="illegal_transition")
        self.state = target

    def activate(self, now=None):
        if not self.fully_signed:
            raise Refused(_l("A contract comes into force only when both sides have signed it."), obj=self)
        self._move(ContractState.ACTIVE)
        self.activated_at = now or utcnow()

    def complete(self, now=None):
        self._move(ContractState.COMPLETED)
        self.completed_at = now or utcnow()

    def terminate(self, reason: str, now=None):
        reason = (reason or "").strip()
        if not reason:
            raise Refused(_l("A termination needs a reason."), "reason")
        self._move(ContractState.TERMINATED)
        self.terminated_at = now or utcnow()
        self.termination_reason = reason


class ContractLine(db.Model):
    """One item to deliver at one venue: `sessions` sessions (场次, in the item's unit) at
    `unit_price`; `amount` is the line's share of the contract amount (the lines sum to it)."""

    __tablename__ = "contract_lines"
    __table_args__ = (
        CheckConstraint("sessions > 0", name="sessions_positive"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        UniqueConstraint("contract_id", "item_id", "venue_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    project_line_id: Mapped[int | None] = mapped_column(ForeignKey("project_lines.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    item_name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(10))
    sessions: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)

    contract: Mapped[Contract] = relationship(back_populates="lines")
    project_line: Mapped[ProjectLine | None] = relationship(lazy="select")
    item: Mapped[Item] = relationship(lazy="joined", innerjoin=True)
    venue: Mapped[Venue] = relationship(lazy="joined", innerjoin=True)


class PaymentMilestone(db.Model):
    """A payment the buyer owes on a condition (signing, share of sessions delivered, completion)."""

    __tablename__ = "payment_milestones"
    __table_args__ = (
        UniqueConstraint("contract_id", "position"),
        CheckConstraint("percent > 0 AND percent <= 100", name="percent_range"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(120))
    percent: Mapped[Decimal] = mapped_column(Fixed(5, 2))
    amount: Mapped[Decimal] = mapped_column(Money)
    condition: Mapped[str] = mapped_column(Text, default="")
    # Share of the contract's sessions that must be delivered before it is due (0 = at signing).
    sessions_share: Mapped[Decimal] = mapped_column(Fixed(5, 2), default=Decimal("0"))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    contract: Mapped[Contract] = relationship(back_populates="milestones")

    @property
    def paid(self) -> bool:
        return self.paid_at is not None
