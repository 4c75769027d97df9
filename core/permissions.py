"""The one way views are guarded.

Every view declares who may reach it with `@access(...)`. A single before-request hook
enforces the declaration, and refuses any endpoint that declares nothing, so a new page
without a guard is closed rather than open (and fails the route × role test).
Object-level rules (jurisdiction, ownership) are checked by the view with `require()`.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from core.accounts.models import Role

PUBLIC = "public"
AUTHENTICATED = "authenticated"


def access(*who):
    """Declare who may call a view: PUBLIC, AUTHENTICATED, or one or more roles."""
    if not who:
        raise ValueError("access() needs PUBLIC, AUTHENTICATED or roles")
    allowed = frozenset(w if isinstance(w, str) and w in (PUBLIC, AUTHENTICATED) else Role(w) for w in who)

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            return view(*args, **kwargs)

        wrapper.access = allowed
        return wrapper

    return decorate


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def endpoint_access(endpoint: str | None):
    if endpoint is None:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return frozenset({PUBLIC})
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access", None)


def enforce_access():
    """before_request: apply the endpoint's declaration."""
    if request.endpoint is None:  # 404/405 are handled by routing
        return None
    allowed = endpoint_access(request.endpoint)
    if allowed is None:
        current_app.logger.error("endpoint %s declares no access; refused", request.endpoint)
        abort(403)
    if PUBLIC in allowed:
        return None
    if not current_user.is_authenticated:
        if is_api_request():
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if AUTHENTICATED in allowed:
        return None
    if not current_user.roles.intersection(allowed):
        abort(403)
    return None


def require(condition: bool):
    """Object-level check inside a view: refuse with 403 unless the condition holds.

    The refusal is audited (another user's bid, session or project asked for is a trace worth
    keeping), after the request's own changes are rolled back."""
    if not condition:
        from flask_babel import lazy_gettext as _l

        from core.errors import Forbidden

        raise Forbidden(_l("You do not have permission to do this."), audit_action="access",
                        endpoint=request.endpoint, path=request.path, method=request.method)


def require_jurisdiction(area):
    """Refuse unless the current officer's jurisdiction covers the area."""
    require(current_user.is_authenticated and current_user.has_role(Role.OFFICER) and current_user.covers_area(area))
