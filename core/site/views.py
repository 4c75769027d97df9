"""Home page, language switch, inbox, health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select, text

from core.accounts.views import safe_next
from core.db import db
from core.forms import ConfirmForm
from core.i18n import LANG_COOKIE
from core.notifications import Notification, mark_read
from core.permissions import AUTHENTICATED, PUBLIC, access
from core.security import served_over_https
from core.views_util import Page

bp = Blueprint("main", __name__)

LANDING_EXTENSION = "huimin.landing_page"


def set_landing_page(app, view) -> None:
    """Give anonymous visitors `view()` at / (evaluation's public portal, which core never
    imports). Signed-in users keep the role home."""
    app.extensions[LANDING_EXTENSION] = view


@bp.route("/")
@access(PUBLIC)
def index():
    landing = current_app.extensions.get(LANDING_EXTENSION)
    if not current_user.is_authenticated and landing is not None:
        return landing()
    return render_template("core/site/index.html")


@bp.route("/lang", methods=["POST"])
@access(PUBLIC)
def set_language():
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        lang = current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user.is_authenticated:
        current_user.locale = lang
    resp = make_response(redirect(safe_next(request.form.get("next")) or url_for("main.index")))
    resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                    secure=current_app.config["SESSION_COOKIE_SECURE"] or served_over_https())
    return resp


@bp.route("/inbox")
@access(AUTHENTICATED)
def inbox():
    page = Page(select(Notification).where(Notification.user_id == current_user.id)
                .order_by(Notification.created_at.desc(), Notification.id.desc()))
    return render_template("core/site/inbox.html", page=page, form=ConfirmForm())


@bp.route("/inbox/read", methods=["POST"])
@access(AUTHENTICATED)
def inbox_read_all():
    mark_read(current_user)
    return redirect(url_for("main.inbox"))


@bp.route("/healthz")
@access(PUBLIC)
def healthz():
    """For load balancers: 200 when the database (and Redis, when configured) answer."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as e:  # any failure here means "not ready"
        db.session.rollback()
        checks["database"] = f"error: {type(e).__name__}"
    if current_app.config.get("REDIS_URL"):
        try:
            import redis

            client = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=1,
                                          socket_connect_timeout=1)
            try:
                client.ping()
            finally:
                client.close()
            checks["redis"] = "ok"
        except Exception as e:
            checks["redis"] = f"error: {type(e).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), (200 if healthy else 503)
