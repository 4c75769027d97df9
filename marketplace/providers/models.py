"""Providers (承接主体): the organisations that bid and deliver.

Other modules rely on: Provider (id, user_id, name, credit_code, kind, status, status_reason,
suspended_until, performance_score, grade) and `Provider.bidding_refusal(now)`.
`performance_score` and `grade` are written by evaluation; marketplace never imports it.
Evaluation suspends a provider through `marketplace.provider_ops.suspend(provider, until, reason)`.

Review states and the decisions that move between them (`Provider.move`):

    pending ──approve──▶ approved ──suspend──▶ suspended ──lift──▶ approved
       │  ╲──reject──▶ rejected ─┐            (a suspension also ends by itself at suspended_until)
       ╰──request documents──▶ needs_documents ─┴─resubmit─▶ pending
    any state but blacklisted ──blacklist──▶ blacklisted ──lift──▶ approved (pending if never approved)
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts.models import User
from core.db import Fixed, UTCDateTime, db, enum_column, utcnow
from core.errors import Refused
from core.i18n import to_local
from core.uploads import StoredFile


def last_day_before(end: dt.datetime | None) -> dt.date | None:
    """The last (Beijing) day that a period ending at `end` covers."""
    if end is None:
        return None
    return to_local(end - dt.timedelta(microseconds=1)).date()


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
    # When the application was last (re)submitted for review: the queue's order.
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    # First approval; a lifted blacklisting returns to approved only if there was one.
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Written by evaluation: the current performance score (0–100) and grade (A–D).
    performance_score: Mapped[Decimal | None] = mapped_column(Fixed(5, 2))
    grade: Mapped[str | None] = mapped_column(String(1))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    @property
    def suspension_last_day(self) -> dt.date | None:
        """The last day (Beijing time) of a suspension; it ends at midnight after it."""
        return last_day_before(self.suspended_until)

    def effective_status(self, now: dt.datetime | None = None) -> ProviderStatus:
        """The status as it stands now: a suspension that has run out counts as approved."""
        now = now or utcnow()
        if (self.status == ProviderStatus.SUSPENDED and self.suspended_until is not None
                and self.suspended_until <= now):
            return ProviderStatus.APPROVED
        return self.status

    def allowed_actions(self, now: dt.datetime | None = None) -> set[ProviderAction]:
        status = self.effective_status(now)
        return {a for a, (sources, _t) in TRANSITIONS.items() if status in sources}

    def move(self, action: ProviderAction, now: dt.datetime | None = None) -> ProviderStatus:
        """Apply a review decision's change of state, or raise Refused if the current state does
        not allow it. Returns the state it came from."""
        now = now or utcnow()
        before = self.effective_status(now)
        sources, target = TRANSITIONS[action]
        if before not in sources:
            raise Refused(_l("%(action)s is not possible while the provider's status is “%(status)s”.",
                             action=action.label, status=before.label), audit_action=f"provider.{action.value}",
                          obj=self, status_now=before.value)
        if action == ProviderAction.LIFT and before == ProviderStatus.BLACKLISTED and self.approved_at is None:
            target = ProviderStatus.PENDING  # never approved: it goes back to review
        self.status = target
        if target != ProviderStatus.SUSPENDED:
            self.suspended_until = None
        if target == ProviderStatus.APPROVED and self.approved_at is None:
            self.approved_at = now
        return before

    def bidding_refusal(self, now: dt.datetime | None = None):
        """None when the provider may bid now; otherwise the reason it may not (lazy string)."""
        now = now or utcnow()
        if self.status == ProviderStatus.APPROVED:
            return None
        if self.status == ProviderStatus.SUSPENDED:
            if self.suspended_until is not None and self.suspended_until <= now:
                return None  # the suspension has run out
            last_day = self.suspension_last_day
            return _l("Suspended from bidding until %(until)s: %(reason)s",
                      until=last_day.isoformat() if last_day else "—",
                      reason=self.status_reason)
        if self.status == ProviderStatus.BLACKLISTED:
            return _l("Blacklisted: %(reason)s", reason=self.status_reason)
        return _l("Only approved providers may bid (current status: %(status)s).", status=self.status.label)


class ProviderAction(enum.StrEnum):
    """What happened to a provider's registration: its history, shown to it and to officers."""

    REGISTER = "register"
    ADD_DOCUMENT = "add_document"
    UPDATE = "update"
    RESUBMIT = "resubmit"
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_DOCUMENTS = "request_documents"
    SUSPEND = "suspend"
    BLACKLIST = "blacklist"
    LIFT = "lift"

    @property
    def label(self):
        return {
            ProviderAction.REGISTER: _l("Registered"),
            ProviderAction.ADD_DOCUMENT: _l("Document added"),
            ProviderAction.UPDATE: _l("Details changed"),
            ProviderAction.RESUBMIT: _l("Resubmitted for review"),
            ProviderAction.APPROVE: _l("Approval"),
            ProviderAction.REJECT: _l("Rejection"),
            ProviderAction.REQUEST_DOCUMENTS: _l("Request for more documents"),
            ProviderAction.SUSPEND: _l("Suspension"),
            ProviderAction.BLACKLIST: _l("Blacklisting"),
            ProviderAction.LIFT: _l("Lifting of a suspension or blacklisting"),
        }[self]


_S = ProviderStatus
# action: (the states it may start from, the state it leads to)
TRANSITIONS: dict[ProviderAction, tuple[frozenset[ProviderStatus], ProviderStatus]] = {
    ProviderAction.APPROVE: (frozenset({_S.PENDING}), _S.APPROVED),
    ProviderAction.REJECT: (frozenset({_S.PENDING}), _S.REJECTED),
    ProviderAction.REQUEST_DOCUMENTS: (frozenset({_S.PENDING}), _S.NEEDS_DOCUMENTS),
    ProviderAction.RESUBMIT: (frozenset({_S.NEEDS_DOCUMENTS, _S.REJECTED}), _S.PENDING),
    ProviderAction.SUSPEND: (frozenset({_S.APPROVED}), _S.SUSPENDED),
    ProviderAction.BLACKLIST: (frozenset(set(_S) - {_S.BLACKLISTED}), _S.BLACKLISTED),
    ProviderAction.LIFT: (frozenset({_S.SUSPENDED, _S.BLACKLISTED}), _S.APPROVED),
}
# Decisions taken by officers (the others are the provider's own).
OFFICER_ACTIONS = (ProviderAction.APPROVE, ProviderAction.REJECT, ProviderAction.REQUEST_DOCUMENTS,
                   ProviderAction.SUSPEND, ProviderAction.BLACKLIST, ProviderAction.LIFT)


class DocumentKind(enum.StrEnum):
    REGISTRATION = "registration"  # 登记证书 / 营业执照
    QUALIFICATION = "qualification"
    OTHER = "other"

    @property
    def label(self):
        return {
            DocumentKind.REGISTRATION: _l("Registration certificate or business licence"),
            DocumentKind.QUALIFICATION: _l("Qualification certificate"),
            DocumentKind.OTHER: _l("Other document"),
        }[self]


class ProviderDocument(db.Model):
    """A qualification document of a provider; served only to its owner and to officers."""

    __tablename__ = "provider_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"), unique=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    file: Mapped[StoredFile] = relationship(lazy="joined", innerjoin=True)
    provider: Mapped[Provider] = relationship(lazy="raise")


class ProviderEvent(db.Model):
    """One step in a provider's history; decisions carry the officer's reason."""

    __tablename__ = "provider_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"), index=True)
    action: Mapped[ProviderAction] = mapped_column(enum_column(ProviderAction))
    from_status: Mapped[ProviderStatus | None] = mapped_column(enum_column(ProviderStatus, name="from_status"))
    to_status: Mapped[ProviderStatus] = mapped_column(enum_column(ProviderStatus, name="to_status"))
    reason: Mapped[str] = mapped_column(Text, default="")
    suspended_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")

    @property
    def suspension_last_day(self) -> dt.date | None:
        return last_day_before(self.suspended_until)
