"""The API documentation page: the OpenAPI document (core.openapi) rendered on the server, so it
reads on a slow connection with no script at all."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.accounts.models import Role
from core.openapi import DOCUMENTED_METHODS, ERROR_NOTES, RATE_LIMIT, document
from core.permissions import PUBLIC, access

bp = Blueprint("api_docs", __name__)

REF = "#/components/schemas/"


def _ref_name(schema: dict) -> str | None:
    ref = schema.get("$ref", "")
    return ref[len(REF):] if ref.startswith(REF) else None


CONSTRAINTS = (("minLength", _l("min length")), ("maxLength", _l("max length")), ("minimum", _l("min")),
               ("maximum", _l("max")), ("minItems", _l("min items")), ("maxItems", _l("max items")),
               ("pattern", _l("pattern")))

# The HTTP phrases of the answers the API gives, as the page shows them.
PHRASES = {"OK": _l("OK"), "Created": _l("Created"), "Bad Request": _l("Bad Request"),
           "Unauthorized": _l("Unauthorized"), "Forbidden": _l("Forbidden"), "Not Found": _l("Not Found"),
           "Conflict": _l("Conflict"), "Request Entity Too Large": _l("Request Entity Too Large"),
           "Unsupported Media Type": _l("Unsupported Media Type"), "Unprocessable Entity": _l("Unprocessable Entity"),
           "Too Many Requests": _l("Too Many Requests")}


# The groups of operations (the document's tags) and where a parameter goes, as the page names them.
TAGS = {"accounts": _l("Accounts and tokens"), "bids": _l("Bids"), "catalog": _l("Catalog"), "coverage": _l("Coverage"),
        "demand": _l("Resident demand"), "evaluation": _l("Evaluation"), "meta": _l("The API itself"),
        "ocds": _l("Open data (OCDS)"), "projects": _l("Purchase projects"), "providers": _l("Providers"),
        "ratings": _l("Resident ratings"), "scorecards": _l("Performance scorecards")}
PLACES = {"path": _l("path"), "query": _l("query"), "header": _l("header")}


def describe(schema: dict | None) -> dict:
    """A schema as the page shows it: a type text, the schema it links to, and its constraints."""
    schema = schema or {}
    name = _ref_name(schema)
    if name:
        return {"type": name, "ref": name, "notes": []}
    for key in ("allOf", "anyOf", "oneOf"):  # a nullable nested schema: [{"nullable"}, {"$ref"}]
        parts = [p for p in schema.get(key, []) if _ref_name(p)]
        if parts:
            inner = describe(parts[0])
            nullable = any(p.get("nullable") for p in schema[key]) or schema.get("nullable")
            return {**inner, "type": inner["type"] + (" | null" if nullable else "")}
    if schema.get("type") == "array":
        inner = describe(schema.get("items"))
        return {**inner, "type": f"array[{inner['type']}]"}
    text = schema.get("type") or "any"
    if schema.get("format"):
        text += f" ({schema['format']})"
    if schema.get("nullable"):
        text += " | null"
    notes = []
    if "enum" in schema:
        notes.append(_("one of: %(values)s", values=", ".join(repr(v) if v == "" else str(v)
                                                             for v in schema["enum"])))
    for key, label in CONSTRAINTS:
        if key in schema:
            notes.append(f"{label} {schema[key]}")
    if schema.get("default") not in (None, ""):
        notes.append(_("default %(value)s", value=schema["default"]))
    if schema.get("description"):
        notes.append(_(schema["description"]))  # declared with _l: the English text is the msgid
    return {"type": text, "ref": None, "notes": notes}


def _properties(schema: dict) -> list[dict]:
    required = set(schema.get("required", []))
    return [{"name": name, "required": name in required, **describe(prop)}
            for name, prop in schema.get("properties", {}).items()]


def _content_schema(obj: dict) -> dict | None:
    return obj.get("content", {}).get("application/json", {}).get("schema")


def _body(doc: dict, body: dict) -> dict:
    """The request body with its fields written out, as a caller needs them at hand."""
    shown = describe(_content_schema(body))
    schema = doc["components"]["schemas"].get(shown["ref"] or "", {})
    return {"required": body.get("required", False), **shown, "fields": _properties(schema)}


def translated(text: str) -> str:
    """An English summary or description of the document in the reader's language: the ids are the
    English texts declared with `@api_doc(_l(...))`, so gettext finds them (unknown text stays as is)."""
    if not text:
        return text
    head, sep, limits = text.partition(RATE_LIMIT.strip())
    head = head.strip()
    out = _(head) if head else ""
    if sep:
        out = (out + " " + _("Rate limit: %(limits)s", limits=limits.strip())).strip()
    return out


def translated_response(text: str) -> str:
    """A response's description: the HTTP phrase, then the note of core.openapi ERROR_NOTES translated."""
    phrase, sep, note = text.partition(": ")
    with force_locale("en"):
        notes = {str(n) for n in ERROR_NOTES.values()}
    shown = str(PHRASES.get(phrase, phrase))
    if sep:
        return shown + ": " + (_(note) if note in notes else note)
    return shown


def operations(doc: dict) -> list[dict]:
    out = []
    for path, item in doc["paths"].items():
        for method in DOCUMENTED_METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody")
            tag = (op.get("tags") or ["api"])[0]
            out.append({
                "id": op["operationId"], "method": method.upper(), "path": path,
                "summary": translated(op.get("summary", "")), "description": translated(op.get("description", "")),
                "tag": tag, "tag_label": str(TAGS.get(tag, tag)),
                "auth": bool(op.get("security")), "roles": [str(Role(r).label) for r in op.get("x-roles", [])],
                "parameters": [{"name": p["name"], "in": str(PLACES.get(p["in"], p["in"])),
                                "required": p.get("required", False),
                                **describe(p.get("schema"))} for p in op.get("parameters", [])],
                "body": _body(doc, body) if body else None,
                "responses": [{"status": status, "description": translated_response(r.get("description", "")),
                               **(describe(_content_schema(r)) if _content_schema(r) else
                                  {"type": "", "ref": None, "notes": []})}
                              for status, r in op["responses"].items()],
            })
    out.sort(key=lambda o: (o["tag"], o["path"], DOCUMENTED_METHODS.index(o["method"].lower())))
    return out


@bp.route("/api/docs")
@access(PUBLIC)
def index():
    doc = document(current_app)
    schemas = [{"name": name, "properties": _properties(schema)}
               for name, schema in sorted(doc["components"]["schemas"].items())]
    return render_template("core/site/api_docs.html", doc=doc, operations=operations(doc), schemas=schemas)
