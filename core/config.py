"""Settings from the environment, with safe defaults for a single-machine install."""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "production")


class ConfigError(RuntimeError):
    """A setting production needs is missing or wrong: the app does not start."""


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
    mode = ((overrides or {}).get("HUIMIN_ENV") or env.get("HUIMIN_ENV") or "development").strip().lower()
    if mode not in ENVIRONMENTS:
        raise ConfigError(f"HUIMIN_ENV must be one of {', '.join(ENVIRONMENTS)}, not {mode!r}")
    production = mode == "production"
    # In production nothing defaults into instance/: every server must share the same settings.
    local = not production
    cfg = {
        "HUIMIN_ENV": mode,
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or (f"sqlite:///{instance / 'huimin.db'}" if local
                                                                else None),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": env.get("REDIS_URL") or None,
        # The task engine (core/jobs/engine.py): Celery on REDIS_URL, eager without it;
        # "manual" sends no report job (tests run them).
        "JOBS_BACKEND": env.get("JOBS_BACKEND", ""),
        "JOBS_TIME_LIMIT": int(env.get("JOBS_TIME_LIMIT", "1800")),  # seconds a task may run
        "JOBS_MAX_ATTEMPTS": int(env.get("JOBS_MAX_ATTEMPTS", "3")),
        "JOBS_RETRY_SECONDS": float(env.get("JOBS_RETRY_SECONDS", "30")),  # first back-off; doubles
        # Tests only (the cluster test): the scheduler sends every periodic task every N seconds.
        "JOBS_PERIODIC_SECONDS": float(env.get("JOBS_PERIODIC_SECONDS") or 0) or None,
        "BACKUP_DIR": env.get("BACKUP_DIR") or str(instance / "backups"),
        "BACKUP_KEEP": int(env.get("BACKUP_KEEP", "14")),
        "JOBS_REDIS_PREFIX": env.get("JOBS_REDIS_PREFIX", "huimin:"),
        # The dashboards' figures in Redis (core/cache.py): keys under this prefix.
        "CACHE_REDIS_PREFIX": env.get("CACHE_REDIS_PREFIX", "huimin:cache:"),
        # Where uploads and report files are kept (core/storage.py): "local" (UPLOAD_DIR) or "s3".
        "STORAGE_BACKEND": env.get("STORAGE_BACKEND") or ("local" if local else None),
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or (str(instance / "uploads") if local else None),
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL") or None,
        "S3_BUCKET": env.get("S3_BUCKET") or None,
        "S3_ACCESS_KEY_ID": env.get("S3_ACCESS_KEY_ID") or None,
        "S3_SECRET_ACCESS_KEY": env.get("S3_SECRET_ACCESS_KEY") or None,
        "S3_REGION": env.get("S3_REGION") or None,
        "S3_PREFIX": env.get("S3_PREFIX", ""),
        # "virtual" for Aliyun OSS and Tencent COS, "path" for MinIO; "auto" lets boto3 choose.
        "S3_ADDRESSING_STYLE": env.get("S3_ADDRESSING_STYLE", "auto"),
        # Sealing bids (marketplace/bids/sealing.py): the current key, and older keys still read
        # until `flask keys rotate-bid-key` has re-sealed everything under the current one.
        "BID_KEY": env.get("BID_KEY") or None,
        "BID_KEYS_OLD": env.get("BID_KEYS_OLD") or "",
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
        # Residents' sign-in codes by SMS (core/sms.py): "console" (demo, tests) or "tencent".
        "SMS_BACKEND": env.get("SMS_BACKEND", "console"),
        "SMS_TENCENT_ENDPOINT": env.get("SMS_TENCENT_ENDPOINT", "https://sms.tencentcloudapi.com"),
        "SMS_TENCENT_REGION": env.get("SMS_TENCENT_REGION", "ap-guangzhou"),
        "SMS_TENCENT_SECRET_ID": env.get("SMS_TENCENT_SECRET_ID", ""),
        "SMS_TENCENT_SECRET_KEY": env.get("SMS_TENCENT_SECRET_KEY", ""),
        "SMS_TENCENT_APP_ID": env.get("SMS_TENCENT_APP_ID", ""),
        "SMS_TENCENT_SIGN_NAME": env.get("SMS_TENCENT_SIGN_NAME", ""),
        "SMS_TENCENT_TEMPLATE_ID": env.get("SMS_TENCENT_TEMPLATE_ID", ""),
        # Asking for a sign-in code: per mobile number and per client address.
        "RATELIMIT_SMS_PHONE": env.get("RATELIMIT_SMS_PHONE", "1/minute;5/hour;10/day"),
        "RATELIMIT_SMS_ADDRESS": env.get("RATELIMIT_SMS_ADDRESS", "5/minute;30/hour"),
        "RATELIMIT_SMS_VERIFY": env.get("RATELIMIT_SMS_VERIFY", "10/minute;60/hour"),
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
    if production:
        cfg.setdefault("SECRET_KEY", env.get("SECRET_KEY") or None)
        check_production(cfg)
    # SECRET_KEY: from the overrides, the environment, or (development only) instance/secret_key.
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = _secret_key(instance)
    return cfg


def _missing(name: str, why: str) -> ConfigError:
    return ConfigError(f"HUIMIN_ENV=production: {name} is not set ({why}). The app does not start without it; "
                       f"see deploy/env.example.")


def check_production(cfg: dict) -> None:
    """Refuse to start, naming the variable, unless production has every key and shared service."""
    if not cfg.get("SECRET_KEY"):
        raise _missing("SECRET_KEY", "the session secret, the same on every server")
    if not cfg.get("BID_KEY"):
        raise _missing("BID_KEY", "the bid-sealing key, 32 bytes base64, the same on every server")
    for name, raw in [("BID_KEY", cfg["BID_KEY"]),
                      *(("BID_KEYS_OLD", k) for k in re.split(r"[\s,]+", cfg.get("BID_KEYS_OLD") or "") if k)]:
        try:
            ok = len(base64.b64decode(raw, validate=True)) == 32
        except (binascii.Error, ValueError):
            ok = False
        if not ok:
            raise ConfigError(f"HUIMIN_ENV=production: {name} must hold keys of 32 bytes, base64-encoded "
                              "(`flask keys new-bid-key` makes one)")
    uri = cfg.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        raise _missing("DATABASE_URL", "a PostgreSQL URL, postgresql://user:password@host/db")
    if not str(uri).startswith(("postgresql:", "postgresql+")):
        raise ConfigError("HUIMIN_ENV=production: DATABASE_URL must be a PostgreSQL URL "
                          "(postgresql://…), not " + str(uri).split(":", 1)[0])
    if not cfg.get("REDIS_URL"):
        raise _missing("REDIS_URL", "Redis for rate limits, cache and background work, redis://host:6379/0")
    backend = cfg.get("STORAGE_BACKEND")
    if not backend:
        raise _missing("STORAGE_BACKEND", "where files are kept: s3, or local with UPLOAD_DIR on a shared disk")
    if backend == "local" and not cfg.get("UPLOAD_DIR"):
        raise _missing("UPLOAD_DIR", "the folder of uploaded files with STORAGE_BACKEND=local")
    if backend == "s3":
        for name in ("S3_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION"):
            if not cfg.get(name):
                raise _missing(name, "a setting of the S3-compatible object storage with STORAGE_BACKEND=s3")
