"""Application factory: configuration, extensions, blueprints, error handlers, CLI commands."""

from __future__ import annotations

import logging
import sys
import time
import uuid
from pathlib import Path

from flask import Flask, g, request
from flask_login import current_user
from sqlalchemy import inspect as sa_inspect

from core import config as config_module
from core.db import db, write_intent

ROOT = Path(__file__).resolve().parent


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(config_module.load(Path(app.instance_path), config))
    _logging(app)
    _extensions(app)
    from core.views_util import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any rule is added
    _blueprints(app)
    _hooks(app)
    from core import errors

    errors.register(app)
    _cli(app)
    return app


def _logging(app: Flask):
    """One line per event on standard output, with the request id."""

    class RequestIdFilter(logging.Filter):
        def filter(self, record):
            from flask import has_request_context

            record.request_id = g.get("request_id", "-") if has_request_context() else "-"
            return True

    class StdoutHandler(logging.StreamHandler):
        # Looked up on each write, so a replaced sys.stdout (a test runner's capture) gets the line.
        @property
        def stream(self):
            return sys.stdout

        @stream.setter
        def stream(self, value):
            pass

    handler = StdoutHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(app.config["LOG_LEVEL"])
    app.logger.propagate = False


def _extensions(app: Flask):
    from core import i18n
    from core.extensions import babel, csrf, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=lambda: "Asia/Shanghai")
    i18n.init_app(app)
    from core.accounts import views as auth

    auth.init_login(app, login_manager)


def _blueprints(app: Flask):
    # In the direction of imports: each package may hear the ones before it.
    import catalog
    import core
    import evaluation
    import marketplace
    import seeds

    core.init_app(app)
    catalog.init_app(app)
    marketplace.init_app(app)
    evaluation.init_app(app)
    seeds.init_app(app)


def _hooks(app: Flask):
    from core import security
    from core.extensions import csrf
    from core.permissions import enforce_access

    access_log = logging.getLogger(app.logger.name + ".access")

    @app.before_request
    def _start():
        # Per-request state starts empty even when a caller (a test) keeps one app context open.
        for key in list(g):
            g.pop(key, None)
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex[:16]
        g.started = time.perf_counter()
        # Writing requests take SQLite's write lock when their transaction begins.
        write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))

    # Headers, cookies and rate limits (the limiter counts before anything else is done).
    security.init_app(app)

    @app.before_request
    def _csrf():
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE") or not app.config.get("WTF_CSRF_ENABLED", True):
            return
        if request.path.startswith("/api/"):
            # Bearer-token API calls carry no cookie credentials, so CSRF cannot apply to them;
            # nor to API calls without the session cookie (a script asking for a token).
            if request.headers.get("Authorization", "").startswith("Bearer "):
                return
            if app.config["SESSION_COOKIE_NAME"] not in request.cookies:
                return
        csrf.protect()

    app.before_request(security.refuse_nul)
    # Idle and over-age sessions are ended before access is decided.
    app.before_request(security.end_stale_session)
    app.before_request(enforce_access)

    @app.after_request
    def _access_log(response):
        # after_request runs in reverse order: this runs after _commit and sees the final status.
        user = g.get("_login_user")  # only if loaded already: logging never queries the database
        # The id from the identity map: reading user.id after the commit would reload the row
        # (and on SQLite take the write lock again for a request that is over).
        user_id = sa_inspect(user).identity[0] if getattr(user, "is_authenticated", False) else "-"
        ms = (time.perf_counter() - g.started) * 1000 if "started" in g else 0.0
        # The path without its query string: links may carry tokens.
        access_log.info("%s %s %s %.1fms user=%s", request.method, request.path, response.status_code, ms,
                        user_id)
        return response

    @app.after_request
    def _commit(response):
        # One place commits: a request that succeeded keeps its work, before the client hears
        # so; error responses were rolled back by their handler.
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if getattr(current_user, "is_authenticated", False):
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response

    @app.teardown_request
    def _end(exc):
        write_intent.set(False)


def _cli(app: Flask):
    from core import cli

    cli.register(app)
