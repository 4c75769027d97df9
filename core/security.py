"""The app's defences in one place: response headers, cookies, rate limits, session timeouts.

- Headers: a content security policy that admits no inline script or style, HSTS when served
  over HTTPS, no framing, no MIME sniffing, a strict referrer policy.
- Cookies: HttpOnly, SameSite=Lax, Secure whenever the request came over HTTPS.
- Rate limits (Flask-Limiter): views declare theirs with `@limit("10/minute")`; every
  `/api/` request also counts against one shared API limit. Counters live in Redis when
  `REDIS_URL` is set (shared by every worker), in memory for a single development process.
- Sessions end after inactivity (shorter for officers and administrators) and after an
  absolute lifetime, whatever the activity.
- Text with a NUL character is refused at the door (PostgreSQL cannot store it; nobody types it).
- Behind a reverse proxy, `PROXY_COUNT` says how many hops of X-Forwarded-For to trust;
  without it the header is ignored, so it cannot be used to dodge per-address limits.
"""

from __future__ import annotations

import hashlib
import time

from flask import abort, current_app, flash, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import ApplicationLimit, Limiter
from flask_login import current_user, logout_user, user_logged_in
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from werkzeug.middleware.proxy_fix import ProxyFix

from core import settings
from core.accounts.models import Role

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"

IDLE_STAFF = settings.define(
    "session.idle_minutes_staff", 30, _l("Sign-out after inactivity, officers and administrators (minutes)"),
    int, 5, 480)
IDLE_OTHERS = settings.define(
    "session.idle_minutes", 480, _l("Sign-out after inactivity, other users (minutes)"), int, 5, 10080)
ABSOLUTE = settings.define(
    "session.absolute_hours", 12, _l("Longest session, whatever the activity (hours)"), int, 1, 168)
SETTINGS = (IDLE_STAFF, IDLE_OTHERS, ABSOLUTE)

# Session keys (seconds since the epoch): when this sign-in began, when it was last active.
STARTED, SEEN = "_started", "_seen"
# Activity is written back to the cookie at most this often, not on every request.
SEEN_RESOLUTION = 60


# --- keys for rate limits ----------------------------------------------------------------------

def by_address() -> str:
    """The client's address (the proxy's view of it only when PROXY_COUNT trusts the proxy)."""
    return "addr:" + (request.remote_addr or "unknown")


def by_caller() -> str:
    """The bearer token, else the signed-in user of the session cookie, else the address.

    Read from the request alone, never the database, so counting works while it is down and
    costs nothing; colleagues behind one office gateway do not share a counter.
    """
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and header[7:].strip():
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
    user_id = str(session.get("_user_id") or "").partition(":")[0]
    if user_id.isdigit():
        return "user:" + user_id
    return by_address()


# --- declaring limits on views ---------------------------------------------------------------

def limit(value: str, *, methods=("POST",), key=by_address, config: str | None = None):
    """Rate-limit a view: `@limit("10/minute")`, several windows as "10/minute;100/hour".

    `methods`: which methods count (default POST: showing a form is free, sending it is not);
    None counts every method. `key`: `by_address` or `by_caller`. `config`: an app config key
    whose value, when set, replaces `value` (so a deployment or a test can tune it).
    The limits are attached to this app's limiter when the app is created.
    """

    def decorate(view):
        spec = {"value": value, "methods": list(methods) if methods else None, "key": key, "config": config}
        view.rate_limits = (*getattr(view, "rate_limits", ()), spec)
        return view

    return decorate


def _provider(spec):
    def provide() -> str:
        return (current_app.config.get(spec["config"]) if spec["config"] else None) or spec["value"]

    return provide


def _too_many() -> str:
    return _("Too many requests. Please wait and try again.")


def _is_not_api() -> bool:
    return not request.path.startswith("/api/")


def _limiter(app) -> Limiter | None:
    cfg = app.config
    cfg.setdefault("RATELIMIT_ENABLED", True)
    if not cfg["RATELIMIT_ENABLED"]:
        return None
    redis_url = cfg.get("REDIS_URL")
    cfg.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    if cfg["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        # A Redis outage must not take the site down: count in this process until it is back.
        cfg.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
        cfg.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1})
    cfg.setdefault("RATELIMIT_KEY_PREFIX", "huimin")
    api_limit = ApplicationLimit(limit_provider=lambda: current_app.config["RATELIMIT_API"],
                                 key_function=by_caller, scope="api", exempt_when=_is_not_api,
                                 error_message=_too_many)
    # One limiter per app: Flask-Limiter keeps its storage and switches on the instance.
    limiter = Limiter(key_func=by_address, application_limits=[api_limit], headers_enabled=True)
    limiter.init_app(app)
    # Views that declared limits (login, registration, token issue, later ratings and bids).
    for endpoint, view in list(app.view_functions.items()):
        for spec in getattr(view, "rate_limits", ()):
            view = limiter.limit(_provider(spec), key_func=spec["key"], methods=spec["methods"],
                                 error_message=_too_many, override_defaults=False)(view)
        app.view_functions[endpoint] = view
    return limiter


# --- sessions ----------------------------------------------------------------------------------

def _now() -> int:
    return int(time.time())


def _on_login(sender, user, **extra):
    now = _now()
    session[STARTED] = now
    session[SEEN] = now


def end_stale_session():
    """before_request: sign out a session idle too long or older than the absolute limit.

    Registered before access is decided, so a protected page then sends the user to log in.
    """
    if "_user_id" not in session or request.endpoint == "static":
        return
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return  # disabled, or signed out elsewhere: Flask-Login already refused the cookie
    now = _now()
    started, seen = session.get(STARTED), session.get(SEEN)
    staff = user.has_role(Role.OFFICER, Role.ADMIN)
    idle = 60 * settings.get(IDLE_STAFF.key if staff else IDLE_OTHERS.key)
    longest = 3600 * settings.get(ABSOLUTE.key)
    # A signed-in cookie without the times predates this rule: it is not trusted either.
    if not isinstance(started, int) or not isinstance(seen, int) or now - seen > idle or now - started > longest:
        current_app.logger.info("session of user %s ended: %s", user.id,
                                "too long" if isinstance(started, int) and now - started > longest else "inactive")
        logout_user()
        session.clear()
        if not request.path.startswith("/api/"):
            flash(_("Your session has ended. Please log in again."), "info")
        return
    if now - seen >= SEEN_RESOLUTION:
        session[SEEN] = now


# --- cookies and headers ---------------------------------------------------------------------

def served_over_https() -> bool:
    return bool(current_app.config.get("HTTPS") or (has_request_context() and request.is_secure))


class SessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose cookie is Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or served_over_https()


def protective_headers() -> list[tuple[str, str]]:
    """The headers every response carries (static files too, core/static_files.py); HSTS aside."""
    return [("Content-Security-Policy", CONTENT_SECURITY_POLICY), ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "strict-origin-when-cross-origin"),
            ("Permissions-Policy", PERMISSIONS_POLICY), ("Cross-Origin-Opener-Policy", "same-origin")]


def _headers(response):
    h = response.headers
    for name, value in protective_headers():
        h.setdefault(name, value)
    if served_over_https():
        h.setdefault("Strict-Transport-Security", HSTS)
    return response


def _csrf_refused(e: CSRFError):
    from core.errors import error_page, json_error

    message = _("This form has expired or did not come from this site. Reload the page and try again.")
    if request.path.startswith("/api/"):
        return json_error(400, "csrf", message)
    return error_page(400, message)


def init_app(app):
    """Install headers, cookie rules, the proxy setting and rate limits (after the blueprints)."""
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_SECURE"] = bool(app.config.get("HTTPS"))
    app.session_interface = SessionInterface()
    user_logged_in.connect(_on_login, app)
    app.after_request(_headers)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.extensions["huimin_limiter"] = _limiter(app)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def refuse_nul():
    """before_request: a NUL character in a path argument, a query or form argument, or a JSON body.

    PostgreSQL refuses NUL in text, so such a value would fail deep inside a query (a 500); and
    no person types one. A path argument with NUL names nothing (404); in the API any other input
    is a 422 naming the fields; a form gets 400.
    """
    if any(_has_nul(v) for v in (request.view_args or {}).values()):
        abort(404)
    bad = {k for k, v in request.args.items(multi=True) if _has_nul(k) or _has_nul(v)}
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if request.is_json:
            body = request.get_json(silent=True)
            if isinstance(body, dict):
                bad |= {k for k, v in body.items() if _has_nul(k) or _has_nul(v)}
            elif _has_nul(body):
                bad.add("_schema")
        elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            bad |= {k for k, v in request.form.items(multi=True) if _has_nul(k) or _has_nul(v)}
    if not bad:
        return
    if request.path.startswith("/api/"):
        message = _("Text may not contain the NUL character.")
        raise ValidationError({k.replace("\x00", "\\x00"): [message] for k in bad})
    abort(400)
