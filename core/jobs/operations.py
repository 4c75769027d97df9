"""Background production of heavy documents (a provider report, the monthly briefing).

A job is a `ReportJob` row: the database is the record of truth for every request, its
progress and its outcome, so nothing is lost when a render fails or a worker dies.

    register_job(app, "provider_report", render, label=_l("Provider report"), officers_read=True)  # in init_app
    job = request_job("provider_report", {"provider_id": 3, ...}, user=current_user, title="…")

`render(params, progress)` returns ``(filename, mimetype, bytes)`` and may call
``progress(fraction, label)``; the bytes are kept in the content-hash store (core/uploads.py).

Where the work runs: the task engine (core/jobs/engine.py, Celery). `dispatch(job)` sends the
job's task after the commit that queued it; with Redis a `flask jobs worker` renders it, without
Redis it renders at once in the sending process. Config ``JOBS_BACKEND=manual`` sends nothing
(tests call `run_job` / `run_next` themselves).

The row carries the id of the task that may render it (``task_id``): a worker claims the job with
a conditional UPDATE on that id, so a stale or duplicate message does nothing. A render that
fails is retried by the engine with exponential back-off (``JOBS_MAX_ATTEMPTS`` attempts, waits of
``JOBS_RETRY_SECONDS`` × 2ⁿ); a worker that dies or passes the time limit leaves its message
unacknowledged, and the broker delivers it again (acks_late, reject_on_worker_lost, the
visibility timeout), when the same task re-claims its running job. The periodic
``jobs.cleanup`` sends again a job whose message was lost (Redis flushed) and fails one the
engine gave up on.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, func, select, update
from sqlalchemy import event as sqla_event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import audit, settings, uploads
from core.accounts.models import Role, User
from core.db import UTCDateTime, db, enum_column, intends_to_write, utcnow
from core.jobs import engine

log = logging.getLogger(__name__)

STALL_MINUTES = settings.define("jobs.stall_minutes", 15,
                                _l("Report jobs: minutes without progress before a running job counts as stalled"),
                                int, 1, 1440)
# The cleanup sends again a job queued longer than this without being claimed (a lost message).
ORPHAN_MINUTES = 10


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
    # The engine's task that may render this job (a new one for each request or manual retry).
    task_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
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
                    state=JobState.QUEUED, progress=0.0, attempts=1, created_at=utcnow(), task_id=new_task_id())
    db.session.add(job)
    db.session.flush()
    audit.record("report_job.request", job, actor=user, kind=kind, params=params)
    return job, True


def new_task_id() -> str:
    return uuid.uuid4().hex


def retry(job: ReportJob, *, user) -> ReportJob:
    """Put a failed (or stalled) job back in the queue; the caller commits, then dispatches."""
    from core.errors import Refused

    if not job.retryable:
        raise Refused(_l("Only a failed or stalled report can be tried again."), audit_action="report_job.retry")
    before = "stalled" if job.stalled else job.state.value
    job.state, job.progress, job.stage, job.error = JobState.QUEUED, 0.0, "", ""
    job.started_at = job.finished_at = None
    job.heartbeat_at = utcnow()  # of a queued job: when it was queued again
    job.attempts = (job.attempts or 0) + 1
    job.task_id = new_task_id()  # a message of the old task, if one is still about, finds nothing to do
    db.session.flush()
    audit.record("report_job.retry", job, actor=user, before=before, attempts=job.attempts)
    return job


# --- running one job ----------------------------------------------------------------------------

def _claim(job_id: int, task_id: str | None = None) -> bool:
    """queued → running, atomically: of several workers, one wins.

    With the engine's `task_id`: only that task's messages may claim the job, and a message the
    broker delivered again (its worker died) re-claims the job its task left running.
    """
    now = utcnow()
    cond = [ReportJob.id == job_id]
    if task_id is None:
        cond.append(ReportJob.state == JobState.QUEUED)
    else:
        cond += [ReportJob.task_id == task_id, ReportJob.state.in_([JobState.QUEUED, JobState.RUNNING])]
    with intends_to_write():
        result = db.session.execute(
            update(ReportJob).where(*cond)
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


def run_job(job_id: int, task_id: str | None = None, *, may_retry: bool = False) -> JobState | None:
    """Render one queued job to its end: done with its file, or failed with the error.

    Commits as it goes (progress must be visible to the download page while it runs). Returns
    the final state, or None if another worker had already claimed the job. With `may_retry`, a
    failed render puts the job back in the queue (its error kept, one more attempt counted) and
    returns QUEUED: the engine sends it again after its back-off.
    """
    if not _claim(job_id, task_id):
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
        if may_retry:
            return _requeue(job_id, f"{type(e).__name__}: {e}"[:2000])
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
        if may_retry:
            return _requeue(job_id, f"{type(e).__name__}: {e}"[:2000])
        return _finish_failed(job_id, f"{type(e).__name__}: {e}"[:2000])
    return JobState.DONE


def _finish_failed(job_id: int, error: str) -> JobState:
    with intends_to_write():
        job = db.session.get(ReportJob, job_id, populate_existing=True)
        job.state, job.error, job.finished_at = JobState.FAILED, error, utcnow()
        audit.record("report_job.failed", job, actor=None, kind=job.kind, error=error[:300], attempts=job.attempts)
        db.session.commit()
    return JobState.FAILED


def _requeue(job_id: int, error: str) -> JobState:
    """A failed attempt the engine will try again: back in the queue, the error kept."""
    with intends_to_write():
        job = db.session.get(ReportJob, job_id, populate_existing=True)
        job.state, job.error, job.progress, job.stage = JobState.QUEUED, error, 0.0, ""
        job.started_at, job.heartbeat_at = None, utcnow()
        job.attempts = (job.attempts or 0) + 1
        audit.record("report_job.retry", job, actor=None, before="failed", attempts=job.attempts, error=error[:300])
        db.session.commit()
    return JobState.QUEUED


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


# --- where the work runs: the task engine -------------------------------------------------------

def backend(app: Flask | None = None) -> str:
    """"manual" (tests: nothing is sent), else "celery" (with Redis a worker renders; without,
    the sending process renders at once)."""
    app = app or current_app
    if (app.config.get("JOBS_BACKEND") or "") == "manual":
        return "manual"
    return "celery" if app.config.get("REDIS_URL") else "eager"


def max_attempts(app: Flask | None = None) -> int:
    return max(1, int((app or current_app).config.get("JOBS_MAX_ATTEMPTS") or 3))


def retry_seconds(attempt: int, app: Flask | None = None) -> float:
    """The wait before attempt `attempt + 1`: exponential back-off."""
    base = float((app or current_app).config.get("JOBS_RETRY_SECONDS") or 30)
    return base * (2 ** max(0, attempt - 1))


def dispatch(job: ReportJob):
    """After the commit that queued `job`: send its task to the engine."""
    app = current_app._get_current_object()
    if backend(app) == "manual":
        return
    job_id, task_id = job.id, job.task_id
    if not task_id:
        raise ValueError(f"report job {job_id} has no task id")
    if engine.eager(app):
        # Reading the committed row began a transaction (on SQLite, in a POST, one holding the write
        # lock): end it, or the task run here, on its own session, could not write.
        db.session.commit()
    try:
        # apply_async (not send_task): without Redis the engine runs the task here and now.
        engine.celery_app(app).tasks[engine.REPORT_TASK].apply_async(args=[job_id], task_id=task_id)
    except Exception:
        # The row stays queued: the periodic cleanup sends it again.
        log.exception("report job %s: could not be sent to the task engine", job_id)


def render_task(task, job_id: int):
    """The engine's report task (`huimin.report_job`): render, or be retried with back-off."""
    task_id = task.request.id
    job = db.session.get(ReportJob, job_id)
    if job is None or job.task_id != task_id:
        db.session.rollback()
        return None  # another request or a manual retry took the job over
    attempts = job.attempts or 1
    if job.state == JobState.RUNNING and attempts >= max_attempts():
        # Delivered again after its worker died on the last allowed attempt.
        db.session.rollback()
        _finish_failed(job_id, "the worker stopped while producing the report (time limit or crash)")
        return JobState.FAILED.value
    if job.state == JobState.RUNNING:
        with intends_to_write():
            db.session.execute(update(ReportJob).where(ReportJob.id == job_id, ReportJob.task_id == task_id)
                               .values(attempts=attempts + 1).execution_options(synchronize_session=False))
            audit.record("report_job.redelivered", object_type="report_jobs", object_id=job_id, actor=None,
                         attempts=attempts + 1)
            db.session.commit()
        attempts += 1
    db.session.rollback()
    state = run_job(job_id, task_id, may_retry=attempts < max_attempts())
    if state == JobState.QUEUED:
        raise task.retry(countdown=retry_seconds(attempts), max_retries=max_attempts())
    return state.value if state else None


def cleanup(now: dt.datetime) -> dict:
    """The periodic cleanup (`jobs.cleanup`): a job queued for long without being claimed had its
    message lost (Redis flushed or down when it was sent): it is sent again under a new task id. A
    running job without progress for far longer than the engine's time limit was given up by the
    engine (its message lost with the broker): it fails, and may be retried by its requester."""
    app = current_app._get_current_object()
    resent, failed = [], []
    if backend(app) == "celery":  # eagerly run jobs never wait on a message
        orphans = db.session.scalars(select(ReportJob).where(
            ReportJob.state == JobState.QUEUED,
            # heartbeat_at of a queued job: when it was (re)queued.
            func.coalesce(ReportJob.heartbeat_at, ReportJob.created_at) < now - dt.timedelta(minutes=ORPHAN_MINUTES))
            .order_by(ReportJob.id).limit(100).with_for_update(skip_locked=True)).all()
        for job in orphans:
            job.task_id = new_task_id()
            resent.append(job)
    limit = int(app.config.get("JOBS_TIME_LIMIT") or 1800)
    cut = now - dt.timedelta(seconds=limit * 3) - dt.timedelta(minutes=settings.get(STALL_MINUTES.key))
    beat = func.coalesce(ReportJob.heartbeat_at, ReportJob.started_at, ReportJob.created_at)
    for job in db.session.scalars(select(ReportJob).where(ReportJob.state == JobState.RUNNING, beat < cut)
                                  .order_by(ReportJob.id).limit(100).with_for_update(skip_locked=True)):
        job.state, job.finished_at = JobState.FAILED, now
        job.error = "the task engine gave the report up (no progress since %s)" % (job.heartbeat_at or job.started_at)
        failed.append(job.id)
        audit.record("report_job.failed", job, actor=None, kind=job.kind, error=job.error[:300],
                     attempts=job.attempts)
    for job in resent:
        audit.record("report_job.resend", job, actor=None, task_id=job.task_id)
    db.session.flush()
    if resent:
        # Sent after this transaction commits: the worker must find the new task id.
        ids = [(j.id, j.task_id) for j in resent]
        task = engine.celery_app(app).tasks[engine.REPORT_TASK]

        def send(_session):
            for job_id, task_id in ids:
                try:
                    task.apply_async(args=[job_id], task_id=task_id)
                except Exception:
                    log.exception("report job %s: could not be sent again", job_id)

        sqla_event.listen(db.session(), "after_commit", send, once=True)
    return {"resent": [j.id for j in resent], "failed": failed} if resent or failed else {}


jobs_cli = AppGroup("jobs", help="The task engine: report jobs and periodic tasks.")
engine.register_commands(jobs_cli)


@jobs_cli.command("run-queued")
def run_queued_command():
    """Render every queued report in this process, then stop (no Redis needed)."""
    n = 0
    while run_next() is not None:
        n += 1
    click.echo(f"{n} job(s) run")


def init_app(app: Flask):
    celery = engine.init_app(app)

    def report_task(self, job_id):
        return render_task(self, job_id)

    celery.task(name=engine.REPORT_TASK, bind=True, shared=False)(report_task)
    engine.register_periodic(app, "jobs.cleanup", cleanup, engine.crontab(minute="*/15"))
    app.cli.add_command(jobs_cli)
