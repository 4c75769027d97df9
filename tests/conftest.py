"""Test set-up: one app per session with the schema made by the migrations, and a database
that each test leaves as it found it.

SQLite by default; PostgreSQL when TEST_DATABASE_URL is set. Each test runs inside a
transaction on one connection; the app's commits become savepoints, and the whole is rolled
back at the end. Tests marked `concurrency` get real commits instead, and the tables are
emptied after them.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Connection, create_engine, make_url, text

from app import create_app
from core import cache
from core.db import db
from tests.support.accounts import PASSWORD
from tests.support.storage import file_store, s3_server  # noqa: F401 (shared fixtures)

# Property tests: the same examples on every run (no flaky CI), a bounded number, no example
# database, and no per-example deadline (a shared CI machine is slow now and then).
hypothesis_settings.register_profile("huimin", derandomize=True, database=None, deadline=None, max_examples=100)
hypothesis_settings.load_profile("huimin")
FAST_HASH = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


def _worker_database_url() -> str | None:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (`<name>_gw0`, …),
    created on first use; the environment is updated so that tests reading TEST_DATABASE_URL
    (backups) see the worker's database."""
    url = os.environ.get("TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker or not url.startswith("postgresql"):
        return url
    base = make_url(url)
    if base.database.endswith("_" + worker):
        return url
    mine = base.set(database=f"{base.database}_{worker}")
    admin = create_engine(base.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": mine.database}):
            conn.execute(text(f'CREATE DATABASE "{mine.database}"'))
    admin.dispose()
    os.environ["TEST_DATABASE_URL"] = mine.render_as_string(hide_password=False)
    return os.environ["TEST_DATABASE_URL"]


TEST_DATABASE_URL = _worker_database_url()


def _fresh_database(tmp_path_factory) -> str:
    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    from flask_migrate import upgrade

    uri = _fresh_database(tmp_path_factory)
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": uri,
        "SECRET_KEY": "test-secret",
        "PASSWORD_HASH_COST": FAST_HASH,
        "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
        # Report jobs run only when a test runs them: a thread would share the test's connection.
        "JOBS_BACKEND": "manual",
    })
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _no_cached_figures(app):
    """Each test starts with no dashboard figures kept in this process (core/cache.py): ids
    repeat from one rolled-back test to the next, so a kept figure could belong to another test."""
    cache.clear(app)


@pytest.fixture
def _db(app, request):
    """The test's database: rolled back afterwards (or emptied, for concurrency tests)."""
    ctx = app.app_context()
    ctx.push()
    if request.node.get_closest_marker("concurrency"):
        yield db
        db.session.remove()
        _empty_tables()
        ctx.pop()
        return
    engines = db._app_engines[app]
    engine = engines[None]
    conn = engine.connect()
    outer = conn.begin()
    engines[None] = conn
    db.session.remove()
    factory = db.session.session_factory
    factory.configure(join_transaction_mode="create_savepoint")
    try:
        yield db
    finally:
        db.session.remove()
        factory.kw.pop("join_transaction_mode", None)
        engines[None] = engine
        outer.rollback()
        conn.close()
        ctx.pop()


def _empty_tables():
    with db.engine.begin() as conn:
        names = [t.name for t in reversed(db.metadata.sorted_tables)]
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
        else:
            for n in names:
                conn.execute(text(f'DELETE FROM "{n}"'))


@pytest.fixture
def make_app(app, _db):
    """Another app over the same test database and transaction, with its own configuration
    (CSRF on, rate limits on, HTTPS, a proxy): `make_app(WTF_CSRF_ENABLED=True)`."""
    made = []

    def make(**overrides):
        config = {k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "PASSWORD_HASH_COST", "UPLOAD_DIR")}
        config.update({"TESTING": True, "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                       "RATELIMIT_ENABLED": False, "REDIS_URL": None, "SERVER_NAME": None,
                       "JOBS_BACKEND": "manual"})
        config.update(overrides)
        other = create_app(config)
        engines = db._app_engines[other]
        made.append((engines, engines[None]))
        if isinstance(db._app_engines[app][None], Connection):
            engines[None] = db._app_engines[app][None]  # the test's connection: its data, its rollback
        return other

    yield make
    for engines, engine in made:
        engines[None] = engine
        engine.dispose()


@pytest.fixture
def session(_db):
    return _db.session


@pytest.fixture
def client(app, _db):
    return app.test_client()


# --- factories ---------------------------------------------------------------------------------

@pytest.fixture
def make_area(session):
    from core.areas.models import Area, AreaLevel

    counter = iter(range(1, 10_000))

    def make(level="community", parent=None, name=None, population=1000, code=None):
        level = AreaLevel(level)
        if level != AreaLevel.DISTRICT and parent is None:
            parent = make(level="district" if level == AreaLevel.TOWN else "town")
        n = next(counter)
        area = Area(code=code or f"T{level.value[0]}{n:04d}", name=name or f"{level.value} {n}", level=level,
                    parent=parent, population=population)
        session.add(area)
        session.flush()
        return area

    return make


@pytest.fixture
def district(make_area):
    return make_area("district", name="测试区")


@pytest.fixture
def town(make_area, district):
    return make_area("town", parent=district, name="测试镇")


@pytest.fixture
def community(make_area, town):
    return make_area("community", parent=town, name="测试社区")


@pytest.fixture
def make_user(session, district, community):
    from core.accounts import operations as accounts
    from core.accounts.models import Role

    counter = iter(range(1, 10_000))

    def make(*roles, login=None, jurisdiction=None, community_area=None, password=PASSWORD, name=None):
        roles = roles or ("resident",)
        n = next(counter)
        if "officer" in roles and jurisdiction is None:
            jurisdiction = district
        if "resident" in roles and community_area is None:
            community_area = community
        return accounts.create_user(login=login or f"user{n}@example.org", name=name or f"用户{n}",
                                    password=password, roles=[Role(r) for r in roles],
                                    jurisdiction=jurisdiction, community=community_area)

    return make


@pytest.fixture
def login(client):
    """Log the test client in as a user (through the real login form)."""

    def do(user, password=PASSWORD):
        resp = client.post("/login", data={"login": user.login, "password": password})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return user

    return do


@pytest.fixture
def token_for(client):
    def do(user, password=PASSWORD):
        resp = client.post("/api/v1/tokens", json={"username": user.login, "password": password})
        assert resp.status_code == 201, resp.get_json()
        return {"Authorization": "Bearer " + resp.get_json()["token"]}

    return do


@pytest.fixture
def english(session):
    """Messages asserted in English (the product's default language is Chinese): a test file
    that asserts English text uses it for all its tests with `pytestmark`."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


@pytest.fixture
def market(session, make_user, district, town):
    """Projects, bids and providers of the district (tests/support/market.py)."""
    from tests.support.market import Market

    return Market(session, make_user, district, town)


@pytest.fixture
def delivery(session, make_user, district, town, community):
    """Contracts in force, sessions, reports and ratings (tests/support/delivery.py)."""
    from tests.support.delivery import Delivery

    return Delivery(session, make_user, district, town, community)


@pytest.fixture
def figures_world(session, make_user, make_area, district, town, community):
    """The small district whose March 2025 figures are worked out by hand (tests/support/figures.py)."""
    from tests.support import figures

    return figures.build(session, make_user, make_area, district, town, community)


# --- browser tests -------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def live_app(app):
    """The app the live server serves: the test database, CSRF on."""
    return create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "PASSWORD_HASH_COST",
                                                     "UPLOAD_DIR")},
                       "SECRET_KEY": "live-secret", "WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": False})


@pytest.fixture(scope="module")
def live_server(live_app, tmp_path_factory):
    """The app served over HTTP on a free port, with the demo district committed to the test
    database (emptied again afterwards) and CSRF on, as a user would meet it."""
    import threading

    from werkzeug.serving import make_server

    from seeds import demo as seed

    live = live_app
    with live.app_context():
        seed.run_demo(lambda *_a: None)
        db.session.commit()
    server = make_server("127.0.0.1", 0, live, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        with live.app_context():
            db.session.remove()
            _empty_tables()
            db.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()
