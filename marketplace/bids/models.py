"""Sealed bids: the bid, every revision of its content, its attachments, and the opening.

Other modules rely on: Bid (id, project_id, provider_id, status, `is_valid`, submitted_at — the
time of the current revision, which counts for ties —, price and performance_at_opening —
both NULL until the opening —, invalid_reason), BidRevision (number, submitted_at,
content_hash), BidAttachment, BidOpening (project_id, opened_at, opened_by_id, entries).

Until the opening, a bid's content exists only encrypted (`sealed` columns, AES-GCM, see
marketplace/sealing.py). At the opening the current revision's price is decrypted once and
written to `Bid.price`, together with the provider's performance score as it stood then.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts.models import User
from core.db import Fixed, Money, UTCDateTime, db, enum_column, utcnow
from marketplace.projects.models import PurchaseProject
from marketplace.providers.models import Provider


class BidStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # the live bid
    WITHDRAWN = "withdrawn"  # withdrawn before the deadline; may be submitted again until then
    INVALID = "invalid"  # failed a qualification check in review (set by evaluation through bid_ops)

    @property
    def label(self):
        return {
            BidStatus.SUBMITTED: _l("Submitted"),
            BidStatus.WITHDRAWN: _l("Withdrawn"),
            BidStatus.INVALID: _l("Invalid"),
        }[self]


class Bid(db.Model):
    """A provider's one bid on one project (the pair is unique: one live bid per provider)."""

    __tablename__ = "bids"
    __table_args__ = (
        UniqueConstraint("project_id", "provider_id"),
        CheckConstraint("revision_no >= 1", name="has_revision"),
        CheckConstraint("price IS NULL OR price > 0", name="price_positive"),
        CheckConstraint("status <> 'withdrawn' OR withdrawn_at IS NOT NULL", name="withdrawn_has_time"),
        CheckConstraint("status <> 'invalid' OR invalid_reason <> ''", name="invalid_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("purchase_projects.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    status: Mapped[BidStatus] = mapped_column(enum_column(BidStatus), default=BidStatus.SUBMITTED, index=True)
    # The number of the current revision (BidRevision.number); every earlier one is kept.
    revision_no: Mapped[int] = mapped_column(Integer, default=1)
    first_submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the current revision was submitted: the submission time of record.
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Filled at the opening, never before.
    price: Mapped[Decimal | None] = mapped_column(Money)
    performance_at_opening: Mapped[Decimal | None] = mapped_column(Fixed(5, 2))
    invalid_reason: Mapped[str] = mapped_column(Text, default="")

    # Not joined, so lock_row(Bid, id) locks the bid row alone.
    project: Mapped[PurchaseProject] = relationship(lazy="select")
    provider: Mapped[Provider] = relationship(lazy="select")
    revisions: Mapped[list[BidRevision]] = relationship(
        back_populates="bid", cascade="all, delete-orphan", lazy="raise", order_by="BidRevision.number")
    attachments: Mapped[list[BidAttachment]] = relationship(
        back_populates="bid", cascade="all, delete-orphan", lazy="raise", order_by="BidAttachment.id")

    def __repr__(self):
        return f"<Bid {self.id} project={self.project_id} provider={self.provider_id} {self.status}>"

    @property
    def is_live(self) -> bool:
        return self.status == BidStatus.SUBMITTED

    @property
    def is_valid(self) -> bool:
        """Counts in the review: submitted and not disqualified."""
        return self.status == BidStatus.SUBMITTED

    def owned_by(self, user) -> bool:
        return user is not None and getattr(user, "id", None) == self.provider.user_id


class BidRevision(db.Model):
    """One submitted version of a bid's content, sealed. The receipt given to the bidder is
    (submitted_at, content_hash): the SHA-256 of the canonical content before encryption."""

    __tablename__ = "bid_revisions"
    __table_args__ = (UniqueConstraint("bid_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Canonical JSON of price, plan, team, conflicts and attachment hashes, AES-GCM encrypted.
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(16))  # which key sealed it (a fingerprint, not the key)
    content_hash: Mapped[str] = mapped_column(String(64))

    bid: Mapped[Bid] = relationship(back_populates="revisions")
    submitted_by: Mapped[User] = relationship(lazy="select")


class BidAttachment(db.Model):
    """A file of a bid's service plan; name and bytes sealed like the bid itself."""

    __tablename__ = "bid_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id", ondelete="CASCADE"), index=True)
    # The revision that first included it; later revisions name the files they keep in their content.
    revision_number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))  # of the plain bytes, part of the receipt
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    data_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    bid: Mapped[Bid] = relationship(back_populates="attachments")


class BidOpening(db.Model):
    """The opening (开标) of a project's bids: one per project, public once made.

    `entries` is the record read out at the opening: for every live bid, in order of
    submission, {bid_id, provider_id, provider_name, price, submitted_at, content_hash}.
    """

    __tablename__ = "bid_openings"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("purchase_projects.id"), unique=True)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    bid_count: Mapped[int] = mapped_column(Integer)
    entries: Mapped[list] = mapped_column(JSON, default=list)

    project: Mapped[PurchaseProject] = relationship(lazy="select")
    opened_by: Mapped[User] = relationship(lazy="select")
