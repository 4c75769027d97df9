"""The benchmark floor: the base layout and one indexed query, as cheap as a page of this app can
be. `make bench` measures every key page beside it. Only the bench serves it:
gunicorn "tools.bench.floor:create_app()"."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, render_template
from sqlalchemy import select

from core.areas.models import Area
from core.db import db
from core.permissions import PUBLIC, access

bp = Blueprint("bench", __name__, url_prefix="/bench", template_folder=str(Path(__file__).parent / "templates"))


@bp.route("/floor")
@access(PUBLIC)
def floor():
    # One query through an index: the district (the area without a parent).
    area = db.session.scalar(select(Area).where(Area.parent_id.is_(None)).limit(1))
    return render_template("bench_floor.html", area=area)


def create_app(config: dict | None = None):
    """The app as it is served, with the floor page added."""
    from app import create_app as create_huimin

    app = create_huimin(config)
    app.register_blueprint(bp)
    return app
