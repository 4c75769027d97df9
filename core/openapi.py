"""The JSON API described as OpenAPI 3: each view declares its operation next to itself with
`@api_doc(...)`; the document is built by walking the app's URL map under /api/v1, so a route
without a declaration is missing from the document (and the test comparing the two fails).

What follows from a view's other declarations is not repeated: `@access` gives the bearer
security and the 401/403 answers, path arguments the 404, a query or body schema the 422, a
write method the 400 (CSRF), the shared API rate limit the 429 (and `@limit` its own figures).
Every error has the one shape of `core.errors.json_error` (ErrorSchema).
"""

from __future__ import annotations

import re
from http import HTTPStatus

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from marshmallow import fields

from core.accounts.schemas import ErrorSchema
from core.permissions import AUTHENTICATED, PUBLIC
from core.views_util import MAX_ID

PREFIX = "/api/v1"
DOCUMENTED_METHODS = ("get", "post", "put", "patch", "delete")
SECURITY_SCHEME = "bearer"

_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")


def api_doc(summary, *, description=None, query=None, body=None, body_required: bool = True,
            responses: dict | None = None, errors: tuple[int, ...] = (), tags: tuple[str, ...] = (),
            path: dict[str, dict] | None = None):
    """Declare a view's operation in the OpenAPI document.

    `query`/`body`: marshmallow schemas of the query arguments and the JSON body;
    `responses`: {status: schema or None} for the successful answers; `errors`: error statuses
    beyond those that follow from access, limits, path arguments and input (409, a 404 of a
    view without path arguments...); `path`: {argument: JSON schema} for a path argument whose form
    the URL converter does not state (a month's pattern). Place it directly under `@bp.route`.

    `summary`/`description` are English, marked with lazy gettext (`_l`) where declared: the
    document keeps the English (machine readers), the API documentation page shows the translation.
    """

    def decorate(view):
        view.api_doc = {"summary": summary, "description": description, "query": query, "body": body,
                        "body_required": body_required, "responses": responses or {200: None},
                        "errors": tuple(errors), "tags": tuple(tags), "path": dict(path or {})}
        return view

    return decorate


def _decimal_as_string(self, field, **kwargs) -> dict:
    # Decimals are sent as strings (money, scores): a JSON number would lose the exact value.
    if isinstance(field, fields.Decimal) and field.as_string:
        return {"type": "string", "format": "decimal"}
    return {}


# Text with a NUL character is refused everywhere (core/security.py): every string says so, unless
# it states a pattern of its own (which then excludes NUL itself).
NO_NUL = "^[^\\x00]*$"


def _string_without_nul(self, field, **kwargs) -> dict:
    ret = kwargs.get("ret") or {}
    if isinstance(field, fields.String) and "pattern" not in ret and ret.get("format") is None:
        return {"pattern": NO_NUL}
    return {}


def _path(rule) -> tuple[str, list[dict]]:
    params = []

    def replace(m):
        converter, name = m.group("converter") or "default", m.group("name")
        if converter == "int":
            schema = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
        else:
            schema = {"type": "string", "minLength": 1}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return _ARGUMENT.sub(replace, rule.rule), params


# Why a status may come, where the reason is not plain from the operation.
ERROR_NOTES = {
    400: _l("A call authenticated by the session cookie (from a page) without its CSRF token; "
         "bearer-token calls never get it"),
    401: _l("No valid bearer token (or, for POST /api/v1/tokens, wrong credentials)"),
    403: _l("The caller's role or relation to the object does not allow it (with the reason)"),
    409: _l("A business rule refuses it now (the message says which)"),
    413: _l("An uploaded file is over the size limit"),
    415: _l("An uploaded file is not a PDF, JPEG or PNG by its content, or not readable as one"),
    422: _l("Input refused; error.fields names each field"),
    429: _l("Too many requests; Retry-After says when to try again"),
}


RATE_LIMIT = " Rate limit: "


def _error(status: int) -> dict:
    description = HTTPStatus(status).phrase
    if status in ERROR_NOTES:
        with force_locale("en"):
            description += ": " + str(ERROR_NOTES[status])
    return {"description": description, "content": {"application/json": {"schema": ErrorSchema}}}


def _operation(rule, view, method: str, path_params: list[dict]) -> dict:
    doc = view.api_doc
    # The document is English whatever the caller's language (and built once: see document()).
    with force_locale("en"):
        summary = str(doc["summary"])
        description = str(doc["description"]) if doc["description"] else None
    op: dict = {"operationId": f"{rule.endpoint}.{method}" if _shared_endpoint(rule) else rule.endpoint,
                "summary": summary,
                "tags": list(doc["tags"] or [rule.rule[len(PREFIX):].strip("/").split("/")[0]])}
    if description:
        op["description"] = description
    params = [{**p, "schema": doc["path"][p["name"]]} if p["name"] in doc["path"] else p for p in path_params]
    if doc["query"] is not None:
        params.append({"in": "query", "schema": doc["query"]})
    if params:
        op["parameters"] = params
    if doc["body"] is not None:
        op["requestBody"] = {"required": doc["body_required"],
                             "content": {"application/json": {"schema": doc["body"]}}}
    responses: dict = {}
    for status, schema in sorted(doc["responses"].items()):
        responses[str(status)] = {"description": HTTPStatus(status).phrase}
        if schema is not None:
            responses[str(status)]["content"] = {"application/json": {"schema": schema}}
    access = getattr(view, "access", frozenset())
    errors = set(doc["errors"])
    if PUBLIC not in access:
        op["security"] = [{SECURITY_SCHEME: []}]
        # Who may call it, as @access declares (any signed-in user when empty).
        op["x-roles"] = sorted(str(getattr(w, "value", w)) for w in access - {AUTHENTICATED})
        errors.add(401)
        if access - {AUTHENTICATED}:
            errors.add(403)
    if path_params:
        errors.add(404)
    if doc["query"] is not None or doc["body"] is not None:
        errors.add(422)
    if method != "get":
        errors.add(400)  # CSRF, for cookie-authenticated calls (app._csrf)
    # Every /api/ call counts against the shared API limit; some views add their own (@limit).
    errors.add(429)
    limits = [spec["value"] for spec in getattr(view, "rate_limits", ())
              if method.upper() in (spec["methods"] or (method.upper(),))]
    if limits:
        op["description"] = (op.get("description", "") + f"{RATE_LIMIT}{'; '.join(limits)}.").strip()
    for status in sorted(errors):
        responses[str(status)] = _error(status)
    op["responses"] = responses
    return op


def _shared_endpoint(rule) -> bool:
    return len(set(rule.methods) & {m.upper() for m in DOCUMENTED_METHODS}) > 1


def api_rules(app):
    """The URL rules of the JSON API, with the methods the document must describe."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.rule == PREFIX or rule.rule.startswith(PREFIX + "/"):
            yield rule, sorted(m.lower() for m in rule.methods if m.lower() in DOCUMENTED_METHODS)


def undocumented(app) -> list[str]:
    """Endpoints under /api/v1 whose view declares no operation."""
    return [rule.endpoint for rule, _m in api_rules(app)
            if getattr(app.view_functions[rule.endpoint], "api_doc", None) is None]


def build(app) -> dict:
    """The OpenAPI document of the app's JSON API, as a dict."""
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="Huimin API", version="v1", openapi_version="3.0.3", plugins=[plugin],
        info={"description": "Public cultural services marketplace (文化惠民): catalog, demand, purchase projects, "
                             "sealed bids, evaluation, ratings. Text with a NUL character is refused (422 naming "
                             "the field; 404 in a path). Errors have one shape: "
                             '{"error": {"code", "message", "fields"}}. Token-protected operations take '
                             "`Authorization: Bearer <token>` from POST /api/v1/tokens."},
        servers=[{"url": "/"}],
    )
    plugin.converter.add_attribute_function(_decimal_as_string)
    plugin.converter.add_attribute_function(_string_without_nul)
    spec.components.security_scheme(SECURITY_SCHEME, {"type": "http", "scheme": "bearer",
                                                      "description": "A token from POST /api/v1/tokens."})
    spec.components.schema("Error", schema=ErrorSchema)
    for rule, methods in api_rules(app):
        view = app.view_functions[rule.endpoint]
        if getattr(view, "api_doc", None) is None:
            continue
        path, params = _path(rule)
        spec.path(path=path, operations={m: _operation(rule, view, m, params) for m in methods})
    with force_locale("en"):
        return _english(spec.to_dict())


def _english(value):
    """The document with every lazy text (field notes declared with `_l`) as its English string: the
    document is for machines and stays English; the docs page translates those notes for readers."""
    if isinstance(value, dict):
        return {k: _english(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_english(v) for v in value]
    if isinstance(value, LazyString):
        return str(value)
    return value


def document(app) -> dict:
    """The document, built once per app (the URL map does not change after start-up)."""
    cached = app.extensions.get("huimin_openapi")
    if cached is None:
        cached = app.extensions["huimin_openapi"] = build(app)
    return cached
