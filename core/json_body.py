"""How every request body sent as JSON is read: one parser for the whole app and its API.

Flask reads a request's JSON (`request.get_json`, `request.json`, the forms that take JSON) with
the app's JSON provider. A body nested deeper than any of our schemas could take (`[` × 100000,
or a few hundred levels that the parser still accepts) would overflow Python's stack in the parser
or in whoever walks the value afterwards (the NUL check, marshmallow): the provider refuses it as a
400, which the API answers with its error shape.
"""

from __future__ import annotations

from flask.json.provider import DefaultJSONProvider
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest

# No body the API takes is nested more than a few levels; this is far beyond them and far below
# the depth at which walking a value recursively runs out of stack.
MAX_DEPTH = 64
TOO_DEEP = _l("The JSON body is nested too deeply.")


def deeper_than(value, limit: int) -> bool:
    """Whether `value` nests lists and objects more than `limit` levels (walked without recursion)."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that `loads` refuses a value nested too deeply (a 400)."""

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            value = None
        else:
            if not deeper_than(value, MAX_DEPTH):
                return value
        raise BadRequest(str(TOO_DEEP))


def init_app(app) -> None:
    app.json = BoundedJSONProvider(app)
