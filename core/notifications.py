"""The in-app inbox: other modules call notify() inside their operations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    ForeignKey,
    String,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.accounts.models import User
from core.db import UTCDateTime, db, utcnow


def notify(user: User | int, subject, body="", link: str | None = None) -> Notification:
    user_id = user if isinstance(user, int) else user.id
    n = Notification(user_id=user_id, subject=str(subject)[:200], body=str(body), link=link)
    db.session.add(n)
    return n


def unread_count(user: User) -> int:
    return db.session.scalar(
        select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def mark_read(user: User, notification_id: int | None = None) -> int:
    stmt = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    return db.session.execute(stmt.values(read_at=utcnow())).rowcount


class Notification(db.Model):
    """An in-app inbox message."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
