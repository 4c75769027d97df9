"""Every registered URL rule × every role (and anonymous) gets the status its declaration promises.

A rule whose path takes arguments needs a builder for each argument name, registered in a
module of tests/support/access with `@builds("name")`; a new rule with an unknown argument fails
here until one is added. So does a view that declares no access.
"""

from __future__ import annotations

import pkgutil
import sys

import pytest

from core.permissions import AUTHENTICATED, PUBLIC, endpoint_access
from tests.support import access
from tests.support.access import BUILDERS, OBJECT_GUARDED, rules

ROLES = [None, "admin", "officer", "expert", "provider", "resident", "assessor", "supervisor"]


def test_every_builder_module_is_imported():
    # A builder module left out of tests/support/access/__init__.py would register nothing.
    missing = [m.name for m in pkgutil.iter_modules(access.__path__)
               if f"{access.__name__}.{m.name}" not in sys.modules]
    assert missing == [], f"import these in tests/support/access/__init__.py: {missing}"


def test_every_view_declares_access(app, session):
    missing = [ep for ep in app.view_functions if ep != "static" and endpoint_access(ep) is None]
    assert missing == [], f"views without @access: {missing}"


def test_every_argument_has_a_builder(app):
    unknown = {a for rule, _m in rules(app) for a in rule.arguments if a not in BUILDERS}
    assert not unknown, f"add builders in tests/support/access for: {sorted(unknown)}"


def _is_login_redirect(resp):
    return resp.status_code == 302 and "/login" in resp.headers.get("Location", "")


def test_route_role_matrix(app, client, make_user, session):
    users = {r: make_user(r) for r in ROLES if r}
    ctx = {"users": users, "session": session, "make_user": make_user}
    values = {}
    for name, fn in BUILDERS.items():
        values[name] = fn(ctx)
    session.flush()
    failures, cases = [], 0
    for rule, method in rules(app):
        url = rule.build({a: values[a] for a in rule.arguments}, append_unknown=False)[1]
        allowed = endpoint_access(rule.endpoint)
        for role in ROLES:
            with client.session_transaction() as s:
                s.clear()
            if role:
                r = client.post("/login", data={"login": users[role].login, "password": "Correct-Horse-42"})
                assert r.status_code == 302, (role, r.status_code)
            resp = client.open(url, method=method, data={} if method != "GET" else None, buffered=True)
            cases += 1
            status = resp.status_code
            api = rule.rule.startswith("/api/")
            problem = None
            if status >= 500:
                problem = f"server error {status}"
            elif PUBLIC in allowed:
                if (status in (401, 403) and rule.endpoint not in OBJECT_GUARDED) or _is_login_redirect(resp):
                    problem = f"public page refused ({status})"
            elif role is None:
                expected_ok = (status == 401) if api else _is_login_redirect(resp)
                if not expected_ok:
                    problem = f"anonymous got {status}"
            elif AUTHENTICATED in allowed or role in allowed:
                if status == 401 or _is_login_redirect(resp):
                    problem = f"allowed role refused login ({status})"
                elif status == 403 and rule.endpoint not in OBJECT_GUARDED:
                    problem = "allowed role got 403"
            elif status != 403:
                problem = f"role not allowed got {status}"
            if problem:
                failures.append(f"{method} {url} as {role or 'anonymous'}: {problem}")
    assert not failures, "\n".join(failures)
    assert cases > 0
    print(f"route × role cases: {cases} ({len(list(rules(app)))} rules × {len(ROLES)} roles)")


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit", "/admin/settings"])
def test_admin_pages_refuse_other_roles(client, make_user, login, path):
    login(make_user("officer"))
    assert client.get(path).status_code == 403
