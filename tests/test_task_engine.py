"""The task engine (core/jobs/engine.py): beat's schedule holds every periodic task, `flask jobs
run-due` does the due work without Redis, two copies of the periodic tasks at once change each
thing once, and a report job travels through a real Celery worker (started here, on Redis db 11)
that retries it after a failure."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from core import audit
from core.audit import AuditEvent
from core.db import db, utcnow
from core.jobs import engine
from core.jobs import operations as jobs
from evaluation.adjustment.models import AdjustmentDecision, DecisionAction, DecisionStatus
from marketplace.projects.models import ProjectState, PurchaseProject
from marketplace.providers.models import ProviderStatus

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/11"
PERIODIC = {"core.backup", "jobs.cleanup", "marketplace.record_overdue", "marketplace.close_bidding",
            "marketplace.close_challenge_windows", "evaluation.apply_due", "evaluation.nightly_recompute",
            "evaluation.escalate_supervision"}


def _due_decision(provider, days_overdue=1) -> AdjustmentDecision:
    now = utcnow()
    d = AdjustmentDecision(rule="provider_grade_d", rule_version="2026.1", action=DecisionAction.SUSPEND,
                           provider_id=provider.id, figures={"score": "50.00", "grade": "D"},
                           proposed_at=now - dt.timedelta(days=20), due_at=now - dt.timedelta(days=days_overdue))
    db.session.add(d)
    db.session.flush()
    return d


def _events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)).all()


def test_beat_schedule_holds_each_periodic_task(app):
    celery = app.extensions["celery"]
    schedule = celery.conf.beat_schedule
    assert set(schedule) == PERIODIC == set(engine.periodic_tasks(app))
    for name, entry in schedule.items():
        # Each entry names a task the worker knows, which runs that periodic function.
        assert entry["task"] == engine.PERIODIC_PREFIX + name and entry["task"] in celery.tasks
    assert engine.REPORT_TASK in celery.tasks
    # Stalled work is the engine's to notice: late acknowledgement, requeue on a lost worker, limits.
    conf = celery.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    # Without REDIS_URL (the tests' app, `make run`) tasks run eagerly.
    assert app.config.get("REDIS_URL") is None and conf.task_always_eager


def test_the_schedule_command_lists_the_tasks(app):
    out = app.test_cli_runner().invoke(args=["jobs", "schedule"]).output
    assert all(name in out for name in PERIODIC)


def test_worker_and_scheduler_need_redis(app):
    for command in ("worker", "scheduler"):
        result = app.test_cli_runner().invoke(args=["jobs", command])
        assert result.exit_code != 0 and "REDIS_URL" in result.output


def test_run_due_without_redis_applies_a_due_decision(app, delivery, session, market):
    provider = delivery.provider()
    d = _due_decision(provider)
    waiting = _due_decision(delivery.provider(), days_overdue=-3)  # not due yet
    project = market.open_project(deadline=utcnow() - dt.timedelta(hours=1))
    session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "run-due", "--skip", "core.backup"])
    assert result.exit_code == 0, result.output
    assert "evaluation.apply_due: {'applied': 1}" in result.output
    session.expire_all()
    assert session.get(AdjustmentDecision, d.id).status == DecisionStatus.AUTO_APPLIED
    assert session.get(AdjustmentDecision, waiting.id).status == DecisionStatus.PROPOSED
    assert provider.status == ProviderStatus.SUSPENDED
    assert session.get(PurchaseProject, project.id).state == ProjectState.CLOSED
    applied = _events("adjustment.auto_apply")
    assert [e.object_id for e in applied] == [str(d.id)] and applied[0].actor_label == "system"
    runs = {e.object_id: e for e in _events("task.run")}
    assert runs["evaluation.apply_due"].summary["result"] == {"applied": 1}
    assert runs["marketplace.close_bidding"].summary["result"] == {"projects": [project.id]}
    assert audit.verify() > 0
    # Again: nothing is due any more, and nothing more is written.
    before = session.scalar(select(func.count(AuditEvent.seq)))
    again = app.test_cli_runner().invoke(args=["jobs", "run-due", "--only", "evaluation.apply_due",
                                               "--only", "marketplace.close_bidding"])
    assert again.exit_code == 0 and again.output.count("nothing due") == 2
    assert session.scalar(select(func.count(AuditEvent.seq))) == before


def test_run_due_names_unknown_tasks(app):
    result = app.test_cli_runner().invoke(args=["jobs", "run-due", "--only", "nope"])
    assert result.exit_code != 0 and "nope" in result.output


def test_the_nightly_backup_is_made_once_a_day(app, session, tmp_path, monkeypatch):
    if db.engine.dialect.name == "sqlite":
        pytest.skip("the test database is held by the test's transaction; SQLite backups are tested in "
                    "test_backup")
    monkeypatch.setitem(app.config, "BACKUP_DIR", str(tmp_path / "backups"))
    first = engine.run_periodic("core.backup")
    assert first["file"].startswith("huimin-") and len(list((tmp_path / "backups").iterdir())) == 1
    assert engine.run_periodic("core.backup") == {}  # the same day: nothing more
    assert [e.object_id for e in _events("backup.create")] == [first["file"][:60]]


@pytest.mark.concurrency
def test_two_copies_of_the_periodic_tasks_at_once_change_each_thing_once(app, delivery, market, session):
    decisions = [_due_decision(delivery.provider()) for _ in range(3)]
    projects = [market.open_project(deadline=utcnow() - dt.timedelta(hours=h)) for h in (1, 2)]
    session.commit()
    decision_ids, project_ids = [d.id for d in decisions], [p.id for p in projects]
    barrier = threading.Barrier(2)
    errors, results = [], []

    def run():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(engine.run_due(skip=("core.backup",)))
                db.session.remove()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(results) == 2
    session.rollback()  # a fresh snapshot (SQLite's WAL reader keeps the one it began with)
    statuses = session.scalars(select(AdjustmentDecision.status).where(AdjustmentDecision.id.in_(decision_ids)))
    assert set(statuses) == {DecisionStatus.AUTO_APPLIED}
    # Each decision applied once, each project closed once, whichever copy did it.
    assert sorted(int(e.object_id) for e in _events("adjustment.auto_apply")) == sorted(decision_ids)
    assert sorted(int(e.object_id) for e in _events("project.close")) == sorted(project_ids)
    assert sum(1 for e in _events("task.run") if e.object_id == "evaluation.apply_due") == 1
    assert audit.verify() > 0


# --- a report job through a real Celery worker ------------------------------------------------------

def _wait(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def redis_prefix():
    prefix = f"huimin-test-{uuid.uuid4().hex[:10]}:"
    yield prefix
    r = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(r.scan_iter(match=f"{prefix}*"))
        if keys:
            r.delete(*keys)
    finally:
        r.close()


@pytest.mark.concurrency
def test_a_report_job_is_rendered_by_a_celery_worker_and_retried_after_a_failure(
        app, make_app, make_user, session, tmp_path, redis_prefix):
    uploads = tmp_path / "uploads"
    uploads.write_text("not a folder yet: the first attempt cannot keep its file")
    settings = {"REDIS_URL": REDIS_URL, "JOBS_REDIS_PREFIX": redis_prefix, "JOBS_BACKEND": "",
                "UPLOAD_DIR": str(uploads), "JOBS_RETRY_SECONDS": 2.0}
    web = make_app(**settings)
    officer = make_user("officer")
    session.commit()
    env = dict(os.environ, FLASK_APP="app", PYTHONPATH=str(ROOT), DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               SECRET_KEY="test-secret", REDIS_URL=REDIS_URL, JOBS_REDIS_PREFIX=redis_prefix,
               UPLOAD_DIR=str(uploads), JOBS_RETRY_SECONDS="2", RATELIMIT_ENABLED="0")
    argv = [str(Path(sys.executable).parent / "flask"), "jobs", "worker", "-c", "1", "--",
            "--pool=solo", "--without-heartbeat", "--without-gossip", "--without-mingle"]
    # Our own venv's flask with fixed arguments.
    worker = subprocess.Popen(argv, cwd=ROOT, env=env,  # noqa: S603
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        with web.app_context():
            assert jobs.backend(web) == "celery" and not engine.eager(web)
            job, _ = jobs.request_job("briefing", {"month": "2026-01"}, user=db.session.get(type(officer), officer.id),
                                      title="简报")
            db.session.commit()
            job_id, task_id = job.id, job.task_id
            jobs.dispatch(job)
            db.session.remove()
        # The first attempt fails (the upload folder is a file), is put back and counted …
        failed_once = _wait(lambda: db.session.scalar(select(jobs.ReportJob).where(
            jobs.ReportJob.id == job_id, jobs.ReportJob.attempts == 2)), 120, "the first attempt to fail")
        assert failed_once.task_id == task_id and "Error" in failed_once.error
        uploads.unlink()
        uploads.mkdir()
        # … and the engine's retry, after its back-off, renders it.
        done = _wait(lambda: db.session.scalar(select(jobs.ReportJob).where(
            jobs.ReportJob.id == job_id, jobs.ReportJob.state.in_([jobs.JobState.DONE, jobs.JobState.FAILED]))),
            120, "the retry")
        assert done.state == jobs.JobState.DONE, done.error
        assert done.attempts == 2 and done.file is not None
        with web.app_context():
            from core.uploads import read

            assert read(done.file.sha256).startswith(b"%PDF")
        retries = _events("report_job.retry")
        assert [(e.object_id, e.actor_label) for e in retries] == [(str(job_id), "system")]
        assert [e.object_id for e in _events("report_job.done")] == [str(job_id)]
    finally:
        worker.terminate()
        try:
            out = worker.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            worker.kill()
            out = worker.communicate()[0]
    assert b"huimin.report_job" in out


def test_without_redis_a_report_is_rendered_when_it_is_sent(make_app, make_user, session):
    """The embedded default: the engine runs the report task at once, in the sending process, and a
    failing render is retried there up to the attempts allowed, then recorded as failed."""
    web = make_app(JOBS_BACKEND="", JOBS_MAX_ATTEMPTS=2)
    calls = []

    def render(params, progress):
        calls.append(params["n"])
        if params["n"] == 2:
            raise RuntimeError("坏了")
        return "doc.pdf", "application/pdf", b"%PDF-1.4 eager\n%%EOF"

    jobs.register_job(web, "test_eager", render, label="测试")
    user = make_user("provider")
    with web.app_context():
        assert jobs.backend(web) == "eager" and engine.eager(web)
        ok, _ = jobs.request_job("test_eager", {"n": 1}, user=user)
        bad, _ = jobs.request_job("test_eager", {"n": 2}, user=user)
        db.session.commit()
        jobs.dispatch(ok)
        jobs.dispatch(bad)
        # The tasks' sessions worked inside this one's savepoint on the test's shared connection.
        db.session.commit()
        ok_id, bad_id = ok.id, bad.id
    session.expire_all()
    ok, bad = session.get(jobs.ReportJob, ok_id), session.get(jobs.ReportJob, bad_id)
    assert ok.state == jobs.JobState.DONE and ok.attempts == 1
    assert bad.state == jobs.JobState.FAILED and bad.attempts == 2 and "坏了" in bad.error
    assert calls == [1, 2, 2]
