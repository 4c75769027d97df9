"""Background production of heavy documents (a provider report, the monthly briefing).

A job is a `ReportJob` row: the database is the record of truth for every request, its
progress and its outcome, so nothing is lost when a render fails or a worker dies.

    register_job(app, "provider_report", render, label=_l("Provider report"), officers_read=True)  # in init_app
    job = request_job("provider_report", {"provider_id": 3, ...}, user=current_user, title="…")

`render(params, progress)` returns ``(filename, mimetype, bytes)`` and may call
``progress(fraction, label)``; the bytes are kept in the content-hash store (core/uploads.py).

Where the work runs (config ``JOBS_BACKEND``):
- ``redis`` (the default when ``REDIS_URL`` is set): the job id is pushed on a plain Redis list
  and a separate process, ``flask jobs worker``, pops it and renders. Gunicorn workers never
  render. Redis only carries the wake-up; a worker also picks up jobs left queued in the
  database (a lost push), so Redis may be flushed without losing a request.
- ``thread`` (the default without Redis): one daemon thread per app process renders queued
  jobs with its own app context and database session; it claims each job with a conditional
  UPDATE, so several processes never render the same job twice.
- ``manual``: nothing runs until `run_next()` / `run_job()` is called (tests, one-off commands).

A running job writes a heartbeat with its progress; one whose heartbeat is older than the
``jobs.stall_minutes`` setting is shown as stalled and may be retried like a failed one.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import audit, settings, uploads
from core.accounts.models import Role, User
from core.db import UTCDateTime, db, enum_column, intends_to_write, utcnow

log = logging.getLogger(__name__)

STALL_MINUTES = settings.define("jobs.stall_minutes", 15,
                                _l("Report jobs: minutes without progress before a running job counts as stalled"),
                                int, 1, 1440)
QUEUE_KEY = "jobs:queue"
# A worker also looks in the database for queued jobs older than this (a lost Redis push).
ORPHAN_SECONDS = 30


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self):
        return STATE_LABELS[self]


STATE_LABELS = {
    JobState.QUEUED: _l("Waiting in the queue"),
    JobState.RUNNING: _l("Being produced"),
    JobState.DONE: _l("Ready to download"),
    JobState.FAILED: _l("Could not be produced"),
}


class ReportJob(db.Model):
    __tablename__ = "report_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # SHA-256 of the canonical parameters: finds a duplicate request without comparing JSON in SQL.
    params_key: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[JobState] = mapped_column(enum_column(JobState), default=JobState.QUEUED, index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    filename: Mapped[str] = mapped_column(String(200), default="")
    mimetype: Mapped[str] = mapped_column(String(120), default="")

    requested_by: Mapped[User] = relationship(lazy="select")
    file: Mapped[uploads.StoredFile | None] = relationship(lazy="select")

    @property
    def stalled(self) -> bool:
        if self.state != JobState.RUNNING:
            return False
        beat = self.heartbeat_at or self.started_at or self.created_at
        return utcnow() - beat > dt.timedelta(minutes=settings.get(STALL_MINUTES.key))

    @property
    def retryable(self) -> bool:
        return self.state == JobState.FAILED or self.stalled

    @property
    def state_label(self):
        return _l("Stalled") if self.stalled else self.state.label

    def as_dict(self) -> dict:
        from flask import url_for

        return {"id": self.id, "kind": self.kind, "title": self.title, "state": self.state.value,
                "stalled": self.stalled, "state_label": str(self.state_label),
                "progress": round(self.progress or 0.0, 3), "stage": self.stage,
                "error": self.error if self.state == JobState.FAILED else "", "attempts": self.attempts,
                "created_at": audit.jsonable(self.created_at),
                "finished_at": audit.jsonable(self.finished_at) if self.finished_at else None,
                "download_url": url_for("reports.download", job_id=self.id) if self.state == JobState.DONE
                else None,
                "retryable": self.retryable}


# --- the job kinds an app knows ---------------------------------------------------------------------

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class JobKind:
    name: str
    render: Callable  # (params, progress) -> (filename, mimetype, bytes)
    label: object
    # District documents: any officer may read what another requested (besides the requester).
    officers_read: bool = False


KINDS_EXTENSION = "huimin.jobs.kinds"
RUNNER_EXTENSION = "huimin.jobs.runner"


def register_job(app: Flask, name: str, render: Callable, *, label=None, officers_read: bool = False) -> JobKind:
    """Teach the app a job kind (from the owning package's init_app); again replaces it."""
    kind = JobKind(name, render, label or name, officers_read)
    kinds(app)[name] = kind
    return kind


def kinds(app: Flask | None = None) -> dict[str, JobKind]:
    """The app's job kinds by name."""
    app = app or current_app
    return app.extensions.setdefault(KINDS_EXTENSION, {})


def params_key(kind: str, params: dict) -> str:
    body = json.dumps({"kind": kind, "params": params}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def may_read(job: ReportJob, user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if job.requested_by_id == user.id:
        return True
    kind = kinds().get(job.kind)
    return bool(kind and kind.officers_read and user.has_role(Role.OFFICER))


# --- requesting, retrying -----------------------------------------------------------------------

def request_job(kind: str, params: dict, *, user, title: str = "") -> tuple[ReportJob, bool]:
    """Queue a job, or give back the requester's own identical one still waiting or running.

    Returns (job, created). Flushes; the caller commits, then calls `dispatch(job)`.
    """
    if kind not in kinds():
        raise KeyError(f"unknown job kind {kind!r}")
    key = params_key(kind, params)
    active = db.session.scalars(select(ReportJob).where(
        ReportJob.kind == kind, ReportJob.params_key == key, ReportJob.requested_by_id == user.id,
        ReportJob.state.in_([JobState.QUEUED, JobState.RUNNING])).order_by(ReportJob.id.desc())).all()
    for job in active:
        if not job.stalled:
            return job, False
    job = ReportJob(kind=kind, params=params, params_key=key, title=title[:200], requested_by_id=user.id,
                    state=JobState.QUEUED, progress=0.0, attempts=1, created_at=utcnow())
    db.session.add(job)
    db.session.flush()
    audit.record("report_job.request", job, actor=user, kind=kind, params=params)
    return job, True


def retry(job: ReportJob, *, user) -> ReportJob:
    """Put a failed (or stalled) job back in the queue; the caller commits, then dispatches."""
    from core.errors import Refused

    if not job.retryable:
        raise Refused(_l("Only a failed or stalled report can be tried again."), audit_action="report_job.retry")
    before = "stalled" if job.stalled else job.state.value
    job.state, job.progress, job.stage, job.error = JobState.QUEUED, 0.0, "", ""
    job.started_at = job.heartbeat_at = job.finished_at = None
    job.attempts = (job.attempts or 0) + 1
    db.session.flush()
    audit.record("report_job.retry", job, actor=user, before=before, attempts=job.attempts)
    return job


# --- running one job ----------------------------------------------------------------------------

def _claim(job_id: int) -> bool:
    """queued → running, atomically: of several workers, one wins."""
    now = utcnow()
    with intends_to_write():
        result = db.session.execute(
            update(ReportJob).where(ReportJob.id == job_id, ReportJob.state == JobState.QUEUED)
            .values(state=JobState.RUNNING, started_at=now, heartbeat_at=now, progress=0.0, stage="")
            .execution_options(synchronize_session=False))
        db.session.commit()
    return result.rowcount == 1


def _set_progress(job_id: int, fraction: float, label: str):
    fraction = min(1.0, max(0.0, float(fraction)))
    # End the render's read transaction first: on SQLite a read transaction that turns into a write
    # fails at once while another writer works; the update begins its own (IMMEDIATE) one.
    db.session.commit()
    with intends_to_write():
        db.session.execute(update(ReportJob).where(ReportJob.id == job_id, ReportJob.state == JobState.RUNNING)
                           .values(progress=fraction, stage=str(label)[:200], heartbeat_at=utcnow())
                           .execution_options(synchronize_session=False))
        db.session.commit()


def run_job(job_id: int) -> JobState | None:
    """Render one queued job to its end: done with its file, or failed with the error.

    Commits as it goes (progress must be visible to the download page while it runs). Returns
    the final state, or None if another worker had already claimed the job.
    """
    if not _claim(job_id):
        return None
    job = db.session.get(ReportJob, job_id)
    kind = kinds().get(job.kind)
    params, requester_id = dict(job.params or {}), job.requested_by_id
    db.session.rollback()  # end the read transaction: rendering may take a while
    try:
        if kind is None:
            raise LookupError(f"no renderer is registered for {job.kind!r}")
        filename, mimetype, data = kind.render(params, lambda f, label="": _set_progress(job_id, f, label))
    except Exception as e:
        db.session.rollback()
        log.exception("report job %s (%s) failed", job_id, getattr(kind, "name", "?"))
        return _finish_failed(job_id, f"{type(e).__name__}: {e}"[:2000])
    try:
        with intends_to_write():
            requester = db.session.get(User, requester_id)
            stored = uploads.keep_generated(data, content_type=mimetype, name=filename, owner=requester)
            job = db.session.get(ReportJob, job_id, populate_existing=True)
            job.state, job.progress, job.finished_at = JobState.DONE, 1.0, utcnow()
            job.file_id, job.filename, job.mimetype, job.error = stored.id, filename[:200], mimetype[:120], ""
            audit.record("report_job.done", job, actor=None, kind=job.kind, size=len(data), sha256=stored.sha256)
            db.session.commit()
    except Exception as e:
        db.session.rollback()
        log.exception("report job %s: could not keep the file", job_id)
        return _finish_failed(job_id, f"{type(e).__name__}: {e}"[:2000])
    return JobState.DONE


def _finish_failed(job_id: int, error: str) -> JobState:
    with intends_to_write():
        job = db.session.get(ReportJob, job_id, populate_existing=True)
        job.state, job.error, job.finished_at = JobState.FAILED, error, utcnow()
        audit.record("report_job.failed", job, actor=None, kind=job.kind, error=error[:300], attempts=job.attempts)
        db.session.commit()
    return JobState.FAILED


def next_queued(older_than: dt.timedelta | None = None) -> int | None:
    stmt = select(ReportJob.id).where(ReportJob.state == JobState.QUEUED).order_by(ReportJob.id).limit(1)
    if older_than is not None:
        stmt = stmt.where(ReportJob.created_at <= utcnow() - older_than)
    job_id = db.session.scalar(stmt)
    db.session.rollback()
    return job_id


def run_next() -> JobState | None:
    """Run the oldest queued job, if any (manual backend, tests, the thread)."""
    job_id = next_queued()
    return run_job(job_id) if job_id is not None else None


# --- the queue at a glance (admin dashboard) ----------------------------------------------------

@dataclass(frozen=True)
class QueueFigures:
    backend: str
    queued: int
    running: int
    stalled: int
    failed_week: int
    done_week: int
    oldest_queued_at: dt.datetime | None


def queue_figures(now: dt.datetime | None = None) -> QueueFigures:
    """The queue's state in one statement: what waits, runs, has stalled, and the last 7 days'
    outcomes."""
    now = now or utcnow()
    week = now - dt.timedelta(days=7)
    stall_before = now - dt.timedelta(minutes=settings.get(STALL_MINUTES.key))
    beat = func.coalesce(ReportJob.heartbeat_at, ReportJob.started_at, ReportJob.created_at)

    def count(*where):
        return select(func.count(ReportJob.id)).where(*where).scalar_subquery()

    row = db.session.execute(select(
        count(ReportJob.state == JobState.QUEUED),
        count(ReportJob.state == JobState.RUNNING, beat >= stall_before),
        count(ReportJob.state == JobState.RUNNING, beat < stall_before),
        count(ReportJob.state == JobState.FAILED, ReportJob.finished_at >= week),
        count(ReportJob.state == JobState.DONE, ReportJob.finished_at >= week),
        select(func.min(ReportJob.created_at)).where(ReportJob.state == JobState.QUEUED).scalar_subquery(),
    )).one()
    return QueueFigures(backend(), *(int(v or 0) for v in row[:5]), row[5])


# --- where the work runs --------------------------------------------------------------------------

def backend(app: Flask | None = None) -> str:
    app = app or current_app
    chosen = app.config.get("JOBS_BACKEND") or ""
    if chosen:
        return chosen
    return "redis" if app.config.get("REDIS_URL") else "thread"


def redis_client(app: Flask | None = None):
    import redis

    app = app or current_app
    return redis.Redis.from_url(app.config["REDIS_URL"])


def queue_key(app: Flask | None = None) -> str:
    app = app or current_app
    return (app.config.get("JOBS_REDIS_PREFIX") or "huimin:") + QUEUE_KEY


def kick():
    """Without Redis: make sure this process's thread looks for queued jobs (left by a restart)."""
    app = current_app._get_current_object()
    if backend(app) == "thread" and db.session.scalar(
            select(ReportJob.id).where(ReportJob.state == JobState.QUEUED).limit(1)) is not None:
        _thread_for(app).wake()


def dispatch(job: ReportJob):
    """After the commit that queued `job`: wake whatever will render it."""
    app = current_app._get_current_object()
    kind = backend(app)
    if kind == "redis":
        client = redis_client(app)
        try:
            client.lpush(queue_key(app), job.id)
        except Exception:
            log.exception("report job %s: Redis push failed; left for a worker's sweep", job.id)
        finally:
            client.close()
    elif kind == "thread":
        _thread_for(app).wake()


class _Runner:
    """One daemon thread per app (per process): renders queued jobs one at a time."""

    def __init__(self, app: Flask):
        self.app = app
        self.event = threading.Event()
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, name="huimin-jobs", daemon=True)
        self.thread.start()

    def wake(self):
        self.event.set()

    def stop(self, timeout: float = 10):
        self.stopping = True
        self.event.set()
        self.thread.join(timeout)

    def _loop(self):
        while True:
            # Every minute it also looks for jobs queued by other processes or before a restart.
            self.event.wait(timeout=60)
            self.event.clear()
            if self.stopping:
                return
            if backend(self.app) != "thread":
                continue  # the configuration changed (tests)
            try:
                with self.app.app_context():
                    while run_next() is not None:
                        pass
                    db.session.remove()
            except Exception:
                log.exception("report job thread")


_RUNNER_LOCK = threading.Lock()  # two requests may both want the app's first thread


def _thread_for(app: Flask) -> _Runner:
    with _RUNNER_LOCK:
        runner = app.extensions.get(RUNNER_EXTENSION)
        if runner is None or not runner.thread.is_alive():
            runner = app.extensions[RUNNER_EXTENSION] = _Runner(app)
        return runner


def stop_threads(app: Flask | None = None):
    """Stop the app's in-process runner, if it has one (tests; a clean shutdown)."""
    app = app or current_app
    with _RUNNER_LOCK:
        runner = app.extensions.pop(RUNNER_EXTENSION, None)
    if runner is not None:
        runner.stop()


def work(app: Flask, *, once: bool = False, block_seconds: int = 5, stop: threading.Event | None = None) -> int:
    """The Redis worker's loop: pop job ids and render them; sweep the database for lost ones.

    Returns the number of jobs run (with `once`, stops when the queue is empty).
    """
    client = redis_client(app)
    key = queue_key(app)
    done = 0
    try:
        while not (stop and stop.is_set()):
            popped = client.brpop([key], timeout=block_seconds)
            with app.app_context():
                if popped is not None:
                    job_id = int(popped[1])
                else:
                    job_id = next_queued(older_than=dt.timedelta(seconds=ORPHAN_SECONDS))
                if job_id is not None and run_job(job_id) is not None:
                    done += 1
                db.session.remove()
            if once and popped is None:
                break
    finally:
        client.close()
    return done


jobs_cli = AppGroup("jobs", help="Background production of reports.")


@jobs_cli.command("worker")
@click.option("--once", is_flag=True, help="Stop when the queue is empty (for cron or tests).")
def worker_command(once):
    """Render queued reports from the Redis queue (run beside gunicorn when REDIS_URL is set).

    SIGTERM or Ctrl-C lets the report being rendered finish, then stops.
    """
    import signal

    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: without Redis, each app process renders in a thread.")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_a: stop.set())
    click.echo(f"jobs worker: waiting on {queue_key(app)}")
    n = work(app, once=once, stop=stop)
    click.echo(f"jobs worker: {n} job(s) run")


@jobs_cli.command("run-queued")
def run_queued_command():
    """Render every queued report in this process, then stop (no Redis needed)."""
    n = 0
    while run_next() is not None:
        n += 1
    click.echo(f"{n} job(s) run")


def init_app(app: Flask):
    app.cli.add_command(jobs_cli)
