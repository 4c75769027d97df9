"""Background report jobs: progress, failures that lose nothing, retries, stalled workers, duplicate
requests, the download page and its JSON status, the in-process thread and the Redis worker."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from core import audit
from core.audit import AuditEvent
from core.db import db, utcnow
from core.jobs import operations as jobs
from tests.support.pages import html_text

KIND = "test_document"


class Renderer:
    """A job kind for tests: reports progress, sees its own row's progress, fails while told to."""

    def __init__(self):
        self.fail_with: Exception | None = None
        self.seen_progress: list[float] = []
        self.calls = 0

    def __call__(self, params, progress):
        self.calls += 1
        progress(0.25, "第一步")
        job = db.session.scalar(select(jobs.ReportJob).where(jobs.ReportJob.state == jobs.JobState.RUNNING)
                                .order_by(jobs.ReportJob.id.desc()))
        self.seen_progress.append((job.progress, job.stage) if job else None)
        progress(0.75, "第二步")
        if self.fail_with is not None:
            raise self.fail_with
        body = f"%PDF-1.4 测试文档 {params['n']}\n%%EOF".encode()
        return f"测试文档-{params['n']}.pdf", "application/pdf", body


@pytest.fixture
def renderer(app, monkeypatch):
    r = Renderer()
    jobs.register_job(app, KIND, r, label="测试文档", officers_read=False)
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "manual")
    yield r
    jobs.kinds(app).pop(KIND, None)


def _events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.seq)).all()


def test_a_job_runs_to_done_with_progress_and_keeps_its_file(renderer, make_user, session):
    user = make_user("provider")
    job, created = jobs.request_job(KIND, {"n": 1}, user=user, title="文档一")
    assert created and job.state == jobs.JobState.QUEUED and job.attempts == 1
    assert jobs.run_job(job.id) == jobs.JobState.DONE
    # While it ran, its row showed the progress the renderer reported.
    assert renderer.seen_progress == [(0.25, "第一步")]
    job = session.get(jobs.ReportJob, job.id, populate_existing=True)
    assert job.state == jobs.JobState.DONE and job.progress == 1.0 and job.finished_at is not None
    assert job.filename == "测试文档-1.pdf" and job.file.size == len(f"%PDF-1.4 测试文档 {1}\n%%EOF".encode())
    from core import uploads

    assert uploads.read(job.file.sha256).startswith(b"%PDF-1.4")
    assert [e.object_id for e in _events("report_job.done")] == [str(job.id)]
    # A second worker finding the same id does nothing.
    assert jobs.run_job(job.id) is None and renderer.calls == 1


def test_a_failed_render_is_recorded_loses_nothing_and_a_retry_succeeds(renderer, make_user, session, client,
                                                                       login):
    user = login(make_user("provider"))
    renderer.fail_with = RuntimeError("字体缺失")
    job, _created = jobs.request_job(KIND, {"n": 2}, user=user, title="文档二")
    assert jobs.run_job(job.id) == jobs.JobState.FAILED
    job = session.get(jobs.ReportJob, job.id, populate_existing=True)
    assert job.state == jobs.JobState.FAILED and "RuntimeError: 字体缺失" in job.error
    assert job.params == {"n": 2} and job.title == "文档二" and job.file_id is None
    failed = _events("report_job.failed")
    assert [e.object_id for e in failed] == [str(job.id)] and "字体缺失" in failed[0].summary["error"]
    assert audit.verify() >= 2

    page = client.get("/reports/")
    assert page.status_code == 200
    text = html_text(page)
    assert "文档二" in text and "生成失败" in text and "字体缺失" in text
    assert f'action="/reports/{job.id}/retry"' in page.get_data(as_text=True)
    assert client.get(f"/reports/{job.id}/download").status_code == 404  # nothing to download yet

    renderer.fail_with = None
    resp = client.post(f"/reports/{job.id}/retry")
    assert resp.status_code == 302
    job = session.get(jobs.ReportJob, job.id, populate_existing=True)
    assert (job.state, job.attempts, job.error) == (jobs.JobState.QUEUED, 2, "")
    assert [e.summary["attempts"] for e in _events("report_job.retry")] == [2]
    assert jobs.run_next() == jobs.JobState.DONE
    got = client.get(f"/reports/{job.id}/download")
    assert got.status_code == 200 and got.mimetype == "application/pdf"
    assert got.data.startswith(b"%PDF-1.4") and "attachment" in got.headers["Content-Disposition"]
    assert got.headers["Cache-Control"] == "private, no-store"
    # Only one row ever: the retry reused it.
    assert session.scalar(select(func.count()).select_from(jobs.ReportJob)) == 1


def test_retry_is_refused_for_a_job_that_did_not_fail(renderer, make_user, session, client, login):
    user = login(make_user("provider"))
    job, _ = jobs.request_job(KIND, {"n": 3}, user=user)
    session.commit()
    resp = client.post(f"/reports/{job.id}/retry")
    assert resp.status_code == 409
    assert session.get(jobs.ReportJob, job.id, populate_existing=True).attempts == 1


def test_a_job_whose_worker_died_shows_as_stalled_and_can_be_retried(renderer, make_user, session, client, login):
    user = login(make_user("provider"))
    job, _ = jobs.request_job(KIND, {"n": 4}, user=user)
    job.state, job.started_at = jobs.JobState.RUNNING, utcnow() - dt.timedelta(hours=2)
    job.heartbeat_at = job.started_at
    session.commit()
    assert job.stalled and job.retryable
    status = client.get("/reports/status.json").get_json()["jobs"][0]
    assert status["stalled"] is True and status["retryable"] is True and status["state_label"] == "已停滞"
    # A new request for the same report does not wait on the dead one.
    again, created = jobs.request_job(KIND, {"n": 4}, user=user)
    assert created and again.id != job.id
    assert client.post(f"/reports/{job.id}/retry").status_code == 302
    assert session.get(jobs.ReportJob, job.id, populate_existing=True).state == jobs.JobState.QUEUED


def test_a_recent_running_job_is_not_stalled(renderer, make_user, session):
    job, _ = jobs.request_job(KIND, {"n": 5}, user=make_user("provider"))
    job.state = jobs.JobState.RUNNING
    job.started_at = job.heartbeat_at = utcnow() - dt.timedelta(minutes=1)
    assert not job.stalled and not job.retryable


def test_duplicate_requests_reuse_the_waiting_job(renderer, make_user, session):
    user, other = make_user("provider"), make_user("provider")
    first, created = jobs.request_job(KIND, {"n": 6}, user=user)
    second, created_again = jobs.request_job(KIND, {"n": 6}, user=user)
    assert created and not created_again and second.id == first.id
    # Another user, or other parameters, get their own.
    assert jobs.request_job(KIND, {"n": 6}, user=other)[0].id != first.id
    assert jobs.request_job(KIND, {"n": 7}, user=user)[0].id != first.id
    # Once done, asking again produces a fresh document.
    jobs.run_job(first.id)
    assert jobs.request_job(KIND, {"n": 6}, user=user)[1] is True


def test_status_json_and_the_page_show_only_the_users_own_jobs(renderer, make_user, session, client, login):
    owner, stranger = make_user("provider"), make_user("provider")
    job, _ = jobs.request_job(KIND, {"n": 8}, user=owner, title="别人的文档")
    jobs.run_job(job.id)
    login(stranger)
    assert client.get("/reports/status.json").get_json() == {"jobs": []}
    assert client.get(f"/reports/status.json?ids={job.id}").get_json() == {"jobs": []}
    assert client.get(f"/reports/{job.id}/download").status_code == 404
    assert client.post(f"/reports/{job.id}/retry").status_code == 404
    assert "别人的文档" not in html_text(client.get("/reports/"))
    bad = client.get("/reports/status.json?ids=1,x")
    assert bad.status_code == 400 and "ids" in bad.get_json()["error"]["fields"]

    with client.session_transaction() as s:
        s.clear()
    login(owner)
    body = client.get(f"/reports/status.json?ids={job.id}").get_json()
    assert body["jobs"][0]["state"] == "done" and body["jobs"][0]["download_url"] == f"/reports/{job.id}/download"
    page = client.get("/reports/")
    html = page.get_data(as_text=True)
    assert "别人的文档" in html and 'src="/static/js/reports.js?v=' in html
    assert 'data-status-url="/reports/status.json"' in html and "<progress" in html
    assert "http-equiv" not in html and "<script>" not in html


def test_officers_read_district_documents_but_not_others(app, renderer, make_user, session, client, login):
    provider, officer = make_user("provider"), make_user("officer")
    private, _ = jobs.request_job(KIND, {"n": 9}, user=provider)
    jobs.run_job(private.id)
    jobs.register_job(app, "test_district", renderer, label="区级文档", officers_read=True)
    try:
        district_doc, _ = jobs.request_job("test_district", {"n": 10}, user=make_user("officer"))
        jobs.run_job(district_doc.id)
        login(officer)
        assert client.get(f"/reports/{private.id}/download").status_code == 404
        assert client.get(f"/reports/{district_doc.id}/download").status_code == 200
    finally:
        jobs.kinds(app).pop("test_district", None)


def test_the_static_script_polls_the_status_endpoint(app):
    script = (app.static_folder + "/js/reports.js")
    with open(script, encoding="utf-8") as f:
        source = f.read()
    assert "data-status-url" in source and "?ids=" in source and "setTimeout" in source


def test_run_queued_renders_what_is_waiting(renderer, make_user, session, app):
    user = make_user("provider")
    ids = [jobs.request_job(KIND, {"n": n}, user=user)[0].id for n in (14, 15)]
    session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "run-queued"])
    assert result.exit_code == 0 and "2 job(s) run" in result.output
    states = session.scalars(select(jobs.ReportJob.state).where(jobs.ReportJob.id.in_(ids))).all()
    assert states == [jobs.JobState.DONE, jobs.JobState.DONE]
