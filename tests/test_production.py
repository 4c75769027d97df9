"""Production mode (HUIMIN_ENV=production): the app refuses to start, naming the variable, unless
every key and shared service is given; nothing is generated into instance/."""

from __future__ import annotations

import base64

import pytest

from app import create_app
from core import config, storage
from marketplace.bids import sealing

BID_KEY = base64.b64encode(b"p" * 32).decode()
S3 = {"STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": "http://127.0.0.1:9", "S3_BUCKET": "huimin",
      "S3_ACCESS_KEY_ID": "id", "S3_SECRET_ACCESS_KEY": "secret", "S3_REGION": "cn-east-1"}
FULL = {"HUIMIN_ENV": "production", "SECRET_KEY": "s" * 40, "BID_KEY": BID_KEY,
        "DATABASE_URL": "postgresql://huimin@127.0.0.1:5432/huimin", "REDIS_URL": "redis://127.0.0.1:6379/15", **S3}
EVERY = (*FULL, "UPLOAD_DIR", "BID_KEYS_OLD", "S3_PREFIX", "S3_ADDRESSING_STYLE")


@pytest.fixture
def environ(monkeypatch):
    """A clean environment with a complete production configuration, to take parts away from."""
    for name in EVERY:
        monkeypatch.delenv(name, raising=False)

    def set_(values: dict):
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_


def test_a_complete_production_environment_starts_and_generates_nothing(environ, tmp_path):
    environ(FULL)
    instance = tmp_path / "instance"
    cfg = config.load(instance)
    assert cfg["HUIMIN_ENV"] == "production" and cfg["SECRET_KEY"] == "s" * 40
    assert cfg["SQLALCHEMY_DATABASE_URI"] == FULL["DATABASE_URL"] and cfg["UPLOAD_DIR"] is None
    assert not instance.exists()  # no secret key, database or upload folder made there

    app = create_app()
    with app.app_context():
        assert isinstance(storage.get(), storage.S3Storage) and storage.get().bucket == "huimin"
        _blob, kid = sealing.seal(b"x", "ctx")
        assert kid == sealing.key_id(b"p" * 32)


@pytest.mark.parametrize("name", ["SECRET_KEY", "BID_KEY", "DATABASE_URL", "REDIS_URL", "STORAGE_BACKEND",
                                  "S3_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY",
                                  "S3_REGION"])
def test_production_without_a_variable_refuses_to_start_naming_it(environ, tmp_path, name):
    environ({k: v for k, v in FULL.items() if k != name})
    with pytest.raises(config.ConfigError) as info:
        config.load(tmp_path / "instance")
    assert f"{name} is not set" in str(info.value) and "HUIMIN_ENV=production" in str(info.value)
    with pytest.raises(config.ConfigError, match=name):
        create_app()
    assert not (tmp_path / "instance").exists()


def test_production_with_local_storage_needs_its_folder(environ, tmp_path):
    environ({k: v for k, v in FULL.items() if not k.startswith("S3_")} | {"STORAGE_BACKEND": "local"})
    with pytest.raises(config.ConfigError, match="UPLOAD_DIR is not set"):
        config.load(tmp_path / "instance")
    environ({"UPLOAD_DIR": str(tmp_path / "shared")})
    assert config.load(tmp_path / "instance")["UPLOAD_DIR"] == str(tmp_path / "shared")


def test_production_refuses_sqlite(environ, tmp_path):
    environ(FULL | {"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    with pytest.raises(config.ConfigError, match="DATABASE_URL must be a PostgreSQL URL"):
        config.load(tmp_path / "instance")


@pytest.mark.parametrize(("name", "value"), [("BID_KEY", "c2hvcnQ="), ("BID_KEY", "not base64!"),
                                             ("BID_KEYS_OLD", BID_KEY + ",c2hvcnQ=")])
def test_production_refuses_a_malformed_bid_key(environ, tmp_path, name, value):
    environ(FULL | {name: value})
    with pytest.raises(config.ConfigError, match=f"{name} must hold keys of 32 bytes"):
        config.load(tmp_path / "instance")


def test_an_unknown_environment_name_is_refused(environ, tmp_path):
    environ({"HUIMIN_ENV": "prod"})
    with pytest.raises(config.ConfigError, match="HUIMIN_ENV must be one of"):
        config.load(tmp_path / "instance")


def test_development_still_generates_its_keys_into_instance(environ, tmp_path):
    instance = tmp_path / "instance"
    cfg = config.load(instance)
    assert cfg["HUIMIN_ENV"] == "development" and cfg["SECRET_KEY"] == (instance / "secret_key").read_text()
    assert cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///") and cfg["STORAGE_BACKEND"] == "local"


def test_production_never_writes_a_bid_key_file(environ, tmp_path, monkeypatch):
    """Even if the key went missing after the start, sealing refuses rather than making one."""
    environ(FULL)
    app = create_app()
    app.config["BID_KEY"] = None
    monkeypatch.delenv("BID_KEY")
    app.instance_path = str(tmp_path / "instance")
    with app.app_context(), pytest.raises(RuntimeError, match="BID_KEY"):
        sealing.seal(b"x", "ctx")
    assert not (tmp_path / "instance").exists()


def test_the_deploy_example_lists_every_variable_the_app_reads(environ, tmp_path):
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    example = (root / "deploy" / "env.example").read_text()
    listed = dict(re.findall(r"^([A-Z0-9_]+)=(.*)$", example, re.M))
    mentioned = set(re.findall(r"^#?([A-Z0-9_]+)=", example, re.M))
    read = set()
    for source in ("core/config.py", "marketplace/bids/sealing.py", "core/storage.py"):
        read |= set(re.findall(r"""(?:env|environ)(?:\.get\(|\[)["']([A-Z0-9_]+)["']""",
                               (root / source).read_text()))
    assert read - mentioned == set()
    # Filled in, the required part starts the app.
    filled = {k: v for k, v in listed.items() if k in FULL} | {
        "SECRET_KEY": "x" * 40, "BID_KEY": BID_KEY, "S3_ACCESS_KEY_ID": "id", "S3_SECRET_ACCESS_KEY": "secret"}
    assert set(FULL) <= set(filled)
    environ(filled)
    assert config.load(tmp_path / "instance")["STORAGE_BACKEND"] == "s3"
