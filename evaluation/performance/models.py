"""Performance scores: each full run's district figures and each provider's snapshot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Fixed, UTCDateTime, db, utcnow
from marketplace.providers.models import Provider


class PerformanceRun(db.Model):
    """One full recompute: the district figures every provider's score of the run used. Between
    full recomputes a provider's update after a rating or decision takes its own figures as they
    are now and the district's from the latest run, so one rating costs a few indexed reads
    instead of a scan of the whole district (the district's mean moves by ~1/N per rating)."""

    __tablename__ = "performance_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(String(40), unique=True)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    model_version: Mapped[str] = mapped_column(String(20))
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    prior_mean: Mapped[Decimal] = mapped_column(Fixed(8, 6))
    acceptance: Mapped[Decimal | None] = mapped_column(Fixed(10, 6))
    punctuality: Mapped[Decimal | None] = mapped_column(Fixed(10, 6))
    providers: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=0)


class PerformanceSnapshot(db.Model):
    """One computation of one provider's performance score: every input, every component and the
    model it used. `trigger` says what caused it ("recompute", "rating", "review", …); rows of one
    full recompute share a `run_id`."""

    __tablename__ = "performance_snapshots"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        Index("ix_performance_snapshots_provider_time", "provider_id", "computed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    run_id: Mapped[str] = mapped_column(String(40), index=True)
    trigger: Mapped[str] = mapped_column(String(20))
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    model_version: Mapped[str] = mapped_column(String(20))
    # The model's parameters as used: weights, prior weight, half-life, complaint penalty.
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    # Satisfaction (1–5): counted ratings, their decayed weight and weighted sum; the prior.
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_weight: Mapped[Decimal] = mapped_column(Fixed(14, 6), default=Decimal(0))
    rating_weighted_sum: Mapped[Decimal] = mapped_column(Fixed(14, 6), default=Decimal(0))
    prior_mean: Mapped[Decimal] = mapped_column(Fixed(8, 6))
    satisfaction: Mapped[Decimal] = mapped_column(Fixed(8, 6))
    # Acceptance (0–100): decided sessions (a dispute counts 0) and their decayed mean.
    acceptance_count: Mapped[int] = mapped_column(Integer, default=0)
    acceptance: Mapped[Decimal] = mapped_column(Fixed(10, 6))
    acceptance_from_district: Mapped[bool] = mapped_column(Boolean, default=False)
    # Punctuality (0–100): sessions due (reported or missed) and the decayed share reported on time.
    due_count: Mapped[int] = mapped_column(Integer, default=0)
    on_time_count: Mapped[int] = mapped_column(Integer, default=0)
    punctuality: Mapped[Decimal] = mapped_column(Fixed(10, 6))
    punctuality_from_district: Mapped[bool] = mapped_column(Boolean, default=False)
    # Complaints: upheld complaints per 100 delivered sessions.
    delivered_count: Mapped[int] = mapped_column(Integer, default=0)
    complaints_upheld: Mapped[int] = mapped_column(Integer, default=0)
    complaints_per_100: Mapped[Decimal] = mapped_column(Fixed(12, 6), default=Decimal(0))
    # Each component as 0–100, then weighted into the score.
    satisfaction_points: Mapped[Decimal] = mapped_column(Fixed(10, 6))
    acceptance_points: Mapped[Decimal] = mapped_column(Fixed(10, 6))
    punctuality_points: Mapped[Decimal] = mapped_column(Fixed(10, 6))
    complaint_points: Mapped[Decimal] = mapped_column(Fixed(10, 6))
    # Third-party assessment: visits recorded, their decayed mean and points (None: no visit, left out).
    assessment_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    assessment: Mapped[Decimal | None] = mapped_column(Fixed(10, 6))
    assessment_points: Mapped[Decimal | None] = mapped_column(Fixed(10, 6))
    score: Mapped[Decimal] = mapped_column(Fixed(5, 2))
    grade: Mapped[str] = mapped_column(String(1))

    provider: Mapped[Provider] = relationship(lazy="select")
