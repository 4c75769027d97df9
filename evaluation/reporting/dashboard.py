"""The officer's and the admin's dashboards: their landing pages (first in the navigation).

The officer's shows the figures of evaluation.figures for their jurisdiction (a town officer
sees their town/street only) and what waits for them; the admin's shows the system's state.
Both load in a fixed number of statements whatever the data size; each chart has its table.
The officer's figures are reused for a few minutes (core/cache.py); what waits for them is always live.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from flask import Blueprint, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select, text

from core import audit, cache, charts
from core.accounts.models import ApiToken, Role, User, UserRole
from core.db import db, utcnow
from core.i18n import LOCAL_TZ
from core.jobs import operations as jobs
from core.permissions import access
from evaluation.reporting import figures
from evaluation.supervision import operations as supervision

bp = Blueprint("dashboard", __name__)


# --- the officer's -------------------------------------------------------------------------------

@bp.route("/dashboard")
@access(Role.OFFICER)
def officer():
    scope = current_user.jurisdiction
    if scope is None:
        return render_template("evaluation/reporting/dashboard/officer.html", scope=None, f=None)
    ttl = cache.seconds()
    f, figures_at = month_figures(scope, ttl)
    pending = figures.pending(scope)
    chart_svgs = figures.charts_of(f, width=480, bar_height=18, coverage_bar_height=14, font_size=12)
    return render_template("evaluation/reporting/dashboard/officer.html", scope=scope, f=f, pending=pending,
                           charts=chart_svgs, reach_days=figures.REACH_DAYS,
                           district=figures.is_district(scope), figures_at=figures_at, cache_seconds=ttl,
                           supervision_counts=supervision.officer_counts(scope))


def month_figures(scope, ttl: int) -> tuple[figures.Figures, dt.datetime]:
    """This month's figures of the jurisdiction, computed at most every `ttl` seconds."""
    now = utcnow()
    local = now.astimezone(LOCAL_TZ)
    period = figures.month_period(local.year, local.month)

    def compute():
        # Kept without the scope: an Area belongs to the session of the request that loaded it.
        # Without lists, the figures hold no other ORM object.
        return dataclasses.replace(figures.compute(period, scope, now=now, with_lists=False), scope=None)

    f, at = cache.remember(f"officer-dashboard:{scope.id}:{period.label}", ttl, compute)
    return dataclasses.replace(f, scope=scope), at


# --- the admin's ---------------------------------------------------------------------------------

def database_size() -> int | None:
    """Bytes the database takes, when the database can say."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        row = db.session.execute(text("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"))
        return int(row.scalar() or 0)
    if dialect == "postgresql":
        return int(db.session.scalar(text("SELECT pg_database_size(current_database())")) or 0)
    return None


def last_backup() -> tuple[str, dt.datetime] | None:
    """The newest file in the default folder of `flask backup create` (backups written elsewhere
    are not seen: nothing records them in the database)."""
    folder = Path(current_app.instance_path) / "backups"
    if not folder.is_dir():
        return None
    newest = max((p for p in folder.iterdir() if p.is_file()), key=lambda p: p.stat().st_mtime, default=None)
    if newest is None:
        return None
    return newest.name, dt.datetime.fromtimestamp(newest.stat().st_mtime, dt.UTC)


@bp.route("/admin/dashboard")
@access(Role.ADMIN)
def admin():
    now = utcnow()
    by_role = dict(db.session.execute(
        select(UserRole.role, func.count()).join(User, User.id == UserRole.user_id)
        .where(User.active.is_(True)).group_by(UserRole.role)).all())
    roles = [(r, by_role.get(r, 0)) for r in Role]

    def count(stmt):
        return select(func.count()).select_from(stmt.subquery()).scalar_subquery()

    event = audit.AuditEvent
    row = db.session.execute(select(
        count(select(User.id)),
        count(select(User.id).where(User.active.is_(False))),
        count(select(User.id).where(User.last_login_at >= now - dt.timedelta(days=1))),
        count(select(User.id).where(User.last_login_at >= now - dt.timedelta(days=30))),
        count(select(ApiToken.id).where(ApiToken.expires_at > now)),
        count(select(event.id)),
        count(select(event.id).where(event.at >= now - dt.timedelta(days=1))),
        count(select(event.id).where(event.at >= now - dt.timedelta(days=7))),
        count(select(event.id).where(event.action.like("refused.%"), event.at >= now - dt.timedelta(days=7))),
    )).one()
    system = dict(zip(("users", "inactive", "signed_in_day", "signed_in_month", "tokens", "events", "events_day",
                       "events_week", "refusals_week"), (int(v or 0) for v in row), strict=True))
    recent = db.session.scalars(select(event).order_by(event.seq.desc()).limit(10)).all()
    chart = charts.bar_chart([str(r.label) for r, _n in roles], [n for _r, n in roles],
                             title=_("Active users by role"), width=520, bar_height=18)
    return render_template("evaluation/reporting/dashboard/admin.html", roles=roles, system=system, recent=recent,
                           chart=chart, db_size=database_size(), backup=last_backup(), queue=jobs.queue_figures(now),
                           dialect=db.session.get_bind().dialect.name)
