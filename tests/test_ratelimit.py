"""Rate limits: login, registration, token issue and the API; in memory and in Redis; 429 with
Retry-After; X-Forwarded-For only through a trusted proxy."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import redis
import time_machine

from core.accounts import operations as accounts
from tests.support.accounts import PASSWORD
from tests.support.pages import html_text

REDIS_TEST_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def limited(make_app):
    """An app with rate limits on (memory storage unless told otherwise) and small budgets."""

    def make(**overrides):
        config = {"RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "3/minute", "RATELIMIT_REGISTER": "2/minute",
                  "RATELIMIT_TOKEN": "2/minute", "RATELIMIT_API": "1000/minute"}
        config.update(overrides)
        return make_app(**config)

    return make


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in Redis database 15, removed afterwards."""
    prefix = f"huimin-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    r = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        keys = list(r.scan_iter(match=f"*{prefix}*"))
        if keys:
            r.delete(*keys)
    finally:
        r.close()


def _retry_after(resp) -> int:
    value = int(resp.headers["Retry-After"])
    assert 0 < value <= 60
    return value


def _bad_login(c, n, **kw):
    return c.post("/login", data={"login": f"nobody{n}@example.org", "password": "Wrong-Password-1"}, **kw)


def test_login_posts_are_limited_per_address_with_retry_after(limited):
    c = limited().test_client()
    for n in range(3):
        assert _bad_login(c, n).status_code == 401
    refused = _bad_login(c, 3)
    assert refused.status_code == 429
    _retry_after(refused)
    assert "请求过于频繁" in html_text(refused)
    assert refused.mimetype == "text/html"
    # Showing the form is not counted.
    assert c.get("/login").status_code == 200


def test_the_limit_lifts_when_the_window_has_passed(limited, make_user):
    user = make_user("resident")
    c = limited().test_client()
    with time_machine.travel(dt.datetime.now(dt.UTC), tick=False) as t:
        for n in range(3):
            _bad_login(c, n)
        assert _bad_login(c, 3).status_code == 429
        assert c.post("/login", data={"login": user.login, "password": PASSWORD}).status_code == 429
        t.shift(dt.timedelta(seconds=61))
        assert c.post("/login", data={"login": user.login, "password": PASSWORD}).status_code == 302


def test_forged_x_forwarded_for_does_not_reset_the_budget(limited):
    c = limited().test_client()
    for n in range(3):
        assert _bad_login(c, n, headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code == 401
    assert _bad_login(c, 3, headers={"X-Forwarded-For": "198.51.100.99"}).status_code == 429


def test_behind_a_trusted_proxy_each_client_address_has_its_budget(limited):
    c = limited(PROXY_COUNT=1).test_client()
    for n in range(3):
        assert _bad_login(c, n, headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 401
    assert _bad_login(c, 3, headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 429
    assert _bad_login(c, 4, headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 401


def test_registration_is_limited(limited, community):
    c = limited().test_client()
    statuses = [c.post("/register", data={"name": "x", "login": "bad@", "community_id": community.id,
                                          "password": "short", "confirm": "short"}).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]


def test_token_issue_is_limited_with_the_json_error_shape(limited, make_user):
    user = make_user("resident")
    c = limited().test_client()
    body = {"username": user.login, "password": PASSWORD}
    assert [c.post("/api/v1/tokens", json=body).status_code for _ in range(2)] == [201, 201]
    refused = c.post("/api/v1/tokens", json=body)
    assert refused.status_code == 429
    _retry_after(refused)
    assert refused.get_json()["error"]["code"] == "too_many_requests"
    assert refused.get_json()["error"]["message"] == "请求过于频繁，请稍后再试。"


def test_api_is_limited_per_caller(limited, make_user):
    app = limited(RATELIMIT_API="4/minute", RATELIMIT_TOKEN="10/minute")
    c = app.test_client()
    a, b = make_user("resident"), make_user("officer")
    token_a = {"Authorization": "Bearer " + c.post("/api/v1/tokens", json={"username": a.login,
                                                                         "password": PASSWORD}).get_json()["token"]}
    # The token request itself was an API call from this address, not from token A.
    assert [c.get("/api/v1/me", headers=token_a).status_code for _ in range(4)] == [200] * 4
    refused = c.get("/api/v1/me", headers=token_a)
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "too_many_requests"
    _retry_after(refused)
    token_b = {"Authorization": "Bearer " + c.post("/api/v1/tokens", json={"username": b.login,
                                                                         "password": PASSWORD}).get_json()["token"]}
    assert c.get("/api/v1/me", headers=token_b).status_code == 200
    # Pages are not API calls.
    assert all(c.get("/").status_code == 200 for _ in range(6))


def test_each_process_counts_alone_without_redis(limited):
    """Memory storage is for one development process: two workers would each allow the budget."""
    one, two = limited().test_client(), limited().test_client()
    for n in range(3):
        assert _bad_login(one, n).status_code == 401
    assert _bad_login(one, 3).status_code == 429
    assert _bad_login(two, 4).status_code == 401


def test_redis_counters_are_shared_by_all_workers(limited, redis_prefix):
    config = {"REDIS_URL": REDIS_TEST_URL, "RATELIMIT_KEY_PREFIX": redis_prefix}
    worker_a, worker_b = limited(**config).test_client(), limited(**config).test_client()
    assert _bad_login(worker_a, 0).status_code == 401
    assert _bad_login(worker_b, 1).status_code == 401
    assert _bad_login(worker_a, 2).status_code == 401
    refused = _bad_login(worker_b, 3)
    assert refused.status_code == 429
    _retry_after(refused)
    r = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        assert list(r.scan_iter(match=f"*{redis_prefix}*"))
    finally:
        r.close()


def test_redis_outage_falls_back_to_counting_in_the_process(limited):
    c = limited(REDIS_URL="redis://127.0.0.1:1/0").test_client()
    for n in range(3):
        assert _bad_login(c, n).status_code == 401
    assert _bad_login(c, 3).status_code == 429


def test_account_lockout_also_says_when_to_retry(client, make_user):
    user = make_user("resident")
    for _ in range(accounts.MAX_FAILURES_PER_PAIR):
        client.post("/login", data={"login": user.login, "password": "Wrong-Password-1"})
    page = client.post("/login", data={"login": user.login, "password": PASSWORD})
    api = client.post("/api/v1/tokens", json={"username": user.login, "password": PASSWORD})
    for resp in (page, api):
        assert resp.status_code == 429
        assert 0 < int(resp.headers["Retry-After"]) <= accounts.THROTTLE_WINDOW.total_seconds()
    assert api.get_json()["error"]["code"] == "locked"


def test_views_declare_their_limits(app):
    limited_views = {ep for ep, view in app.view_functions.items() if getattr(view, "rate_limits", None)}
    assert {"auth.login", "auth.register", "api.create_token"} <= limited_views
