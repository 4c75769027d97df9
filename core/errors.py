"""Error types shared by all modules, and the one place they are turned into responses.

HTML gets an error page; `/api/` gets `{"error": {"code", "message", "fields"}}`.
"""

from __future__ import annotations

import contextlib

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from core.db import db
from core.permissions import is_api_request


class DomainError(Exception):
    """A business rule refused an action. Operations raise it; nothing they did is kept.

    `audit_action` names the refused action; the refusal itself is then written to the
    audit log (after the rollback, so the refused change is not) by core.refusals.
    """

    status = 409
    code = "conflict"

    def __init__(self, message, field: str | None = None, *, audit_action: str | None = None,
                 obj=None, status: int | None = None, code: str | None = None,
                 retry_after: int | None = None, **details):
        super().__init__(str(message))
        self.message = message
        self.field = field
        # Seconds after which trying again may succeed (sent as Retry-After).
        self.retry_after = retry_after
        self.audit_action = audit_action
        self.object_type = getattr(obj, "__tablename__", None)
        self.object_id = getattr(obj, "id", None)
        self.details = details
        if status:
            self.status = status
        if code:
            self.code = code

    def fields(self) -> dict:
        return {self.field: [str(self.message)]} if self.field else {}


class Invalid(DomainError):
    """Input that cannot be accepted as given (422)."""

    status = 422
    code = "invalid"


class UnsupportedContent(Invalid):
    """An uploaded file that is not of an accepted type by its content, or not readable as one (415):
    no schema can say what bytes are a PDF, so the answer is the status HTTP has for it."""

    status = 415
    code = "unsupported_media_type"


class TooLarge(Invalid):
    """An uploaded file over the size or pixel limit of the moment (413; the limits are settings)."""

    status = 413
    code = "too_large"


class Refused(DomainError):
    """Valid input that a rule does not allow now (409)."""


class Missing(DomainError):
    """Well-formed input naming an object that does not exist (an item code, an area code): 404
    naming the field. Its form is in the API document; whether it exists no schema can say."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    """The actor may not do this, with the reason (403)."""

    status = 403
    code = "forbidden"


HTTP_MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Please log in first."),
    403: _l("You do not have permission to do this."),
    404: _l("The page or object was not found."),
    405: _l("This method is not allowed here."),
    409: _l("The request conflicts with the current state."),
    413: _l("The upload is too large."),
    422: _l("Some of the input is invalid."),
    429: _l("Too many requests. Please wait and try again."),
    500: _l("Something went wrong on our side. Nothing was changed."),
    503: _l("The service is temporarily unavailable. Please try again shortly."),
}


def json_error(status: int, code: str, message, fields=None, headers=None):
    body = {"error": {"code": code, "message": str(message), "fields": fields or {}}}
    resp = jsonify(body)
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def error_page(status: int, message, headers=None):
    resp = render_template("errors/error.html", status=status, message=message), status
    return (*resp, headers) if headers else resp


def safe_rollback():
    # The connection itself may be gone (database down); there is nothing left to undo then.
    with contextlib.suppress(Exception):
        db.session.rollback()


def handle_http(e: HTTPException):
    status = e.code or 500
    # A description passed to abort() is meant for the user; Werkzeug's defaults are not.
    custom = e.description and e.description != type(e).description
    message = e.description if custom else HTTP_MESSAGES.get(status, e.name)
    headers = {}
    if status == 429 and e.get_response().headers.get("Retry-After"):
        headers["Retry-After"] = e.get_response().headers["Retry-After"]
    if status == 405:
        headers["Allow"] = e.get_response().headers.get("Allow", "")
    if is_api_request():
        return json_error(status, e.name.lower().replace(" ", "_"), message, headers=headers)
    return error_page(status, message, headers)


def handle_domain(e: DomainError):
    # A refusal no view answered itself: on record, undone, and the error page or JSON error.
    from core.refusals import refused

    return refused(e)


def handle_validation(e: ValidationError):
    safe_rollback()
    fields = e.messages if isinstance(e.messages, dict) else {"_schema": e.messages}
    return json_error(422, "invalid", _("Some of the input is invalid."), fields)


def handle_db_down(e: Exception):
    from flask import current_app, g

    safe_rollback()
    current_app.logger.error("database unavailable on %s %s: %s: %s", request.method, request.path,
                             type(e).__name__, str(e).splitlines()[0] if str(e) else "")
    # Nobody can be looked up now: the rest of this request (locale, access log) sees a visitor.
    g._login_user = current_app.login_manager.anonymous_user()
    if is_api_request():
        return json_error(503, "unavailable", HTTP_MESSAGES[503], headers={"Retry-After": "5"})
    # The error page must not need the database (no current_user lookups beyond the cache).
    page = render_template("errors/error.html", status=503, message=HTTP_MESSAGES[503], bare=True)
    return page, 503, {"Retry-After": "5"}


def handle_unexpected(e: Exception):
    from flask import current_app

    safe_rollback()
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    if is_api_request():
        return json_error(500, "internal", HTTP_MESSAGES[500])
    return render_template("errors/error.html", status=500, message=HTTP_MESSAGES[500], bare=True), 500


def register(app):
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(DomainError, handle_domain)
    app.register_error_handler(ValidationError, handle_validation)
    app.register_error_handler(OperationalError, handle_db_down)
    app.register_error_handler(InterfaceError, handle_db_down)
    if not app.config.get("PROPAGATE_EXCEPTIONS"):
        app.register_error_handler(Exception, handle_unexpected)
