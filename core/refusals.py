"""The one path a refused action takes: the refusal goes on record, the attempt is undone, and the
user is answered (the form error, a flashed message, the error page or the JSON error).

What is audited:
- A *business-rule refusal* is a `DomainError` an operation raises with an `audit_action` (the
  action a rule refused: `bid.submit`, `rating.rate`, `review.score` …). It is recorded as
  `refused.<audit_action>` with the actor (the signed-in user), the rule (the error's code), the
  object (the error's `obj`: type and id), the reason shown to the user and the operation's
  details.
- A `DomainError` without `audit_action` is input the operation cannot take as given (an empty
  plan, a malformed date, a duplicate login name): undone and answered the same way, not audited.
  WTForms validation never reaches an operation and is not audited either.
- Object-level access refusals (`core.permissions.require`) are `Forbidden` with the action
  `access`; they reach the app's error handler, which answers through `refused()` too, so they are
  recorded here as `refused.access`. Route-level `@access` refusals (401/403 before any object is
  loaded) are plain aborts and are not audited.

A view that shows a refusal on its own page calls `refused()` in its `except DomainError` block;
every other refusal reaches the error handler, which calls it with no page. This module is the
only writer of `refused.*` audit events (tests/test_refusals.py walks the code to keep it so).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, make_response, redirect, render_template

from core import audit
from core.db import db
from core.errors import DomainError, error_page, json_error, safe_rollback
from core.permissions import is_api_request
from core.views_util import apply_error


def _keep_on_record(error: DomainError) -> None:
    """Undo everything the refused attempt flushed; then record a business-rule refusal and commit
    it on its own, so the record survives the error response's rollback."""
    safe_rollback()
    if not error.audit_action:
        return
    summary = {"rule": error.code, **error.details, "reason": str(error.message)}
    audit.record("refused." + error.audit_action, object_type=error.object_type, object_id=error.object_id,
                 **summary)
    db.session.commit()


def refused(error: DomainError, *, form=None, field: str | None = None, template: str | None = None,
            render: Callable | None = None, redirect_to: str | None = None, flashed: bool = False,
            status: int | None = None, **context):
    """Keep a refusal on record, undo the attempt, and answer it.

    On /api/ the answer is the JSON error body. For pages:
    - `form`: the message goes on `field` (default the error's own field; "" for the whole form);
    - `flashed`, or `redirect_to`: the message is flashed;
    - `redirect_to`: a redirect there (`status` as its code, default 302);
    - `template`: rendered with `form` and `context`, with `status` or the error's status;
    - `render`: called after the rollback with the answer's status (`status` or the error's); its
      page, or page and status, is the answer;
    - a form and none of these: None, and the caller renders the form with `error.status`;
    - nothing at all: the error page.
    A Retry-After header goes with the answer when the error names one.
    """
    _keep_on_record(error)
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
    if is_api_request():
        return json_error(error.status, error.code, error.message, error.fields(), headers=headers)
    if form is not None:
        apply_error(form, error.field if field is None else field or None, error.message)
    if flashed or redirect_to:
        flash(str(error.message), "danger")
    if redirect_to:
        answer = redirect(redirect_to, code=status or 302)
    elif template:
        answer = render_template(template, form=form, **context), status or error.status
    elif render is not None:
        answer = render(status or error.status)
        if not isinstance(answer, tuple):
            answer = answer, status or error.status
    elif form is not None:
        return None
    else:
        answer = error_page(status or error.status, error.message)
    if headers:
        answer = make_response(answer)
        answer.headers.update(headers)
    return answer
