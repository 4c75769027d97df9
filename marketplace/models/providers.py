"""Providers (承接主体): the organisations that bid and deliver.

Other modules rely on: Provider (id, user_id, name, credit_code, kind, status, status_reason,
suspended_until, performance_score, grade) and `Provider.bidding_refusal(now)`.
`performance_score` and `grade` are written by evaluation; marketplace never imports it.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Fixed, UTCDateTime, db, utcnow
from core.models import User, enum_column


class ProviderKind(enum.StrEnum):
    SOCIAL_ORGANISATION = "social_organisation"
    ENTERPRISE = "enterprise"
    PUBLIC_INSTITUTION = "public_institution"
    OTHER = "other"

    @property
    def label(self):
        return {
            ProviderKind.SOCIAL_ORGANISATION: _l("Social organisation"),
            ProviderKind.ENTERPRISE: _l("Enterprise"),
            ProviderKind.PUBLIC_INSTITUTION: _l("Public institution"),
            ProviderKind.OTHER: _l("Other organisation"),
        }[self]


class ProviderStatus(enum.StrEnum):
    PENDING = "pending"  # registered, waiting for review
    NEEDS_DOCUMENTS = "needs_documents"  # the officer asked for more documents
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"  # until suspended_until, with a reason
    BLACKLISTED = "blacklisted"

    @property
    def label(self):
        return {
            ProviderStatus.PENDING: _l("Waiting for review"),
            ProviderStatus.NEEDS_DOCUMENTS: _l("More documents requested"),
            ProviderStatus.APPROVED: _l("Approved"),
            ProviderStatus.REJECTED: _l("Rejected"),
            ProviderStatus.SUSPENDED: _l("Suspended from bidding"),
            ProviderStatus.BLACKLISTED: _l("Blacklisted"),
        }[self]


class Provider(db.Model):
    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The account that registered and acts for the organisation.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    kind: Mapped[ProviderKind] = mapped_column(enum_column(ProviderKind))
    legal_representative: Mapped[str] = mapped_column(String(60))
    contact_name: Mapped[str] = mapped_column(String(60))
    contact_phone: Mapped[str] = mapped_column(String(30))
    address: Mapped[str] = mapped_column(String(200), default="")
    introduction: Mapped[str] = mapped_column(Text, default="")
    category_ids: Mapped[list] = mapped_column(JSON, default=list)  # catalog top categories served
    status: Mapped[ProviderStatus] = mapped_column(enum_column(ProviderStatus), default=ProviderStatus.PENDING,
                                                   index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    suspended_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Written by evaluation: the current performance score (0–100) and grade (A–D).
    performance_score: Mapped[Decimal | None] = mapped_column(Fixed(5, 2))
    grade: Mapped[str | None] = mapped_column(String(1))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    def bidding_refusal(self, now: dt.datetime | None = None):
        """None when the provider may bid now; otherwise the reason it may not (lazy string)."""
        now = now or utcnow()
        if self.status == ProviderStatus.APPROVED:
            return None
        if self.status == ProviderStatus.SUSPENDED:
            if self.suspended_until is not None and self.suspended_until <= now:
                return None  # the suspension has run out
            return _l("Suspended from bidding until %(until)s: %(reason)s",
                      until=self.suspended_until.date().isoformat() if self.suspended_until else "—",
                      reason=self.status_reason)
        if self.status == ProviderStatus.BLACKLISTED:
            return _l("Blacklisted: %(reason)s", reason=self.status_reason)
        return _l("Only approved providers may bid (current status: %(status)s).", status=self.status.label)
