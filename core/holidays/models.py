"""Statutory holidays and make-up working days entered by an admin."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import db


class Holiday(db.Model):
    """Admin-entered statutory holidays and make-up working days for years the calendar
    package does not cover."""

    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column()
    is_workday: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(60), default="")
