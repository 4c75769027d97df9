"""The benchmark floor: the base layout and one indexed query, as cheap as a page of this app can
be. `make bench` measures every key page beside it. Served only when BENCH_ENDPOINTS is set."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select

from core.db import db
from core.models import Area
from core.permissions import PUBLIC, access

bp = Blueprint("bench", __name__, url_prefix="/bench")


@bp.route("/floor")
@access(PUBLIC)
def floor():
    if not current_app.config.get("BENCH_ENDPOINTS"):
        abort(404)
    # One query through an index: the district (the area without a parent).
    area = db.session.scalar(select(Area).where(Area.parent_id.is_(None)).limit(1))
    return render_template("core/bench_floor.html", area=area)
