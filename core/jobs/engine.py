"""The task engine: Celery, with Redis as broker, configured from the Flask app.

One Celery app per Flask app, made in core's init_app and kept on ``app.extensions["celery"]``;
every task runs inside that Flask app's context (Flask's "Background Tasks with Celery" pattern).

- With ``REDIS_URL``: tasks go through Redis to ``flask jobs worker`` (a Celery worker), and
  ``flask jobs scheduler`` (Celery beat) sends the periodic ones on their schedule.
- Without it (``make run``, the embedded default): tasks run eagerly, in the process that sends
  them, and ``flask jobs run-due`` runs every periodic task once (by cron, or by hand).

Periodic tasks are registered by the package that owns the work, in its own init_app:

    register_periodic(app, "evaluation.apply_due", apply_due_task, crontab(minute="*/10"))

`func(now)` runs in a write transaction and returns a short summary of what it changed (falsy when
nothing); the engine commits it. Each task body is idempotent; on PostgreSQL a per-task
transaction-level advisory lock (``pg_try_advisory_xact_lock``) lets only one copy run at a time
(another copy skips), on SQLite the write transaction (``BEGIN IMMEDIATE``) serializes them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import click
from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask, current_app
from sqlalchemy import text

from core import audit
from core.db import db, intends_to_write, utcnow, write_intent

log = logging.getLogger(__name__)

EXTENSION = "celery"
PERIODIC_EXTENSION = "huimin.jobs.periodic"
REPORT_TASK = "huimin.report_job"
PERIODIC_PREFIX = "huimin.periodic."

__all__ = [
    "REPORT_TASK",
    "celery_app",
    "crontab",
    "init_app",
    "periodic_tasks",
    "register_periodic",
    "run_due",
    "run_periodic",
]


@dataclass(frozen=True)
class Periodic:
    name: str
    func: Callable[[dt.datetime], object]
    schedule: object  # a celery crontab, or seconds

    @property
    def task_name(self) -> str:
        return PERIODIC_PREFIX + self.name


def init_app(app: Flask) -> Celery:
    """Make the app's Celery app (from its config) and keep it on app.extensions."""
    broker = app.config.get("REDIS_URL")
    limit = int(app.config.get("JOBS_TIME_LIMIT") or 1800)

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            # Its own app context (and database session); run eagerly inside a POST request, it
            # does not inherit the request's intent to write (SQLite's lock taken up front).
            token = write_intent.set(False)
            try:
                with app.app_context():
                    return self.run(*args, **kwargs)
            finally:
                write_intent.reset(token)

    celery = Celery(app.import_name, task_cls=FlaskTask, set_as_current=False)
    prefix = app.config.get("JOBS_REDIS_PREFIX") or "huimin:"
    celery.conf.update(
        broker_url=broker or "memory://",
        broker_connection_retry_on_startup=True,
        # Keys of the queue under the app's prefix (several apps or tests may share one Redis).
        broker_transport_options={"global_keyprefix": prefix,
                                  # An unacknowledged message goes back to the queue after this:
                                  # longer than any task may run, so a slow task is never doubled.
                                  "visibility_timeout": limit * 2},
        task_default_queue="huimin",
        task_ignore_result=True,
        task_always_eager=not broker,
        task_eager_propagates=False,
        task_store_eager_result=False,
        # A task is acknowledged when it ends: a worker that dies (or is killed at the hard time
        # limit) leaves its message to be delivered again.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_time_limit=limit,
        task_soft_time_limit=max(1, limit - 60),
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        timezone="Asia/Shanghai",
        enable_utc=True,
        beat_schedule={},
    )
    app.extensions[EXTENSION] = celery
    app.extensions[PERIODIC_EXTENSION] = {}
    return celery


def celery_app(app: Flask | None = None) -> Celery:
    return (app or current_app).extensions[EXTENSION]


def eager(app: Flask | None = None) -> bool:
    return bool(celery_app(app).conf.task_always_eager)


# --- periodic tasks ------------------------------------------------------------------------------

def register_periodic(app: Flask, name: str, func: Callable[[dt.datetime], object], schedule) -> Periodic:
    """Teach the app a periodic task (from the owning package's init_app) and put it on beat's
    schedule. `schedule` is a celery ``crontab`` (Asia/Shanghai) or a number of seconds."""
    task = Periodic(name, func, schedule)
    periodic_tasks(app)[name] = task
    celery = celery_app(app)

    def run():
        return run_periodic(name)

    run.__name__ = run.__qualname__ = "periodic_" + name.replace(".", "_")
    celery.task(name=task.task_name, acks_late=False, shared=False)(run)
    # JOBS_PERIODIC_SECONDS (tests only): every periodic task every N seconds, whatever its schedule.
    schedule = float(app.config.get("JOBS_PERIODIC_SECONDS") or 0) or schedule
    celery.conf.beat_schedule[name] = {"task": task.task_name, "schedule": schedule,
                                       # A tick missed by more than a period is not worth sending late.
                                       "options": {"expires": _seconds(schedule)}}
    return task


def _seconds(schedule) -> float:
    if isinstance(schedule, int | float):
        return float(schedule)
    if isinstance(schedule, dt.timedelta):
        return schedule.total_seconds()
    try:
        return max(60.0, schedule.remaining_estimate(dt.datetime.now(dt.UTC)).total_seconds())
    except Exception:
        return 3600.0


def periodic_tasks(app: Flask | None = None) -> dict[str, Periodic]:
    return (app or current_app).extensions.setdefault(PERIODIC_EXTENSION, {})


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a task name."""
    return int.from_bytes(hashlib.sha256(("huimin.task:" + name).encode()).digest()[:8], "big", signed=True)


def _try_task_lock(name: str) -> bool:
    """PostgreSQL: only one copy of a task runs at a time in the cluster; the lock ends with the
    transaction. SQLite: the write transaction already holds the whole database."""
    session = db.session
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": lock_key(name)}).scalar())


def run_periodic(name: str, now: dt.datetime | None = None):
    """Run one periodic task now, in its own write transaction; return its summary, or None if
    another copy was running (PostgreSQL)."""
    task = periodic_tasks()[name]
    now = now or utcnow()
    db.session.rollback()
    with intends_to_write():
        try:
            if not _try_task_lock(name):
                db.session.rollback()
                log.info("periodic task %s: another copy is running; skipped", name)
                return None
            result = task.func(now)
            if result:
                audit.record("task.run", object_type="task", object_id=name[:60], actor=None, result=result)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("periodic task %s failed", name)
            raise
    if result:
        log.info("periodic task %s: %s", name, result)
    return result


def run_due(app: Flask | None = None, *, only: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> dict:
    """Every periodic task once, now (``flask jobs run-due``): {name: summary}."""
    out = {}
    for name in sorted(periodic_tasks(app)):
        if (only and name not in only) or name in skip:
            continue
        out[name] = run_periodic(name)
    return out


# --- commands -----------------------------------------------------------------------------------

def _need_redis(app: Flask, what: str):
    if not app.config.get("REDIS_URL"):
        raise click.ClickException(
            f"REDIS_URL is not set: without Redis tasks run eagerly in the app; {what} has nothing to do "
            "(run `flask jobs run-due` from cron for the periodic tasks).")


def register_commands(group):
    @group.command("worker", context_settings={"ignore_unknown_options": True})
    @click.option("--concurrency", "-c", default=None, type=int, help="Worker processes (default: one per core).")
    @click.option("--loglevel", "-l", default="INFO")
    @click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
    def worker_command(concurrency, loglevel, celery_args):
        """The Celery worker: renders reports and runs the periodic tasks beat sends (needs REDIS_URL)."""
        app = current_app._get_current_object()
        _need_redis(app, "a worker")
        argv = ["worker", f"--loglevel={loglevel}", "--hostname", "huimin@%h"]
        if concurrency:
            argv.append(f"--concurrency={concurrency}")
        celery_app(app).worker_main(argv=[*argv, *celery_args])

    @group.command("scheduler", context_settings={"ignore_unknown_options": True})
    @click.option("--loglevel", "-l", default="INFO")
    @click.option("--schedule-file", default=None, help="Where beat keeps its last run times.")
    @click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
    def scheduler_command(loglevel, schedule_file, celery_args):
        """Celery beat: sends each periodic task on its schedule (run exactly one; needs REDIS_URL)."""
        app = current_app._get_current_object()
        _need_redis(app, "a scheduler")
        schedule_file = schedule_file or app.config.get("JOBS_BEAT_SCHEDULE_FILE") or \
            f"{app.instance_path}/celerybeat-schedule"
        celery_app(app).start(argv=["beat", f"--loglevel={loglevel}", "--schedule", schedule_file, *celery_args])

    @group.command("schedule")
    def schedule_command():
        """List the periodic tasks and their schedules."""
        for name, task in sorted(periodic_tasks().items()):
            click.echo(f"{name}\t{task.schedule}")

    @group.command("run-due")
    @click.option("--only", multiple=True, help="Run only this task (repeatable).")
    @click.option("--skip", multiple=True, help="Leave this task out (repeatable).")
    def run_due_command(only, skip):
        """Run every periodic task once, now (without Redis: from cron, or by hand)."""
        unknown = [n for n in (*only, *skip) if n not in periodic_tasks()]
        if unknown:
            raise click.ClickException(f"unknown task(s): {', '.join(unknown)}")
        for name, result in run_due(only=only, skip=skip).items():
            click.echo(f"{name}: {'skipped (running elsewhere)' if result is None else (result or 'nothing due')}")
