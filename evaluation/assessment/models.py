"""Third-party assessment: agencies (with a credit code and an engagement period), their assessors,
the monthly sampling plan (seed, candidate order, strata) and the unannounced visits.

The draw is reproducible by anyone (see evaluation/assessment/draw.py): each candidate session's key
is SHA-256("<seed>:<session id>") in hex; candidates sorted by key form the candidate order.
"""

from __future__ import annotations

import datetime as dt
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts.models import User
from core.db import UTCDateTime, db, enum_column, utcnow
from core.uploads import StoredFile
from marketplace.sessions.models import ServiceSession


class AssessmentAgency(db.Model):
    """A professional organisation engaged for third-party assessment (第三方测评机构)."""

    __tablename__ = "assessment_agencies"
    __table_args__ = (CheckConstraint("engaged_until >= engaged_from", name="engagement_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    engaged_from: Mapped[dt.date] = mapped_column(Date)
    engaged_until: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def engaged_on(self, day: dt.date) -> bool:
        return self.engaged_from <= day <= self.engaged_until


class Assessor(db.Model):
    """A member of an agency's staff with the `assessor` role. `employer_credit_code` is another
    organisation the assessor works for (a conflict when that organisation is the provider)."""

    __tablename__ = "assessors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("assessment_agencies.id"), index=True)
    employer_credit_code: Mapped[str] = mapped_column(String(18), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    user: Mapped[User] = relationship(lazy="joined")
    agency: Mapped[AssessmentAgency] = relationship(lazy="joined")


class AssessmentPlan(db.Model):
    """The sampling plan of one month: what was drawn, from what, with which seed."""

    __tablename__ = "assessment_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)  # YYYY-MM, Beijing calendar
    seed: Mapped[str] = mapped_column(String(64))
    share_percent: Mapped[int] = mapped_column(Integer)
    min_per_town: Mapped[int] = mapped_column(Integer)
    # Candidate sessions in draw order: [{session_id, key, town_id, provider_id, category_id}].
    candidates: Mapped[list] = mapped_column(JSON, default=list)
    sample: Mapped[list] = mapped_column(JSON, default=list)  # sampled session ids, in plan order
    assessors: Mapped[list] = mapped_column(JSON, default=list)  # assessor ids in assignment order
    drawn_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    drawn_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    visits: Mapped[list[AssessmentVisit]] = relationship(back_populates="plan", order_by="AssessmentVisit.position",
                                                         lazy="select")


class VisitStatus(enum.StrEnum):
    PLANNED = "planned"
    RECORDED = "recorded"

    @property
    def label(self):
        return {VisitStatus.PLANNED: _l("To visit"), VisitStatus.RECORDED: _l("Recorded")}[self]


CHECKLIST = ("duration", "staffing", "content", "target_group")


class AssessmentVisit(db.Model):
    __tablename__ = "assessment_visits"
    __table_args__ = (
        UniqueConstraint("plan_id", "session_id", name="one_visit_per_session"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
        CheckConstraint("counted_attendance IS NULL OR counted_attendance >= 0", name="counted_not_negative"),
        CheckConstraint("status <> 'recorded' OR (recorded_at IS NOT NULL AND score IS NOT NULL "
                        "AND counted_attendance IS NOT NULL)", name="recorded_has_figures"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("assessment_plans.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("service_sessions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    assessor_id: Mapped[int | None] = mapped_column(ForeignKey("assessors.id"), index=True)
    # Assessors passed over for this visit: [{assessor_id, reason}].
    skipped: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[VisitStatus] = mapped_column(enum_column(VisitStatus), default=VisitStatus.PLANNED, index=True)
    recorded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    checklist: Mapped[dict] = mapped_column(JSON, default=dict)  # CHECKLIST name → met (bool)
    counted_attendance: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[int | None] = mapped_column(Integer)
    findings: Mapped[str] = mapped_column(Text, default="")
    # What the provider and the venue's officer said, as at the visit's recording (for the flags).
    reported_attendance: Mapped[int | None] = mapped_column(Integer)
    acceptance_score: Mapped[int | None] = mapped_column(Integer)
    attendance_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    score_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    falsification_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    falsification_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    plan: Mapped[AssessmentPlan] = relationship(back_populates="visits")
    session: Mapped[ServiceSession] = relationship(lazy="select")
    assessor: Mapped[Assessor | None] = relationship(lazy="select")
    photos: Mapped[list[AssessmentPhoto]] = relationship(cascade="all, delete-orphan", lazy="select",
                                                         order_by="AssessmentPhoto.id")

    @property
    def discrepancy(self) -> bool:
        return self.attendance_flag or self.score_flag


class AssessmentPhoto(db.Model):
    __tablename__ = "assessment_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("assessment_visits.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))

    file: Mapped[StoredFile] = relationship(lazy="joined")
