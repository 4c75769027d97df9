"""The download page of background-produced reports: the user's jobs with their progress, the
finished files, retries; a JSON status endpoint the page's script polls (session auth).

Request forms come from higher modules through the `core.signals.report_request_panels` slot."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import signals, uploads
from core.accounts.models import Role
from core.db import db, lock_row
from core.forms import ConfirmForm
from core.jobs import operations as jobs
from core.permissions import access
from core.views_util import Page

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _own_jobs():
    return select(jobs.ReportJob).where(jobs.ReportJob.requested_by_id == current_user.id) \
        .order_by(jobs.ReportJob.created_at.desc(), jobs.ReportJob.id.desc())


def index_page(forms: dict | None = None, status: int = 200):
    """The page; a request view that refused its form shows it again here with `forms`.

    Each panel returns Markup (an autoescaped template's output) or "".
    """
    panels = signals.markup_for(signals.report_request_panels, current_user._get_current_object(), forms=forms or {})
    return render_template("core/jobs/reports.html", page=Page(_own_jobs()), panels=panels,
                           action_form=ConfirmForm()), status


@bp.route("/")
@access(Role.PROVIDER, Role.OFFICER)
def index():
    return index_page()


@bp.route("/status.json")
@access(Role.PROVIDER, Role.OFFICER)
def status():
    """The requester's jobs (or the ones asked for with ?ids=1,2 that the user may read)."""
    raw = request.args.get("ids", "")
    if raw:
        try:
            ids = [int(x) for x in raw.split(",") if x.strip()][:100]
        except ValueError:
            return jsonify({"error": {"code": "invalid", "fields": {"ids": [_("Not a list of numbers.")]}}}), 400
        rows = db.session.scalars(select(jobs.ReportJob).where(jobs.ReportJob.id.in_(ids))).all()
        rows = [j for j in rows if jobs.may_read(j, current_user)]
    else:
        rows = db.session.scalars(_own_jobs().limit(50)).all()
    return jsonify({"jobs": [j.as_dict() for j in rows]})


def _readable_or_404(job_id: int) -> jobs.ReportJob:
    job = db.session.get(jobs.ReportJob, job_id)
    # Someone else's job answers as if it did not exist.
    if job is None or not jobs.may_read(job, current_user):
        abort(404)
    return job


@bp.route("/<int:job_id>/download")
@access(Role.PROVIDER, Role.OFFICER)
def download(job_id):
    job = _readable_or_404(job_id)
    if job.state != jobs.JobState.DONE or job.file is None:
        abort(404)
    resp = uploads.send(job.file)
    if job.mimetype:
        resp.mimetype = job.mimetype
    return resp


@bp.route("/<int:job_id>/retry", methods=["POST"])
@access(Role.PROVIDER, Role.OFFICER)
def retry(job_id):
    _readable_or_404(job_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    job = lock_row(jobs.ReportJob, job_id)
    jobs.retry(job, user=current_user)  # a refusal (not failed, not stalled) is answered and audited as 409
    db.session.commit()
    jobs.dispatch(job)
    flash(_("The report is queued again."), "success")
    return redirect(url_for("reports.index"))
