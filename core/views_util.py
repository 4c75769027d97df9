"""Small helpers shared by HTML views."""

from __future__ import annotations

from flask import abort, render_template, request
from sqlalchemy import func, select

from core.db import db
from core.errors import DomainError

PER_PAGE = 20


def apply_error(form, field: str | None, message) -> None:
    """Attach a message to a form field, or to the form as a whole."""
    target = getattr(form, field, None) if field else None
    if target is not None:
        target.errors = [*target.errors, str(message)]
    else:
        form.form_errors.append(str(message))


def form_failed(template: str, form, error: DomainError, **context):
    """Re-render a form with an operation's refusal. The 4xx status makes the request roll back,
    so nothing the operation flushed before refusing is kept."""
    db.session.rollback()
    apply_error(form, error.field, error.message)
    return render_template(template, form=form, **context), error.status


class Page:
    """One page of a query's results, loaded with two queries (rows and count)."""

    def __init__(self, stmt, page: int | None = None, per_page: int = PER_PAGE, scalars: bool = True):
        if page is None:
            page = request.args.get("page", 1, type=int) or 1
        if page < 1:
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
