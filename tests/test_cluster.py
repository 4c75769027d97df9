"""The cluster test: the app as a district runs it on several machines.

Started here, as subprocesses on 127.0.0.1 with free ports and one production environment: two app
servers (gunicorn), one task worker and its scheduler, over a fresh PostgreSQL database migrated by
`flask db upgrade`, Redis db 12 (flushed first) and the local S3 server (moto). Then:

1. a bid sealed through server A is opened through server B;
2. a briefing requested on A is rendered by the worker and downloaded from B;
3. a session signed in on A and logged out on B is refused on A;
4. the login throttle counts failures across both servers;
5. a due adjustment decision is applied by the scheduler, with no page loaded.

PostgreSQL and Redis only: on the SQLite run it is skipped (with the reason shown).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import create_engine, make_url, select, text

from app import create_app
from core.db import db, utcnow
from tests.conftest import FAST_HASH, TEST_DATABASE_URL
from tests.support.accounts import PASSWORD
from tests.support.storage import s3_settings

needs_cluster = pytest.mark.skipif(
    not (TEST_DATABASE_URL or "").startswith("postgresql"),
    reason="the cluster test needs PostgreSQL and Redis (set TEST_DATABASE_URL=postgresql://…)")

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/12"
PERIODIC_SECONDS = 2
PRICE, PLAN = "8765.40", "集群测试的服务方案：每月两场社区演出"
WRONG = "Wrong-Password-1"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, seconds: float, what: str, step=0.3):
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        time.sleep(step)


def _cluster_database() -> str:
    """A fresh database of its own next to the test database: `<test db>_cluster`."""
    base = make_url(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{base.database}_cluster"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


class Cluster:
    """The processes, their logs, and the in-process app over the cluster's database."""

    def __init__(self, tmp: Path, env: dict, app):
        self.tmp, self.env, self.app = tmp, env, app
        self.procs: dict[str, tuple[subprocess.Popen, Path]] = {}
        self.a = self.b = ""

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = self.tmp / f"{name}.log"
        with open(log, "wb") as out:
            # Our own venv's programs with fixed arguments.
            proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out,  # noqa: S603
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = (proc, log)
        return proc

    def stop(self):
        for proc, _log in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc, _log in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def logs(self) -> str:
        parts = []
        for name, (proc, log) in self.procs.items():
            body = log.read_text(errors="replace") if log.exists() else ""
            parts.append(f"===== {name} (exit {proc.poll()}) =====\n{body[-6000:]}")
        return "\n".join(parts)

    @contextlib.contextmanager
    def explained(self):
        """On failure, the processes' logs are printed (pytest shows them with the failure)."""
        try:
            yield
        except BaseException:
            print(self.logs())
            raise

    def alive(self):
        dead = [n for n, (p, _l) in self.procs.items() if p.poll() is not None]
        assert not dead, f"stopped early: {dead}"

    def serve(self, name: str, workers: int) -> str:
        port = _free_port()
        self.start(name, [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                          "--timeout", "120", "--graceful-timeout", "5", "--no-control-socket", "app:create_app()"])
        return f"http://127.0.0.1:{port}"

    def ready(self, url: str, name: str):
        last = []

        def up():
            self.alive()
            try:
                status = _session().get(url + "/login", timeout=10).status_code
            except requests.RequestException as e:
                status = repr(e)
            last[:] = [status]
            return status == 200

        try:
            _wait(up, 180, f"{name} to answer", step=0.5)
        except AssertionError as e:
            raise AssertionError(f"{e}; last answer: {last}") from None


def _session() -> requests.Session:
    """An HTTP client that talks to 127.0.0.1 directly (no proxy from the environment)."""
    http = requests.Session()
    http.trust_env = False
    return http


@pytest.fixture(autouse=True)
def _no_cached_figures():
    """The suite's test database is not used here (nor made): the cluster has its own."""


# --- the cluster ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster(s3_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cluster")
    url = _cluster_database()
    redis.Redis.from_url(REDIS_URL).flushdb()
    bucket = f"huimin-cluster-{uuid.uuid4().hex[:10]}"
    s3 = s3_settings(s3_server, bucket)
    from core import storage

    storage.from_config(s3).client.create_bucket(Bucket=bucket)
    bid_key = base64.b64encode(secrets.token_bytes(32)).decode()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUIMIN_", "TEST_DATABASE", "PYTEST"))}
    env.update(s3, HUIMIN_ENV="production", FLASK_APP="app", PYTHONPATH=str(ROOT), DATABASE_URL=url,
               SECRET_KEY=secrets.token_hex(32), BID_KEY=bid_key, REDIS_URL=REDIS_URL, RATELIMIT_ENABLED="1",
               BACKUP_DIR=str(tmp / "backups"), JOBS_PERIODIC_SECONDS=str(PERIODIC_SECONDS),
               JOBS_RETRY_SECONDS="2", LOG_LEVEL="INFO")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": env["SECRET_KEY"], "BID_KEY": bid_key,
                      "PASSWORD_HASH_COST": FAST_HASH, "REDIS_URL": None, "JOBS_BACKEND": "manual",
                      "RATELIMIT_ENABLED": False, "UPLOAD_DIR": str(tmp / "uploads"), "SERVER_NAME": None})
    c = Cluster(tmp, env, app)
    try:
        with c.explained():
            t0 = time.monotonic()
            # The servers boot (importing the app) while the database is migrated: they are asked
            # nothing before it is ready.
            c.a = c.serve("server-a", 2)
            c.b = c.serve("server-b", 1)
            migrate = subprocess.run([str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env,  # noqa: S603
                                     capture_output=True, text=True, timeout=240)
            assert migrate.returncode == 0, migrate.stdout + migrate.stderr
            print(f"cluster: migrated after {time.monotonic() - t0:.1f}s")
            c.start("worker", [str(BIN / "flask"), "jobs", "worker", "-c", "1", "--", "--pool=solo",
                               "--without-heartbeat", "--without-gossip", "--without-mingle"])
            c.start("scheduler", [str(BIN / "flask"), "jobs", "scheduler", "--schedule-file",
                                  str(tmp / "beat-schedule")])
            # The world is made while the worker and the scheduler start.
            with app.app_context():
                c.world = _build_world()
            c.ready(c.a, "server A")
            c.ready(c.b, "server B")
            print(f"cluster: ready after {time.monotonic() - t0:.1f}s")
        yield c
    finally:
        c.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _build_world() -> dict:
    """The people and the open project, made with the operations and committed."""
    from core.accounts import operations as accounts
    from core.accounts.models import Role
    from core.areas.models import Area, AreaLevel
    from tests.support.market import Market

    district = Area(code="CL0001", name="集群区", level=AreaLevel.DISTRICT, population=100000)
    town = Area(code="CL0002", name="集群镇", level=AreaLevel.TOWN, parent=district, population=20000)
    community = Area(code="CL0003", name="集群社区", level=AreaLevel.COMMUNITY, parent=town, population=3000)
    db.session.add_all([district, town, community])
    db.session.flush()
    counter = iter(range(1, 1000))

    def make_user(*roles, jurisdiction=None, community_area=None, **_kw):
        roles = roles or ("resident",)
        n = next(counter)
        if "officer" in roles and jurisdiction is None:
            jurisdiction = district
        if "resident" in roles and community_area is None:
            community_area = community
        return accounts.create_user(login=f"cluster{n}@example.org", name=f"集群用户{n}", password=PASSWORD,
                                    roles=[Role(r) for r in roles], jurisdiction=jurisdiction,
                                    community=community_area)

    market = Market(db.session, make_user, district, town)
    officer = market.officer()
    bidder = market.provider()
    project = market.open_project(deadline=utcnow() + dt.timedelta(days=3), officer=officer)
    suspect = market.provider()
    world = {"officer": officer.login, "bidder": bidder.user.login, "project": project.id,
             "suspect": suspect.id,
             "victim": make_user("officer").login, "signed_in": make_user("officer").login}
    db.session.commit()
    return world


# --- talking to the servers ----------------------------------------------------------------------

def _csrf(http: requests.Session, url: str) -> str:
    page = http.get(url, timeout=30)
    assert page.status_code == 200, (url, page.status_code)
    found = CSRF.search(page.text)
    assert found, f"no CSRF token on {url}"
    return found.group(1)


def _login(server: str, login: str, password: str = PASSWORD, http: requests.Session | None = None):
    http = http or _session()
    token = _csrf(http, server + "/login")
    resp = http.post(server + "/login", data={"login": login, "password": password, "csrf_token": token},
                     allow_redirects=False, timeout=30)
    return http, resp


def _signed_in(server: str, login: str) -> requests.Session:
    http, resp = _login(server, login)
    assert resp.status_code == 302, (resp.status_code, resp.text[:500])
    return http


# --- the checks ----------------------------------------------------------------------------------

@needs_cluster
def test_a_bid_sealed_on_a_is_opened_on_b(cluster):
    from marketplace.bids.models import Bid, BidRevision
    from marketplace.projects.models import PurchaseProject

    with cluster.explained():
        w, a, b = cluster.world, cluster.a, cluster.b
        bidder = _signed_in(a, w["bidder"])
        form = f"{a}/projects/{w['project']}/bid"
        resp = bidder.post(form, data={"price": PRICE, "plan": PLAN, "team": "五人", "conflicts": "",
                                       "csrf_token": _csrf(bidder, form)}, allow_redirects=False, timeout=30)
        assert resp.status_code == 302, resp.text[:800]
        with cluster.app.app_context():
            bid = db.session.scalar(select(Bid).where(Bid.project_id == w["project"]))
            stored = repr(tuple(db.session.execute(
                select(BidRevision.__table__).where(BidRevision.bid_id == bid.id)).one()))
            assert PRICE not in stored and PLAN not in stored
            bid_id = bid.id
            # Time passes: the deadline moves into the past.
            db.session.execute(PurchaseProject.__table__.update().where(PurchaseProject.id == w["project"])
                               .values(bid_deadline=utcnow() - dt.timedelta(minutes=1)))
            db.session.commit()
        officer = _signed_in(b, w["officer"])
        page = f"{b}/projects/{w['project']}"
        resp = officer.post(f"{page}/open", data={"csrf_token": _csrf(officer, page)}, allow_redirects=False,
                            timeout=30)
        assert resp.status_code == 302, resp.text[:800]
        detail = officer.get(f"{page}/bids/{bid_id}", timeout=30)
        assert detail.status_code == 200
        assert "8,765.40" in detail.text or PRICE in detail.text
        assert PLAN in detail.text
        with cluster.app.app_context():
            assert db.session.get(Bid, bid_id).price == Decimal(PRICE)


@needs_cluster
def test_a_briefing_requested_on_a_is_rendered_by_the_worker_and_downloaded_from_b(cluster):
    from core.jobs.operations import ReportJob

    with cluster.explained():
        w, a, b = cluster.world, cluster.a, cluster.b
        officer = _signed_in(a, w["officer"])
        month = (utcnow().date().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        resp = officer.post(f"{a}/reports/briefing", data={"month": month,
                                                          "csrf_token": _csrf(officer, f"{a}/reports/")},
                            allow_redirects=False, timeout=30)
        assert resp.status_code == 302, resp.text[:800]
        with cluster.app.app_context():
            job_id = db.session.scalar(select(ReportJob.id).order_by(ReportJob.id.desc()))
        assert job_id is not None

        def downloaded():
            cluster.alive()
            got = officer.get(f"{b}/reports/{job_id}/download", timeout=30)
            assert got.status_code in (200, 404), got.status_code
            return got if got.status_code == 200 else None

        got = _wait(downloaded, 90, "the briefing from server B", step=1)
        assert got.content.startswith(b"%PDF")
        with cluster.app.app_context():
            job = db.session.get(ReportJob, job_id)
            assert job.task_id and job.attempts >= 1


@needs_cluster
def test_a_session_signed_in_on_a_and_logged_out_on_b_is_refused_on_a(cluster):
    with cluster.explained():
        w, a, b = cluster.world, cluster.a, cluster.b
        on_a = _signed_in(a, w["signed_in"])
        assert on_a.get(f"{a}/dashboard", allow_redirects=False, timeout=30).status_code == 200
        # The same cookie, copied to a browser that talks to server B.
        on_b = _session()
        cookie = on_a.cookies.get("session")
        assert cookie
        on_b.cookies.set("session", cookie)
        assert on_b.get(f"{b}/dashboard", allow_redirects=False, timeout=30).status_code == 200
        token = _csrf(on_b, f"{b}/dashboard")
        assert on_b.post(f"{b}/logout", data={"csrf_token": token}, allow_redirects=False,
                         timeout=30).status_code == 302
        # Server A still holds the old cookie in its jar: it is refused.
        kept = _session()
        kept.cookies.set("session", cookie)
        resp = kept.get(f"{a}/dashboard", allow_redirects=False, timeout=30)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


@needs_cluster
def test_the_login_throttle_counts_across_both_servers(cluster):
    from core.accounts import operations as accounts

    with cluster.explained():
        w, a, b = cluster.world, cluster.a, cluster.b
        limit = accounts.MAX_FAILURES_PER_PAIR
        servers = [a, b]
        for i in range(limit):
            _http, resp = _login(servers[i % 2], w["victim"], WRONG)
            # Each server alone has seen fewer failures than the limit: none refuses yet.
            assert resp.status_code == 401, (i, resp.status_code)
        # The sum reached the limit: the next try is refused on either server, even the right password.
        for server in servers:
            _http, resp = _login(server, w["victim"], PASSWORD)
            assert resp.status_code == 429, (server, resp.status_code)


@needs_cluster
def test_a_due_adjustment_is_applied_by_the_scheduler_not_by_a_page(cluster):
    from core.audit import AuditEvent
    from evaluation.adjustment.models import AdjustmentDecision, DecisionAction, DecisionStatus
    from marketplace.providers.models import Provider, ProviderStatus

    with cluster.explained():
        w = cluster.world
        with cluster.app.app_context():
            now = utcnow()
            assert db.session.get(Provider, w["suspect"]).status == ProviderStatus.APPROVED
            decision = AdjustmentDecision(
                rule="provider_grade_d", rule_version="2026.1", action=DecisionAction.SUSPEND,
                provider_id=w["suspect"], figures={"score": "50.00", "grade": "D"},
                proposed_at=now - dt.timedelta(days=20), due_at=now - dt.timedelta(minutes=1))
            db.session.add(decision)
            db.session.commit()
            decision_id = decision.id

            # No page is loaded from here on: only the scheduler and the worker are at work.
            def applied():
                cluster.alive()
                db.session.rollback()
                d = db.session.get(AdjustmentDecision, decision_id)
                db.session.refresh(d)
                return d.status == DecisionStatus.AUTO_APPLIED

            _wait(applied, 60, "the scheduler to apply the decision", step=0.5)
            db.session.rollback()
            assert db.session.get(Provider, w["suspect"]).status == ProviderStatus.SUSPENDED
            events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "adjustment.auto_apply",
                                                                 AuditEvent.object_id == str(decision_id))).all()
            assert len(events) == 1
            assert events[0].actor_id is None and events[0].actor_label == "system"
            run = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "task.run",
                                                             AuditEvent.object_id == "evaluation.apply_due"))
            assert run is not None and run.summary["result"] == {"applied": 1}


def test_periodic_seconds_puts_every_periodic_task_on_that_period(make_app):
    """The knob the cluster test turns: JOBS_PERIODIC_SECONDS overrides every task's schedule."""
    from core.jobs import engine

    fast = make_app(JOBS_PERIODIC_SECONDS=2.0).extensions["celery"].conf.beat_schedule
    usual = make_app().extensions["celery"].conf.beat_schedule
    assert set(fast) == set(usual) and fast
    assert all(entry["schedule"] == 2.0 and entry["options"]["expires"] == 2.0 for entry in fast.values())
    assert all(usual[name]["schedule"] == task.schedule for name, task in engine.periodic_tasks(
        make_app()).items()) and any(entry["schedule"] != 2.0 for entry in usual.values())
