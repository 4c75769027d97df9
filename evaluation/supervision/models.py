"""Supervisors and supervision items (督办事项).

An item is raised by a supervisor on a project, provider, session, venue or area. It is answered
by an officer whose jurisdiction covers the item's area (`area_id`: the town/street of the subject,
or the district); it is due a set number of working days after it was raised; an item still
unanswered at its deadline is escalated to the district (`escalated_at`).
"""

from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts.models import User
from core.areas.models import Area
from core.db import UTCDateTime, db, enum_column, utcnow
from core.uploads import StoredFile


class SupervisorKind(enum.StrEnum):
    NPC_DEPUTY = "npc_deputy"
    CPPCC_MEMBER = "cppcc_member"
    MEDIA = "media"
    RESIDENT_REPRESENTATIVE = "resident_representative"
    SOCIAL_ORGANISATION = "social_organisation"

    @property
    def label(self):
        return SUPERVISOR_KIND_LABELS[self]


SUPERVISOR_KIND_LABELS = {
    SupervisorKind.NPC_DEPUTY: _l("Deputy to the People's Congress"),
    SupervisorKind.CPPCC_MEMBER: _l("CPPCC member"),
    SupervisorKind.MEDIA: _l("Media"),
    SupervisorKind.RESIDENT_REPRESENTATIVE: _l("Residents' representative"),
    SupervisorKind.SOCIAL_ORGANISATION: _l("Social organisation"),
}


class Supervisor(db.Model):
    __tablename__ = "supervisors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    kind: Mapped[SupervisorKind] = mapped_column(enum_column(SupervisorKind))
    organisation: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship(lazy="joined")


class SubjectType(enum.StrEnum):
    PROJECT = "project"
    PROVIDER = "provider"
    SESSION = "session"
    VENUE = "venue"
    AREA = "area"

    @property
    def label(self):
        return {SubjectType.PROJECT: _l("Purchase project"), SubjectType.PROVIDER: _l("Provider"),
                SubjectType.SESSION: _l("Session"), SubjectType.VENUE: _l("Venue"),
                SubjectType.AREA: _l("Area")}[self]


class ItemStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"

    @property
    def label(self):
        return {ItemStatus.OPEN: _l("Awaiting answer"), ItemStatus.ANSWERED: _l("Has an answer")}[self]


class SupervisionItem(db.Model):
    __tablename__ = "supervision_items"
    __table_args__ = (
        CheckConstraint("status <> 'answered' OR (answered_at IS NOT NULL AND answer <> '')",
                        name="answered_has_answer"),
        CheckConstraint("due_at >= raised_at", name="due_after_raised"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    subject_type: Mapped[SubjectType] = mapped_column(enum_column(SubjectType))
    subject_id: Mapped[int] = mapped_column(Integer)
    subject_name: Mapped[str] = mapped_column(String(300))
    # The jurisdiction that answers: the subject's town/street, or the district (and after escalation).
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[ItemStatus] = mapped_column(enum_column(ItemStatus, name="supervisionitemstatus"),
                                               default=ItemStatus.OPEN, index=True)
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answer: Mapped[str] = mapped_column(Text, default="")

    raised_by: Mapped[User] = relationship(foreign_keys=[raised_by_id], lazy="joined")
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id], lazy="select")
    area: Mapped[Area] = relationship(lazy="joined")
    evidence: Mapped[list[SupervisionEvidence]] = relationship(cascade="all, delete-orphan", lazy="select",
                                                               order_by="SupervisionEvidence.id")

    def overdue(self, now: dt.datetime) -> bool:
        return self.status == ItemStatus.OPEN and now > self.due_at

    def days_open(self, now: dt.datetime) -> int:
        end = self.answered_at or now
        return max(0, (end - self.raised_at).days)


class SupervisionEvidence(db.Model):
    __tablename__ = "supervision_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("supervision_items.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))

    file: Mapped[StoredFile] = relationship(lazy="joined")


class SupervisionFollow(db.Model):
    """A resident (or anyone signed in) following an item: told when it is answered."""

    __tablename__ = "supervision_follows"
    __table_args__ = (UniqueConstraint("item_id", "user_id", name="one_follow"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("supervision_items.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
