"""Residents' demand (点单): requests for an item in a community, and neighbours' supports."""

from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.items.models import Item
from core.accounts.models import User
from core.areas.models import Area, Venue
from core.db import UTCDateTime, db, enum_column, utcnow


class DemandStatus(enum.StrEnum):
    OPEN = "open"
    PLANNED = "planned"
    FULFILLED = "fulfilled"
    DECLINED = "declined"

    @property
    def label(self):
        return DEMAND_STATUS_LABELS[self]

    @property
    def is_active(self) -> bool:
        return self in ACTIVE_DEMAND


DEMAND_STATUS_LABELS = {
    DemandStatus.OPEN: _l("Awaiting a decision"),
    DemandStatus.PLANNED: _l("Planned"),
    DemandStatus.FULFILLED: _l("Fulfilled"),
    DemandStatus.DECLINED: _l("Declined"),
}


# While a request is open or planned, a second request for the same item and community
# becomes a support of it.
ACTIVE_DEMAND = (DemandStatus.OPEN, DemandStatus.PLANNED)


DEMAND_TRANSITIONS = {
    DemandStatus.OPEN: (DemandStatus.PLANNED, DemandStatus.FULFILLED, DemandStatus.DECLINED),
    DemandStatus.PLANNED: (DemandStatus.FULFILLED, DemandStatus.DECLINED),
    DemandStatus.FULFILLED: (),
    DemandStatus.DECLINED: (),
}


class DemandRequest(db.Model):
    """A resident's request (点单) for a catalog item at a venue of their community."""

    __tablename__ = "demand_requests"
    __table_args__ = (
        # At most one open or planned request per item and community (the database enforces the merge).
        Index("ix_demand_requests_one_active", "item_id", "community_id", unique=True,
              sqlite_where=text("status IN ('open', 'planned')"),
              postgresql_where=text("status IN ('open', 'planned')")),
        CheckConstraint("status = 'open' OR (decided_at IS NOT NULL AND decided_by_id IS NOT NULL)",
                        name="decision_recorded"),
        CheckConstraint("status = 'open' OR status_reason <> ''", name="decision_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[DemandStatus] = mapped_column(enum_column(DemandStatus), default=DemandStatus.OPEN, index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    item: Mapped[Item] = relationship(lazy="joined", innerjoin=True)
    community: Mapped[Area] = relationship(lazy="joined", innerjoin=True)
    venue: Mapped[Venue] = relationship(lazy="joined", innerjoin=True)
    requester: Mapped[User] = relationship(foreign_keys=[requester_id], lazy="joined", innerjoin=True)
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="select")


class DemandSupport(db.Model):
    """One resident's support (附议) of a request; the requester's own counts as the first.
    Once per resident and request, enforced by the database."""

    __tablename__ = "demand_supports"
    __table_args__ = (
        UniqueConstraint("request_id", "user_id"),
        # The demand dashboard counts a period's supports per request from the index alone.
        Index("ix_demand_supports_time_request", "created_at", "request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("demand_requests.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    request: Mapped[DemandRequest] = relationship(lazy="select")
    user: Mapped[User] = relationship(lazy="select")
