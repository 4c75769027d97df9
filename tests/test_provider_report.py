"""The provider report: requested by the provider from its performance page or by an officer from
the download page, produced by the job queue, read back from the PDF; bad periods refused; no one
else's report reachable; the monthly briefing's job kind and form with a stand-in renderer."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from sqlalchemy import func, select

from core.db import utcnow
from core.i18n import to_local
from core.jobs import operations as jobs
from evaluation.feedback import operations as ratings
from evaluation.feedback.models import Rating
from evaluation.reporting import provider_report
from evaluation.reporting import views as report_views
from marketplace.providers.models import ProviderStatus
from tests.support.pages import html_text

PDFTOTEXT = "/usr/bin/pdftotext"


@pytest.fixture
def manual(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "manual")


@pytest.fixture
def history(delivery, session, make_user):
    """A provider with sessions over two months, ratings by named residents and an upheld complaint."""
    officer = delivery.officer()
    p = delivery.provider()
    contract = delivery.contract(p, officer=officer, sessions=6)
    now = utcnow().replace(microsecond=0)
    s1 = delivery.delivered(contract, now - dt.timedelta(days=40), officer, score=80, attendance=30)
    s2 = delivery.delivered(contract, now - dt.timedelta(days=10), officer, score=90, attendance=45)
    residents = [make_user("resident", name=f"居民甲乙丙{i}") for i in range(3)]
    for i, r in enumerate(residents):
        s = s1 if i < 2 else s2
        ratings.rate(s, r, {"content": 5, "organisation": 4, "venue": 3}, comment=f"私密评语{i}",
                     now=s.scheduled_at + dt.timedelta(hours=4), attendance_code=s.attendance_code)
    complaint = ratings.complain(s2, residents[0], "音响太吵", now=s2.scheduled_at + dt.timedelta(hours=5))
    ratings.decide_complaint(complaint, True, "属实", officer, now=s2.scheduled_at + dt.timedelta(days=1))
    session.commit()
    return {"provider": p, "officer": officer, "residents": residents, "sessions": (s1, s2)}


def _period():
    today = to_local(utcnow()).date()
    return (today - dt.timedelta(days=90)).isoformat(), today.isoformat()


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    out = subprocess.run([PDFTOTEXT, "-layout", "-enc", "UTF-8", str(path), "-"],  # noqa: S603 (our own file)
                         capture_output=True, check=True, text=True)
    return out.stdout


def _job_count(session):
    return session.scalar(select(func.count()).select_from(jobs.ReportJob))


def test_the_provider_requests_its_report_and_reads_it_back(manual, history, client, login, session, tmp_path):
    p = history["provider"]
    login(p.user)
    page = client.get("/performance/me")
    assert page.status_code == 200
    assert 'action="/performance/me/report"' in page.get_data(as_text=True)
    start, end = _period()
    resp = client.post("/performance/me/report", data={"date_from": start, "date_to": end})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/reports/")
    job = session.scalars(select(jobs.ReportJob)).one()
    assert job.kind == "provider_report" and job.params == {"provider_id": p.id, "from": start, "to": end}
    listing = html_text(client.get("/reports/"))
    assert p.name in listing and "排队等候" in listing

    assert jobs.run_next() == jobs.JobState.DONE
    got = client.get(f"/reports/{job.id}/download")
    assert got.status_code == 200 and got.mimetype == "application/pdf"
    text = _pdf_text(got.data, tmp_path)
    flat = text.replace(" ", "")
    assert "服务主体绩效报告" in flat and p.name in flat and p.credit_code in flat
    assert f"{start}至{end}" in flat
    # The score and grade with each component, as the model computes them at the period's end.
    r = provider_report.gather(p.id, *provider_report.parse_period(start, end)).result
    assert str(r.score) in text and f"{r.grade}级" in flat
    for label in ("居民满意度", "验收", "按时报送", "成立投诉"):
        assert label in flat
    # Ratings by month with their count; complaints; sessions; the charts' titles.
    s1, s2 = history["sessions"]
    for s, count in ((s1, 2), (s2, 1)):
        month = to_local(s.scheduled_at).strftime("%Y-%m")
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(month) and "5.00" in ln)
        assert line.split()[1] == str(count), line
    assert "各月居民满意度" in flat and "各月已履约场次" in flat and "全期合计" in flat
    assert "四、投诉" in flat
    # No resident is named and no comment is quoted.
    for resident in history["residents"]:
        assert resident.name not in flat and resident.login not in text
    assert "私密评语" not in flat
    assert session.scalar(select(func.count()).select_from(Rating)) == 3


@pytest.mark.parametrize("start, end, field", [
    ("2026-06-30", "2026-01-01", "date_from"),   # from after to
    ("2026-13-01", "2026-12-31", "date_from"),   # no such month
    ("26-1-1", "2026-12-31", "date_from"),       # not YYYY-MM-DD
    ("2026-01-01", "", "date_to"),               # missing
    ("2020-01-01", "2026-01-01", "date_to"),     # longer than three years
])
def test_a_bad_period_is_refused_and_nothing_is_queued(manual, history, client, login, session, start, end, field):
    login(history["provider"].user)
    before = _job_count(session)
    resp = client.post("/performance/me/report", data={"date_from": start, "date_to": end})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert f'name="{field}"' in html and "is-invalid" in html
    assert _job_count(session) == before


def test_parse_period_names_the_field():
    from core.errors import Invalid

    assert provider_report.parse_period("2026-01-01", "2026-01-01") == (dt.date(2026, 1, 1), dt.date(2026, 1, 1))
    with pytest.raises(Invalid) as e:
        provider_report.parse_period("2026-02-30", "2026-03-01")
    assert e.value.field == "date_from"
    with pytest.raises(Invalid) as e:
        provider_report.parse_period("2026-03-02", "2026-03-01")
    assert e.value.field == "date_from"


def test_another_provider_can_neither_see_nor_download_it(manual, history, delivery, client, login, session):
    p = history["provider"]
    job, _ = provider_report.request(p, *provider_report.parse_period(*_period()), user=p.user)
    session.commit()
    jobs.run_job(job.id)
    other = delivery.provider()
    session.commit()
    login(other.user)
    assert client.get(f"/reports/{job.id}/download").status_code == 404
    assert client.get(f"/reports/status.json?ids={job.id}").get_json() == {"jobs": []}
    assert p.name not in html_text(client.get("/reports/"))
    # It cannot ask for another's report either: the provider's form only ever means its own.
    resp = client.post("/performance/me/report", data={"date_from": _period()[0], "date_to": _period()[1],
                                                       "provider_id": p.id})
    assert resp.status_code == 302
    mine = session.scalars(select(jobs.ReportJob).where(jobs.ReportJob.requested_by_id == other.user_id)).one()
    assert mine.params["provider_id"] == other.id
    # The officers' request form is closed to providers.
    assert client.post("/reports/provider", data={"provider": p.credit_code}).status_code == 403


def test_an_officer_requests_any_providers_report(manual, history, client, login, session):
    p, officer = history["provider"], history["officer"]
    login(officer)
    page = client.get("/reports/")
    assert 'data-testid="officer-provider-report"' in page.get_data(as_text=True)
    assert p.name not in html_text(page)  # the providers are typed in, not listed (thousands in a district)
    start, end = _period()
    bad = client.post("/reports/provider", data={"provider": p.credit_code, "date_from": end, "date_to": start})
    assert bad.status_code == 422 and "起始日期不能晚于截止日期" in html_text(bad) and _job_count(session) == 0
    unknown = client.post("/reports/provider", data={"provider": "没有这个机构", "date_from": start, "date_to": end})
    assert unknown.status_code == 422 and "没有服务商" in html_text(unknown) and _job_count(session) == 0
    # By credit code (any case) or by exact name.
    resp = client.post("/reports/provider", data={"provider": p.credit_code.lower(), "date_from": start,
                                                  "date_to": end})
    assert resp.status_code == 302
    again = client.post("/reports/provider", data={"provider": p.name, "date_from": start, "date_to": end})
    assert again.status_code == 302 and _job_count(session) == 1  # the duplicate reused the waiting job
    job = session.scalars(select(jobs.ReportJob)).one()
    assert job.requested_by_id == officer.id and jobs.run_next() == jobs.JobState.DONE
    assert client.get(f"/reports/{job.id}/download").status_code == 200
    # The provider did not ask for it: it is not on its list (officers' copies stay theirs).
    client.get("/reports/")
    with client.session_transaction() as s:
        s.clear()
    login(p.user)
    assert client.get(f"/reports/{job.id}/download").status_code == 404


# --- the monthly briefing's kind, with a stand-in for the real briefing_pdf (rendered in test_briefing) ---

@pytest.fixture
def briefing(app):
    calls = []

    def briefing_pdf(month, progress=None):
        calls.append(month)
        progress(0.5, "汇总场次")
        return b"%PDF-1.4 briefing " + month.encode() + b"\n%%EOF"

    real = jobs.kinds(app)[report_views.BRIEFING]
    report_views.register_briefing(app, briefing_pdf)
    yield calls
    jobs.kinds(app)[report_views.BRIEFING] = real


def test_officers_request_a_monthly_briefing(manual, briefing, make_user, client, login, session):
    officer, other_officer = make_user("officer"), make_user("officer")
    session.commit()
    login(officer)
    page = client.get("/reports/")
    assert 'data-testid="briefing-request"' in page.get_data(as_text=True)
    assert client.post("/reports/briefing", data={"month": "2026-13"}).status_code == 422
    future = (to_local(utcnow()).date() + dt.timedelta(days=40)).strftime("%Y-%m")
    refused = client.post("/reports/briefing", data={"month": future})
    assert refused.status_code == 422 and _job_count(session) == 0
    month = report_views.last_month()
    assert client.post("/reports/briefing", data={"month": month}).status_code == 302
    job = session.scalars(select(jobs.ReportJob)).one()
    assert job.kind == "briefing" and job.params == {"month": month}
    assert jobs.run_next() == jobs.JobState.DONE and briefing == [month]
    got = client.get(f"/reports/{job.id}/download")
    assert got.status_code == 200 and got.data.endswith(b"%%EOF")
    # A district document: any officer may read it.
    with client.session_transaction() as s:
        s.clear()
    login(other_officer)
    assert client.get(f"/reports/{job.id}/download").status_code == 200


def test_a_name_two_providers_share_asks_for_the_credit_code(manual, delivery, client, login, session):
    first, second, pending = delivery.provider(), delivery.provider(), delivery.provider(status=ProviderStatus.PENDING)
    first.name = second.name = "同名艺术团"
    pending.name = "待审艺术团"
    session.flush()
    login(delivery.officer())
    start, end = _period()
    shared = client.post("/reports/provider", data={"provider": "同名艺术团", "date_from": start, "date_to": end})
    assert shared.status_code == 422 and "请填写统一社会信用代码" in html_text(shared) and _job_count(session) == 0
    # A provider still under review has no report to give.
    pending = client.post("/reports/provider", data={"provider": "待审艺术团", "date_from": start, "date_to": end})
    assert pending.status_code == 422 and _job_count(session) == 0
    chosen = client.post("/reports/provider", data={"provider": second.credit_code, "date_from": start,
                                                    "date_to": end})
    assert chosen.status_code == 302
    job = session.scalars(select(jobs.ReportJob)).one()
    assert job.params["provider_id"] == second.id != first.id
