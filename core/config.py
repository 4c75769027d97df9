"""Settings from the environment, with safe defaults for a single-machine install."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated on first run and kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load(instance: Path, overrides: dict | None = None) -> dict:
    env = os.environ
    cfg = {
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or f"sqlite:///{instance / 'huimin.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": env.get("REDIS_URL") or None,
        # Where report jobs run: "redis" (a `flask jobs worker` process; the default with REDIS_URL),
        # "thread" (in each app process; the default without) or "manual" (tests). See core/jobs.py.
        "JOBS_BACKEND": env.get("JOBS_BACKEND", ""),
        "JOBS_REDIS_PREFIX": env.get("JOBS_REDIS_PREFIX", "huimin:"),
        # The dashboards' figures in Redis (core/cache.py): keys under this prefix.
        "CACHE_REDIS_PREFIX": env.get("CACHE_REDIS_PREFIX", "huimin:cache:"),
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or str(instance / "uploads"),
        "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "BABEL_TRANSLATION_DIRECTORIES": ";".join(
            str(ROOT / pkg / "translations") for pkg in ("core", "catalog", "marketplace", "evaluation")
        ),
        "LANGUAGES": ["zh_CN", "en"],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Served over TLS (directly or behind a proxy): Secure cookies and HSTS.
        "HTTPS": env.get("HTTPS", "") == "1",
        "SESSION_COOKIE_SECURE": env.get("HTTPS", "") == "1",
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust (0: none).
        "PROXY_COUNT": int(env.get("PROXY_COUNT", "0")),
        # Rate limits ("N/minute;M/hour"); counters in Redis when REDIS_URL is set.
        "RATELIMIT_ENABLED": env.get("RATELIMIT_ENABLED", "1") != "0",
        "RATELIMIT_LOGIN": env.get("RATELIMIT_LOGIN", "20/minute;200/hour"),
        "RATELIMIT_REGISTER": env.get("RATELIMIT_REGISTER", "10/minute;50/hour"),
        "RATELIMIT_TOKEN": env.get("RATELIMIT_TOKEN", "20/minute;200/hour"),
        "RATELIMIT_API": env.get("RATELIMIT_API", "600/minute"),
        "REMEMBER_COOKIE_DURATION": 0,
        "WTF_CSRF_TIME_LIMIT": None,
        # Checked by our own before_request so bearer-token API calls can skip it.
        "WTF_CSRF_CHECK_DEFAULT": False,
        "API_TOKEN_HOURS": int(env.get("API_TOKEN_HOURS", "12")),
        "PASSWORD_HASH_COST": {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 2},
        "OCDS_PREFIX": env.get("OCDS_PREFIX", "ocds-huimin"),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        # How many hash chains the audit log is spread over (core/audit.py): audited writes in
        # different chains never wait for one another. Changing it later is safe.
        "AUDIT_CHAINS": int(env.get("AUDIT_CHAINS", "16")),
        # /bench/floor, the baseline `make bench` compares pages with; off unless asked for.
    }
    if overrides:
        cfg.update(overrides)
    # SECRET_KEY: from the overrides, the environment, or instance/secret_key.
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = _secret_key(instance)
    return cfg
