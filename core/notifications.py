"""The in-app inbox: other modules call notify() inside their operations."""

from __future__ import annotations

from sqlalchemy import func, select, update

from core.db import db, utcnow
from core.models import Notification, User


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
