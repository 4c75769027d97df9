"""Figures computed once and reused for a while: the dashboards' aggregates over months of data.

`remember(key, ttl_seconds, compute)` returns the value and when it was computed (UTC). The
values live in Redis when REDIS_URL is set (shared by every worker process), otherwise in this
process's memory. A cache that fails only costs speed: the value is computed and returned.

Keys name everything the value depends on (scope, period, filters). Values should be plain data
(no ORM objects: they outlive the session that loaded them) and free of the reader's language.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging

# pickle: entries are signed with the app's secret and checked before they are loaded (_unseal).
import pickle  # nosec B403
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from flask_babel import lazy_gettext as _l

from core import settings
from core.db import utcnow

T = TypeVar("T")
log = logging.getLogger(__name__)

PREFIX = "huimin:cache:"
LOCAL_MAX = 256  # entries kept in memory; the oldest go first

CACHE_SECONDS = settings.define(
    "dashboards.cache_seconds", 300,
    _l("Dashboards: seconds their figures are reused before being computed again"), int, 0, 3600)


def seconds() -> int:
    """How long the dashboards reuse their figures (0: computed on every request)."""
    return settings.get(CACHE_SECONDS.key)


# --- in this process, per app ----------------------------------------------------------------------

LOCAL_EXTENSION = "huimin.cache.local"
_lock = threading.Lock()


def _local(app=None) -> OrderedDict[str, tuple[dt.datetime, object]]:
    return (app or current_app).extensions.setdefault(LOCAL_EXTENSION, OrderedDict())


def _local_get(key: str, ttl: int, now: dt.datetime):
    with _lock:
        found = _local().get(key)
        if found is not None and now - found[0] < dt.timedelta(seconds=ttl):
            return found
        return None


def _local_put(key: str, at: dt.datetime, value) -> None:
    with _lock:
        kept = _local()
        kept[key] = (at, value)
        kept.move_to_end(key)
        while len(kept) > LOCAL_MAX:
            kept.popitem(last=False)


def clear(app=None) -> None:
    """Forget every figure the app keeps in this process (tests; Redis entries expire on their own)."""
    with _lock:
        _local(app).clear()


# --- in Redis --------------------------------------------------------------------------------------

CLIENTS_EXTENSION = "huimin.cache.redis"


def _redis(url: str):
    """The app's client for `url` (one per app, reused by its requests)."""
    import redis

    with _lock:
        clients = current_app.extensions.setdefault(CLIENTS_EXTENSION, {})
        client = clients.get(url)
        if client is None:
            # Short timeouts: a Redis that hangs must not hold the page longer than computing would.
            client = clients[url] = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return client


def _redis_key(key: str) -> str:
    return (current_app.config.get("CACHE_REDIS_PREFIX") or PREFIX) + key


# Entries are pickled (figures hold Decimals, dates and enums) and signed with the app's secret:
# an entry is unpickled only if this application wrote it, so a write to Redis by anyone else
# cannot become code run by the app.
def _mac(data: bytes) -> bytes:
    secret = str(current_app.secret_key).encode()
    return hmac.new(secret, b"huimin-cache:" + data, hashlib.sha256).digest()


def _seal(value) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _mac(data) + data


def _unseal(raw: bytes):
    mac, data = raw[:32], raw[32:]
    if not hmac.compare_digest(mac, _mac(data)):
        raise ValueError("cache entry not signed by this application")
    # Signed by this application (checked above): not data from outside.
    return pickle.loads(data)  # noqa: S301  # nosec B301


# --- the one entry point ---------------------------------------------------------------------------

def remember(key: str, ttl_seconds: int, compute: Callable[[], T],
             valid: Callable[[T], bool] | None = None) -> tuple[T, dt.datetime]:
    """The value under `key` if computed less than `ttl_seconds` ago (and `valid(value)`, when
    given, still holds), else `compute()` stored; with when it was computed. A ttl of 0 computes
    every time."""
    now = utcnow()
    if ttl_seconds <= 0:
        return compute(), now
    url = current_app.config.get("REDIS_URL")
    if not url:
        found = _local_get(key, ttl_seconds, now)
        if found is not None and (valid is None or valid(found[1])):
            return found[1], found[0]
        value = compute()
        _local_put(key, now, value)
        return value, now
    try:
        client = _redis(url)
        raw = client.get(_redis_key(key))
        if raw is not None:
            at, value = _unseal(raw)
            # The setting may have been shortened since this entry was stored.
            if now - at < dt.timedelta(seconds=ttl_seconds) and (valid is None or valid(value)):
                return value, at
    except Exception as e:  # any failure of the cache: compute without it
        log.warning("cache unavailable for %s: %s: %s", key, type(e).__name__, e)
        return compute(), now
    value = compute()
    try:
        client.set(_redis_key(key), _seal((now, value)), ex=ttl_seconds)
    except Exception as e:
        log.warning("cache not stored for %s: %s: %s", key, type(e).__name__, e)
    return value, now

