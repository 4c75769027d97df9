"""Headers, cookies, CSRF, session timeouts, the health check, faults and the access log."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from core import security, settings
from core.audit import AuditEvent
from tests.support.accounts import PASSWORD
from tests.support.pages import html_text

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _cookie(resp, name="session") -> str:
    found = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert found, f"no {name} cookie set: {resp.headers.getlist('Set-Cookie')}"
    return found[-1]


def _csrf_token(resp) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"',
                      resp.get_data(as_text=True))
    assert match, "page has no CSRF token"
    return match.group(1) or match.group(2)


# --- headers and cookies ---------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/me", "/no-such-page", "/static/css/app.css"])
def test_protective_headers_on_every_response(client, path):
    resp = client.get(path)
    assert resp.headers["Content-Security-Policy"] == EXPECTED_CSP
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in resp.headers["Permissions-Policy"]
    # Plain HTTP: no HSTS (a browser would ignore it, and a dev server must stay reachable).
    assert "Strict-Transport-Security" not in resp.headers
    resp.close()


def test_session_cookie_over_http_is_httponly_and_lax(client, make_user):
    user = make_user("resident")
    resp = client.post("/login", data={"login": user.login, "password": PASSWORD})
    cookie = _cookie(resp)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_https_request_gets_hsts_and_secure_cookie(client, make_user):
    user = make_user("resident")
    resp = client.post("/login", data={"login": user.login, "password": PASSWORD}, base_url="https://localhost")
    assert resp.status_code == 302
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = _cookie(resp)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    lang = client.post("/lang", data={"lang": "en", "next": "/"}, base_url="https://localhost")
    assert "Secure" in _cookie(lang, "lang")


def test_https_setting_gives_hsts_and_secure_cookies_behind_a_tls_terminator(make_app, make_user):
    user = make_user("resident")
    app = make_app(HTTPS=True, SESSION_COOKIE_SECURE=True)
    c = app.test_client()
    resp = c.post("/login", data={"login": user.login, "password": PASSWORD})
    assert "Strict-Transport-Security" in resp.headers
    assert "Secure" in _cookie(resp)
    lang = c.post("/lang", data={"lang": "en", "next": "/"})
    assert "Secure" in _cookie(lang, "lang")


def test_forwarded_proto_counts_only_behind_a_trusted_proxy(make_app):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    untrusted = make_app().test_client().get("/", headers=forwarded)
    assert "Strict-Transport-Security" not in untrusted.headers
    trusted = make_app(PROXY_COUNT=1).test_client().get("/", headers=forwarded)
    assert "Strict-Transport-Security" in trusted.headers


INLINE = [
    (re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on*= event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_needs_inline_script_or_style():
    """The CSP admits no inline script or style: a template that relies on one breaks in the browser."""
    templates = sorted((ROOT / "templates").rglob("*.html"))
    assert templates
    found = []
    for path in templates:
        text = path.read_text()
        for pattern, what in INLINE:
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert found == []


def test_the_template_scan_catches_what_it_looks_for():
    bad = ['<script>alert(1)</script>', '<div style="color:red">', '<a onclick="x()">',
           '<style>p{}</style>', '<a href="javascript:void(0)">']
    for snippet in bad:
        assert any(p.search(snippet) for p, _w in INLINE), snippet
    assert not any(p.search('<script src="/static/js/app.js"></script>') for p, _w in INLINE)


# --- CSRF ------------------------------------------------------------------------------------

@pytest.fixture
def csrf_client(make_app):
    return make_app(WTF_CSRF_ENABLED=True).test_client()


def test_form_post_without_csrf_token_is_refused(csrf_client, make_user):
    user = make_user("resident")
    resp = csrf_client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert resp.status_code == 400
    assert "重新加载" in html_text(resp)
    with csrf_client.session_transaction() as s:
        assert "_user_id" not in s


def test_form_post_with_csrf_token_works(csrf_client, make_user):
    user = make_user("resident")
    token = _csrf_token(csrf_client.get("/login"))
    resp = csrf_client.post("/login", data={"login": user.login, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    # Signed in: logging out without the token is refused, with it accepted.
    assert csrf_client.post("/logout").status_code == 400
    assert csrf_client.get("/inbox").status_code == 200
    token = _csrf_token(csrf_client.get("/inbox"))
    assert csrf_client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert csrf_client.get("/inbox").status_code == 302


def test_page_originated_json_call_needs_the_csrf_header(csrf_client, make_user):
    user = make_user("resident")
    token = _csrf_token(csrf_client.get("/login"))
    csrf_client.post("/login", data={"login": user.login, "password": PASSWORD, "csrf_token": token})
    body = {"username": user.login, "password": PASSWORD}
    refused = csrf_client.post("/api/v1/tokens", json=body)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf"
    token = _csrf_token(csrf_client.get("/inbox"))
    assert csrf_client.post("/api/v1/tokens", json=body, headers={"X-CSRFToken": token}).status_code == 201


def test_api_calls_without_cookies_need_no_csrf_token(make_app, make_user):
    user = make_user("resident")
    script = make_app(WTF_CSRF_ENABLED=True).test_client(use_cookies=False)
    resp = script.post("/api/v1/tokens", json={"username": user.login, "password": PASSWORD})
    assert resp.status_code == 201
    bearer = {"Authorization": "Bearer " + resp.get_json()["token"]}
    assert script.get("/api/v1/me", headers=bearer).get_json()["login"] == user.login


def test_bearer_api_post_works_without_csrf_even_beside_a_session_cookie(csrf_client, make_user):
    user = make_user("resident")
    csrf_client.get("/login")  # the browser-like client now holds a session cookie
    with csrf_client.session_transaction() as s:
        assert s  # a CSRF secret lives in it
    first = csrf_client.post("/api/v1/tokens", json={"username": user.login, "password": PASSWORD},
                             headers={"X-CSRFToken": _csrf_token(csrf_client.get("/login"))})
    bearer = {"Authorization": "Bearer " + first.get_json()["token"]}
    again = csrf_client.post("/api/v1/tokens", json={"username": user.login, "password": PASSWORD}, headers=bearer)
    assert again.status_code == 201


# --- sessions --------------------------------------------------------------------------------

START = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def _signed_in(client) -> bool:
    return client.get("/inbox").status_code == 200


def test_officer_session_ends_after_30_idle_minutes(client, make_user, login):
    with time_machine.travel(START, tick=False) as t:
        login(make_user("officer"))
        t.shift(dt.timedelta(minutes=29))
        assert _signed_in(client)
        t.shift(dt.timedelta(minutes=29))  # 58 minutes after login, 29 after the last request
        assert _signed_in(client)
        t.shift(dt.timedelta(minutes=31))
        resp = client.get("/inbox")
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
        assert "会话已结束" in html_text(client.get(resp.headers["Location"]))
        with client.session_transaction() as s:
            assert "_user_id" not in s


def test_admin_idle_limit_is_the_staff_one(client, make_user, login):
    with time_machine.travel(START, tick=False) as t:
        login(make_user("admin"))
        t.shift(dt.timedelta(minutes=31))
        assert not _signed_in(client)


def test_resident_session_survives_a_long_pause_but_not_the_idle_limit(client, make_user, login):
    with time_machine.travel(START, tick=False) as t:
        login(make_user("resident"))
        t.shift(dt.timedelta(hours=2))
        assert _signed_in(client)
        t.shift(dt.timedelta(minutes=security.IDLE_OTHERS.default + 1))
        assert not _signed_in(client)


def test_absolute_limit_ends_an_active_session(client, make_user, login):
    with time_machine.travel(START, tick=False) as t:
        login(make_user("resident"))
        for _ in range(security.ABSOLUTE.default // 2):
            t.shift(dt.timedelta(hours=2) - dt.timedelta(seconds=1))
            assert _signed_in(client)
        t.shift(dt.timedelta(hours=1))
        assert not _signed_in(client)


def test_idle_limit_is_a_setting(client, make_user, login, session):
    admin = make_user("admin")
    settings.change(security.IDLE_STAFF.key, "10", admin)
    with time_machine.travel(START, tick=False) as t:
        login(make_user("officer"))
        t.shift(dt.timedelta(minutes=9))
        assert _signed_in(client)
        t.shift(dt.timedelta(minutes=11))
        assert not _signed_in(client)
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "setting.change")).object_id == \
        security.IDLE_STAFF.key


def test_expired_session_on_the_api_is_401(client, make_user, login):
    with time_machine.travel(START, tick=False) as t:
        login(make_user("officer"))
        assert client.get("/api/v1/me").status_code == 200
        t.shift(dt.timedelta(minutes=31))
        resp = client.get("/api/v1/me")
        assert resp.status_code == 401 and set(resp.get_json()["error"]) == {"code", "message", "fields"}


def test_signed_in_cookie_without_times_is_not_trusted(client, make_user, login):
    user = login(make_user("resident"))
    with client.session_transaction() as s:
        s.pop(security.STARTED)
        assert s["_user_id"] == user.get_id()
    assert not _signed_in(client)


def test_disabling_a_user_ends_an_active_session_at_once(app, client, make_user, login):
    admin, victim = make_user("admin"), make_user("officer")
    with time_machine.travel(START, tick=False) as t:
        login(victim)
        t.shift(dt.timedelta(minutes=5))
        assert _signed_in(client)
        other = app.test_client()
        assert other.post("/login", data={"login": admin.login, "password": PASSWORD}).status_code == 302
        assert other.post(f"/admin/users/{victim.id}/active", data={"active": "0"}).status_code == 302
        t.shift(dt.timedelta(seconds=1))
        assert not _signed_in(client)
        assert _signed_in(other)


# --- health check and faults -----------------------------------------------------------------

REDIS_TEST_URL = "redis://127.0.0.1:6379/15"
UNREACHABLE_DB = "postgresql+psycopg://huimin@127.0.0.1:1/huimin?connect_timeout=2"


def test_healthz_reports_the_database(make_app):
    resp = make_app().test_client().get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "checks": {"database": "ok"}}


def test_healthz_checks_redis_when_configured(make_app):
    ok = make_app(REDIS_URL=REDIS_TEST_URL).test_client().get("/healthz")
    assert ok.status_code == 200 and ok.get_json()["checks"] == {"database": "ok", "redis": "ok"}
    down = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client().get("/healthz")
    assert down.status_code == 503
    body = down.get_json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("error")


@pytest.fixture
def db_down():
    """An app whose PostgreSQL does not answer (nothing listens on port 1)."""
    from app import create_app

    down = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": UNREACHABLE_DB,
                       "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False, "REDIS_URL": None})
    yield down
    from core.db import db

    with down.app_context():
        db.engine.dispose()


def test_healthz_is_503_with_json_when_the_database_is_down(db_down):
    resp = db_down.test_client().get("/healthz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "unavailable" and body["checks"]["database"].startswith("error")


@pytest.mark.parametrize("method,path", [("GET", "/register"), ("POST", "/login"), ("GET", "/inbox")])
def test_database_down_gives_a_503_page_not_a_traceback(db_down, method, path, capsys):
    from flask_login.utils import _create_identifier

    c = db_down.test_client()
    # Flask-Login's "strong" protection binds a session to the client's address and agent.
    with db_down.test_request_context(environ_base=c.environ_base):
        identifier = _create_identifier()
    with c.session_transaction() as s:  # a signed-in visitor: even loading the user needs the database
        s["_user_id"], s["_id"] = "1:abc:0", identifier
        s[security.STARTED] = s[security.SEEN] = int(dt.datetime.now(dt.UTC).timestamp())
    resp = c.open(path, method=method, data={"login": "a@example.org", "password": "x" * 12})
    assert resp.status_code == 503
    assert resp.headers["Retry-After"]
    text = html_text(resp)
    assert "服务暂时不可用" in text and "Traceback" not in resp.get_data(as_text=True)
    assert "database unavailable" in capsys.readouterr().out


@pytest.mark.parametrize("method,path", [("POST", "/api/v1/tokens"), ("GET", "/api/v1/me")])
def test_database_down_gives_json_503_on_the_api(db_down, method, path):
    headers = {"Authorization": "Bearer some-token"}
    resp = db_down.test_client().open(path, method=method, json={"username": "a@example.org", "password": "x" * 12},
                                      headers=headers if method == "GET" else {})
    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "unavailable"
    assert set(resp.get_json()["error"]) == {"code", "message", "fields"}


# --- logs ------------------------------------------------------------------------------------

def test_one_access_line_per_request_with_request_id_and_user(client, make_user, login, capsys):
    user = login(make_user("resident"))
    capsys.readouterr()
    client.get("/inbox?page=1&token=secret-in-link", headers={"X-Request-Id": "req-4711"})
    lines = [line for line in capsys.readouterr().out.splitlines() if ".access:" in line]
    assert len(lines) == 1
    line = lines[0]
    assert "[req-4711]" in line and "GET /inbox 200" in line and f"user={user.id}" in line
    assert re.search(r" \d+\.\dms ", line)
    assert "secret-in-link" not in line  # query strings are not logged


def test_access_line_for_a_visitor_and_an_error(client, capsys):
    client.get("/no-such-page")
    client.post("/api/v1/tokens", json={})
    lines = [line for line in capsys.readouterr().out.splitlines() if ".access:" in line]
    assert len(lines) == 2
    assert "GET /no-such-page 404" in lines[0] and "user=-" in lines[0]
    assert "POST /api/v1/tokens 422" in lines[1]
    # Each request has its own id.
    ids = [re.search(r"\[([0-9a-f]{16})\]", line).group(1) for line in lines]
    assert ids[0] != ids[1]
