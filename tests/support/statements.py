"""The SQL statements one request sends: what the bounded-query tests count."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

# Each test runs in one rolled-back transaction: the savepoints wrapped around a request's own
# transaction depend on the harness, not on the page.
HARNESS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def request_statements(client, url: str):
    """(response, the statements a GET of `url` sent); the page must answer 200."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args, **_kw):
        if not statement.lstrip().upper().startswith(HARNESS):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", note)
    try:
        resp = client.get(url)
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    assert resp.status_code == 200, (url, resp.status_code)
    return resp, seen
