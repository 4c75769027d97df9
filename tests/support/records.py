"""Reading back what the app wrote: row counts and refusals in the audit log."""

from __future__ import annotations

from sqlalchemy import func, select

from core.audit import AuditEvent


def count_rows(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def refusals(session, action: str) -> list[AuditEvent]:
    """The audited refusals of one action (`bid.submit` → events `refused.bid.submit`), oldest first."""
    return session.scalars(select(AuditEvent).where(AuditEvent.action == "refused." + action)
                           .order_by(AuditEvent.seq)).all()
