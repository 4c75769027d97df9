"""Small helpers shared by HTML views."""

from __future__ import annotations

from flask import abort, request
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from core.db import db

PER_PAGE = 20
# The largest id in a URL or a query: ids are PostgreSQL `integer` columns. A larger number names
# no object, and looking it up would fail in the database driver (a 500), not answer "not found".
MAX_ID = 2**31 - 1
# Pages beyond this are refused (404) before an OFFSET that could overflow is computed.
MAX_PAGE = 100_000


def digits_up_to(limit: int) -> str:
    """A regular expression for the decimal numbers 0..limit (leading zeros allowed below its length)."""
    s = str(limit)
    alternatives = [rf"\d{{1,{len(s) - 1}}}"] if len(s) > 1 else []
    for i, ch in enumerate(s):
        low = 1 if i == 0 and len(s) > 1 else 0
        if int(ch) - 1 >= low:
            rest = len(s) - i - 1
            alternatives.append(s[:i] + f"[{low}-{int(ch) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    alternatives.append(s)
    return "(?:" + "|".join(alternatives) + ")"


class IdConverter(IntegerConverter):
    """`<int:...>` in every URL rule matches 0..MAX_ID only, so a larger number matches no rule: 404
    for every method (a range check after matching would answer 405 to the rule's other methods)."""

    regex = digits_up_to(MAX_ID)


def apply_error(form, field: str | None, message) -> None:
    """Attach a message to a form field, or to the form as a whole when it has no such field."""
    target = form[field] if field and field in form else None
    if target is not None:
        target.errors = [*target.errors, str(message)]
    else:
        form.form_errors.append(str(message))


class ListPage:
    """One page of an ordered list already in memory (ids ranked from cached figures, say), with
    the attributes of `Page` so the same pager shows it; `load(keys)` gives the page's items."""

    def __init__(self, keys: list, load=None, page: int | None = None, per_page: int = PER_PAGE):
        if page is None:
            page = request.args.get("page", 1, type=int) or 1
        if page < 1 or page > MAX_PAGE:
            abort(404)
        self.page, self.per_page, self.total = page, per_page, len(keys)
        self.pages = max(1, -(-self.total // per_page))
        chosen = keys[(page - 1) * per_page:page * per_page]
        self.items = load(chosen) if load else chosen

    has_prev = property(lambda self: self.page > 1)
    has_next = property(lambda self: self.page < self.pages)

    def url_args(self, page: int) -> dict:
        args = request.args.to_dict()
        args["page"] = page
        return args


class Page:
    """One page of a query's results, loaded with two queries (rows and count)."""

    def __init__(self, stmt, page: int | None = None, per_page: int = PER_PAGE, scalars: bool = True):
        if page is None:
            page = request.args.get("page", 1, type=int) or 1
        if page < 1 or page > MAX_PAGE:
            abort(404)
        self.page, self.per_page = page, per_page
        self.total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        q = stmt.limit(per_page).offset((page - 1) * per_page)
        self.items = list(db.session.scalars(q)) if scalars else list(db.session.execute(q))
        self.pages = max(1, -(-self.total // per_page))

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages

    def url_args(self, page: int) -> dict:
        args = request.args.to_dict()
        args["page"] = page
        return args
