"""Performance scores: each full run's district figures and each provider's snapshot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false

from core.db import Fixed, UTCDateTime, db, utcnow
from marketplace.providers.models import Provider


class PerformanceRun(db.Model):
    """One full recompute: the district figures every provider's score of the run used.
    `figures_kept`: the run rebuilt every provider's PerformanceFigures, so from then on the
    district's figures are the sum of those rows (see PerformanceFigures)."""

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
    figures_kept: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class PerformanceFigures(db.Model):
    """One provider's aggregates as of `as_of`, kept current by every event that changes them.

    The decayed sums are the values at `as_of`; at a later time t each is worth
    value · exp(−ln 2 · (t − as_of) / half-life), since every term decays by the same factor. So a
    row stays true without being touched, and the district's figures at any moment are one SUM
    over these rows (a few thousand) instead of a scan of every rating and session. Each update
    re-expresses its row at its own time, which is the rebase: the factor is never above 1 and
    exp() cannot overflow however long the district runs. One row per provider, so concurrent
    ratings of different providers never wait for one another."""

    __tablename__ = "performance_figures"

    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), primary_key=True)
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    half_life_days: Mapped[int] = mapped_column(Integer)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_star_sum: Mapped[float] = mapped_column(Double, default=0.0)
    rating_weight: Mapped[float] = mapped_column(Double, default=0.0)
    rating_weighted_sum: Mapped[float] = mapped_column(Double, default=0.0)
    acceptance_count: Mapped[int] = mapped_column(Integer, default=0)
    acceptance_weight: Mapped[float] = mapped_column(Double, default=0.0)
    acceptance_weighted_sum: Mapped[float] = mapped_column(Double, default=0.0)
    due_count: Mapped[int] = mapped_column(Integer, default=0)
    due_weight: Mapped[float] = mapped_column(Double, default=0.0)
    on_time_count: Mapped[int] = mapped_column(Integer, default=0)
    on_time_weight: Mapped[float] = mapped_column(Double, default=0.0)
    delivered_count: Mapped[int] = mapped_column(Integer, default=0)
    complaints_upheld: Mapped[int] = mapped_column(Integer, default=0)
    assessment_count: Mapped[int] = mapped_column(Integer, default=0)
    assessment_weight: Mapped[float] = mapped_column(Double, default=0.0)
    assessment_weighted_sum: Mapped[float] = mapped_column(Double, default=0.0)


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
