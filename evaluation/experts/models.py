"""The expert database (评审专家库): experts, their specialties and declared conflicts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.items.models import Category
from core.accounts.models import User
from core.db import UTCDateTime, db, utcnow

expert_specialties = Table(
    "expert_specialties",
    db.metadata,
    Column("expert_id", ForeignKey("experts.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id"), primary_key=True),
)


class Expert(db.Model):
    """One reviewer in the expert database (评审专家库); logs in as its user (Role.EXPERT)."""

    __tablename__ = "experts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(60), default="")  # professional title, e.g. 研究员
    employer: Mapped[str] = mapped_column(String(200))
    # The employer's unified social credit code: an expert never reviews a bid by their employer.
    employer_credit_code: Mapped[str] = mapped_column(String(18), index=True)
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    specialties: Mapped[list[Category]] = relationship(secondary=expert_specialties, lazy="selectin",
                                                       order_by=Category.code)
    conflicts: Mapped[list[ExpertConflict]] = relationship(
        back_populates="expert", cascade="all, delete-orphan", lazy="selectin", order_by="ExpertConflict.id")

    def __repr__(self):
        return f"<Expert {self.id} {self.name}>"

    @property
    def specialty_ids(self) -> set[int]:
        return {c.id for c in self.specialties}


class ExpertConflict(db.Model):
    """A conflict of interest an expert declared: an organisation (by credit code) they must not
    review, with the reason."""

    __tablename__ = "expert_conflicts"
    __table_args__ = (UniqueConstraint("expert_id", "credit_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    organisation: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    expert: Mapped[Expert] = relationship(back_populates="conflicts")
