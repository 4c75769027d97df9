"""The dashboards' figure cache (core/cache.py): in this process, in Redis, and without either."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import redis
import time_machine

from core import cache, settings
from core.db import utcnow

REDIS_TEST_URL = "redis://127.0.0.1:6379/15"
T0 = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.UTC)


class Counter:
    """A computation that says how often it ran."""

    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return {"figure": self.calls}


@pytest.fixture
def ctx(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    with app.app_context():
        yield app


def test_a_figure_is_reused_until_its_time_is_up(ctx):
    compute = Counter()
    with time_machine.travel(T0, tick=False):
        assert cache.remember("k", 300, compute) == ({"figure": 1}, T0)
    with time_machine.travel(T0 + dt.timedelta(seconds=299), tick=False):
        assert cache.remember("k", 300, compute) == ({"figure": 1}, T0)
        # Another key is another figure.
        assert cache.remember("other", 300, compute)[0] == {"figure": 2}
    later = T0 + dt.timedelta(seconds=300)
    with time_machine.travel(later, tick=False):
        assert cache.remember("k", 300, compute) == ({"figure": 3}, later)
    assert compute.calls == 3


def test_a_time_of_zero_computes_every_time(ctx):
    compute = Counter()
    assert [cache.remember("k", 0, compute)[0]["figure"] for _ in range(3)] == [1, 2, 3]
    # Nothing was kept for a later, cached reader either.
    assert cache.remember("k", 300, compute)[0] == {"figure": 4}


def test_memory_holds_a_bounded_number_of_figures_oldest_out_first(ctx, monkeypatch):
    monkeypatch.setattr(cache, "LOCAL_MAX", 3)
    for key in "abcd":
        cache.remember(key, 300, lambda key=key: key)
    compute = Counter()
    assert cache.remember("a", 300, compute)[0] == {"figure": 1}  # "a" was evicted
    assert cache.remember("d", 300, compute)[0] == "d"
    assert len(cache._local()) == 3


def test_the_setting_bounds_and_default(session):
    assert cache.seconds() == 300
    assert settings.definitions()["dashboards.cache_seconds"].parse("0") == 0
    for bad in ("-1", "3601", "soon"):
        with pytest.raises(ValueError):
            settings.definitions()["dashboards.cache_seconds"].parse(bad)
    settings.change("dashboards.cache_seconds", "60", None)
    assert cache.seconds() == 60


# --- in Redis ------------------------------------------------------------------------------------

@pytest.fixture
def redis_ctx(app, monkeypatch):
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as e:
        client.close()
        # As the rate-limit tests: Redis runs beside the database on every machine and in CI.
        pytest.fail(f"Redis at {REDIS_TEST_URL} does not answer ({type(e).__name__}); start it to test the cache")
    prefix = f"huimin-test-cache-{uuid.uuid4().hex[:12]}:"
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_TEST_URL)
    monkeypatch.setitem(app.config, "CACHE_REDIS_PREFIX", prefix)
    with app.app_context():
        yield client, prefix
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def test_redis_keeps_a_figure_for_every_process_until_its_time_is_up(redis_ctx):
    client, prefix = redis_ctx
    compute = Counter()
    with time_machine.travel(T0, tick=False):
        assert cache.remember("k", 300, compute) == ({"figure": 1}, T0)
    assert 0 < client.ttl(prefix + "k") <= 300
    assert not cache._local()  # not in this process's memory: in Redis, for every worker
    with time_machine.travel(T0 + dt.timedelta(seconds=120), tick=False):
        assert cache.remember("k", 300, compute) == ({"figure": 1}, T0)
        # A shorter time (the setting changed) makes the stored figure stale at once.
        assert cache.remember("k", 60, compute)[0] == {"figure": 2}
    assert compute.calls == 2


def test_redis_with_a_time_of_zero_stores_nothing(redis_ctx):
    client, prefix = redis_ctx
    compute = Counter()
    cache.remember("k", 0, compute)
    cache.remember("k", 0, compute)
    assert compute.calls == 2 and client.get(prefix + "k") is None


def test_a_redis_that_fails_costs_only_the_computing(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    compute = Counter()
    with app.app_context():
        assert cache.remember("k", 300, compute)[0] == {"figure": 1}
        assert cache.remember("k", 300, compute)[0] == {"figure": 2}
    assert not cache._local(app)


def test_a_broken_entry_in_redis_is_computed_again(redis_ctx):
    client, prefix = redis_ctx
    client.set(prefix + "k", b"not a pickle")
    assert cache.remember("k", 300, Counter())[0] == {"figure": 1}


class _Payload:
    """Would run code if unpickled: a forged entry must never be loaded."""

    ran = False

    def __reduce__(self):
        return (_mark_ran, ())


def _mark_ran():
    _Payload.ran = True
    return {"figure": "forged"}


def test_an_entry_not_signed_by_the_app_is_never_unpickled(redis_ctx):
    import pickle

    client, prefix = redis_ctx
    forged = pickle.dumps((utcnow(), _Payload()))
    client.set(prefix + "k", b"\0" * 32 + forged)  # a well-formed entry with a wrong signature
    assert cache.remember("k", 300, Counter())[0] == {"figure": 1}
    assert not _Payload.ran
    # The entry the app writes instead is signed and read back.
    assert cache.remember("k", 300, Counter())[0] == {"figure": 1}
