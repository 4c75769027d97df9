"""The district's figures against a small district worked out by hand (tests/support/figures.py),
and the officer and admin dashboards built on them."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

import pytest
import time_machine
from bs4 import BeautifulSoup

from core import cache, settings
from core.db import db, utcnow
from evaluation.reporting import figures
from marketplace.projects.models import ProjectState
from marketplace.sessions.models import SessionState
from tests.support.figures import local
from tests.support.statements import request_statements

MARCH = figures.month_period(2025, 3)
NOW = local(2025, 5, 1, 12)  # the clock of the figures: after March, so its 90 days end on 1 April


def test_a_month_runs_on_shanghai_calendar_days():
    assert MARCH.start == dt.datetime(2025, 2, 28, 16, tzinfo=dt.UTC)
    assert MARCH.end == dt.datetime(2025, 3, 31, 16, tzinfo=dt.UTC)
    assert [p.label for p in figures.trend_periods(2025, 3, 4)] == ["2024-12", "2025-01", "2025-02", "2025-03"]


def test_the_district_in_march(figures_world):
    f = figures.compute(MARCH, None, now=NOW)
    # p1, p2, p3 published in March (p4 in February); p1 and p2 awarded (p3's award is void).
    assert (f.projects_published, f.projects_awarded) == (3, 2)
    assert (f.awarded_amount, f.awarded_budget) == (Decimal("2700.00"), Decimal("3000.00"))
    assert f.savings == Decimal("300.00") and f.savings_rate == pytest.approx(10.0)
    # Since 1 January: p4's February award too.
    assert (f.year_awarded_amount, f.year_awarded_budget) == (Decimal("3150.00"), Decimal("3500.00"))
    # Sessions s1, s2, s3, s4, s7 planned in March (s7 at 01:00 on 1 March, Shanghai time).
    assert (f.sessions_planned, f.sessions_delivered, f.sessions_accepted, f.sessions_disputed, f.sessions_missed,
            f.sessions_awaiting) == (5, 4, 2, 1, 1, 1)
    assert f.attendance == 40 + 30 + 10 + 5 and f.planned_audience == 5 * 50
    assert f.delivery_rate == pytest.approx(80.0)
    # Two counted ratings in March (5 and 3 stars); the flagged one does not count.
    assert (f.ratings, f.satisfaction) == (2, Decimal("4.00"))
    trend = {p.label: (p.satisfaction, p.ratings) for p in f.trend}
    assert len(f.trend) == 12 and f.trend[0].label == "2024-04" and f.trend[-1].label == "2025-03"
    assert trend["2025-01"] == (Decimal("4.33"), 1) and trend["2025-02"] == (None, 0)
    # Requests made in March: in c1 and c3; fulfilled in March: c3's and February's c1 request.
    assert (f.demand_requests, f.demand_supports, f.demand_fulfilled, f.demand_open) == (2, 3, 2, 1)
    assert f.fulfilment_rate == pytest.approx(100.0)


def test_coverage_per_town_and_the_gaps(figures_world):
    cov = figures.coverage(None, MARCH, NOW)
    assert (cov.communities, cov.reached, cov.reached_recent, cov.gaps) == (4, 2, 3, 1)
    towns = {t.name: t for t in cov.towns}
    a, b = towns[figures_world.town_a.name], towns["乙镇"]
    # Town A: c1 (s1) and c2 (s4: disputed, but delivered) reached in March.
    assert (a.communities, a.reached, a.reached_recent, a.gaps) == (2, 2, 2, [])
    # Town B: c3's March session was missed, its January one is within 90 days; c4 had none.
    assert (b.communities, b.reached, b.reached_recent, b.gaps) == (2, 0, 1, ["四号村"])
    assert b.share == pytest.approx(50.0)
    # A month later c3's January session is more than 90 days old: c3 becomes a gap too.
    april = figures.coverage(None, figures.month_period(2025, 4), NOW)
    assert {t.name: t.gaps for t in april.towns}["乙镇"] == ["三号村", "四号村"]


def test_a_town_sees_its_own_figures(figures_world):
    f = figures.compute(MARCH, figures_world.town_a, now=NOW)
    # p1 lies in c1, a community of town A: it counts for the town.
    assert (f.projects_published, f.projects_awarded, f.awarded_amount) == (1, 1, Decimal("900.00"))
    assert (f.sessions_planned, f.sessions_delivered, f.sessions_missed, f.attendance) == (4, 4, 0, 85)
    assert (f.ratings, f.satisfaction) == (2, Decimal("4.00"))
    assert (f.demand_requests, f.demand_supports, f.demand_fulfilled, f.demand_open) == (1, 2, 1, 1)
    assert [t.name for t in f.coverage.towns] == [figures_world.town_a.name] and f.coverage.communities == 2
    assert [a.project_title for a in f.awards] == ["甲镇社区戏曲进基层"] and f.awards_total == 1

    b = figures.compute(MARCH, figures_world.town_b, now=NOW)
    assert (b.sessions_delivered, b.sessions_missed, b.ratings, b.satisfaction) == (0, 1, 0, None)
    assert {p.label: p.satisfaction for p in b.trend}["2025-01"] == Decimal("4.33")
    assert dict(b.projects_by_state) == {ProjectState.AWARDED: 1, ProjectState.UNDER_REVIEW: 1}


def test_the_month_lists_awards_in_order_and_its_adjustments(figures_world):
    f = figures.compute(MARCH, None, now=NOW)
    assert [(a.project_title, a.provider_name, a.amount, a.budget) for a in f.awards] == [
        ("甲镇社区戏曲进基层", figures_world.provider.name, Decimal("900.00"), Decimal("1000.00")),
        ("乙镇广场舞培训", figures_world.provider.name, Decimal("1800.00"), Decimal("2000.00"))]
    assert f.awards_total == 2
    assert [d.rule for d in f.decisions] == ["provider_grade_c_twice"]  # January's is another month's
    rows, total = figures.month_awards(None, MARCH, limit=1)
    assert len(rows) == 1 and total == 2


def test_what_waits_for_each_officer(figures_world):
    district = figures.pending(None)
    assert (district.reviews, district.awaiting_acceptance, district.open_challenges, district.proposed_decisions,
            district.flagged_ratings) == (1, 1, 1, 2, 1)
    a = figures.pending(figures_world.town_a)
    assert (a.reviews, a.awaiting_acceptance, a.open_challenges, a.flagged_ratings) == (0, 1, 0, 1)
    b = figures.pending(figures_world.town_b)
    assert (b.reviews, b.awaiting_acceptance, b.open_challenges, b.flagged_ratings) == (1, 0, 1, 0)
    # Adjustments are confirmed by the district's officers: a town's list has none to do.
    assert a.proposed_decisions == b.proposed_decisions == 0


# --- the dashboards ---------------------------------------------------------------------------


def _statements(client, url) -> tuple[object, int]:
    # What the test itself loaded must not spare the page its own queries.
    db.session.expire_all()
    resp, sql = request_statements(client, url)
    return resp, len(sql)


def _more_data(world, n: int):
    """n more delivered sessions this month, each rated, at c1 and c2."""
    from evaluation.feedback.models import Rating, RatingStatus
    from marketplace.sessions.models import ServiceSession

    session = world.delivery.session
    line = world.contract.lines[0]
    now = utcnow()
    for i in range(n):
        when = now - dt.timedelta(hours=i + 1)
        s = ServiceSession(contract_id=world.contract.id, line_id=line.id, provider_id=world.provider.id,
                           item_id=line.item_id, venue_id=line.venue_id, scheduled_at=when, planned_audience=30,
                           state=SessionState.REPORTED, scheduled_by_id=world.officer.id, reported_at=when,
                           attendance=20, reported_late=False)
        session.add(s)
        session.flush()
        resident = world.delivery.make_user("resident")
        session.add(Rating(session_id=s.id, provider_id=s.provider_id, item_id=s.item_id, resident_id=resident.id,
                           content=4, organisation=4, venue=4, created_at=when, updated_at=when,
                           status=RatingStatus.COUNTED))
    # Committed, as another request's writes would be: the measured request then has nothing of the
    # test's to commit (a commit that changed a watched table also raises its data version).
    session.commit()


def test_the_officer_dashboard_runs_a_fixed_number_of_statements(client, login, figures_world):
    login(figures_world.officer)
    client.get("/dashboard")  # the first request of a session loads what later ones reuse
    cache.clear()  # the figures computed, not reused
    _resp, few = _statements(client, "/dashboard")
    _more_data(figures_world, 12)
    cache.clear()
    resp, many = _statements(client, "/dashboard")
    assert many == few
    text = resp.get_data(as_text=True)
    # Chart and table side by side, the pending work linked to its lists.
    for testid in ("chart-states", "states", "chart-trend", "trend", "chart-coverage", "coverage", "pending"):
        assert f'data-testid="{testid}"' in text
    assert 'href="/delivery/?state=reported"' in text and 'href="/performance/decisions?status=proposed"' in text
    assert "四号村" in text  # a gap community
    assert 'role="img"' in text


def _badge(resp, testid) -> str:
    return BeautifulSoup(resp.data, "html.parser").select_one(f"[data-testid={testid}]").get_text(" ", strip=True)


def test_the_officer_dashboard_reuses_its_figures_and_keeps_pending_work_live(client, login, figures_world):
    login(figures_world.officer)
    client.get("/dashboard")  # the first request of a session loads what later ones reuse
    cache.clear()
    first, computed = _statements(client, "/dashboard")
    again, reused = _statements(client, "/dashboard")
    assert computed - reused == 6  # the statements of figures.compute, not run again
    assert _badge(again, "figures-as-of") == _badge(first, "figures-as-of")
    assert _badge(first, "figures-as-of").startswith("数据截至 ") and "每 5 分钟更新" in _badge(first, "figures-as-of")
    delivered, awaiting = _badge(first, "delivered"), int(_badge(first, "pending-sessions"))

    _more_data(figures_world, 2)  # two sessions reported: waiting for the officer at once, in the figures later
    resp = client.get("/dashboard")
    assert int(_badge(resp, "pending-sessions")) == awaiting + 2
    assert _badge(resp, "delivered") == delivered
    with time_machine.travel(utcnow() + dt.timedelta(seconds=301), tick=False):
        resp = client.get("/dashboard")
    done, planned = (int(v) for v in _badge(resp, "delivered").split(" / "))
    assert (done, planned) == tuple(int(v) + 2 for v in delivered.split(" / "))


def test_with_no_reuse_the_officer_dashboard_is_live(client, login, figures_world, session):
    settings.change("dashboards.cache_seconds", 0, None)
    login(figures_world.officer)
    delivered = _badge(client.get("/dashboard"), "delivered")
    _more_data(figures_world, 1)
    resp = client.get("/dashboard")
    assert _badge(resp, "delivered") != delivered
    assert 'data-testid="figures-as-of"' not in resp.get_data(as_text=True)


def test_a_town_officer_sees_their_jurisdiction_only(client, login, figures_world):
    login(figures_world.town_b_officer)
    text = client.get("/dashboard").get_data(as_text=True)
    assert "乙镇" in text and "四号村" in text
    assert figures_world.town_a.name not in text and "二号社区" not in text
    assert 'data-testid="pending-challenges">1<' in text and 'data-testid="pending-sessions">0<' in text
    assert 'data-testid="pending-decisions"' not in text


def test_reused_figures_are_each_jurisdictions_own(client, login, figures_world):
    login(figures_world.officer)
    assert "二号社区" in client.get("/dashboard").get_data(as_text=True)  # the district's, now kept
    client.post("/logout")
    login(figures_world.town_b_officer)
    text = client.get("/dashboard").get_data(as_text=True)
    assert "四号村" in text and "二号社区" not in text


def test_the_dashboard_comes_first_in_the_navigation(client, login, figures_world, make_user):
    login(figures_world.officer)
    home = client.get("/").get_data(as_text=True)
    assert home.index('href="/dashboard"') < home.index('href="/projects/"')
    client.post("/logout")
    login(make_user("admin"))
    home = client.get("/").get_data(as_text=True)
    assert 'href="/admin/dashboard"' in home and 'href="/dashboard"' not in home


def test_the_admin_dashboard(client, login, make_user):
    admin = make_user("admin")
    make_user("officer")
    make_user("resident")
    login(admin)
    client.get("/admin/dashboard")  # the first request of a session loads what later ones reuse
    resp, few = _statements(client, "/admin/dashboard")
    text = resp.get_data(as_text=True)
    for testid in ("chart-roles", "roles", "system", "recent-events", "db-size", "tokens", "events"):
        assert f'data-testid="{testid}"' in text
    assert "MB" in text
    for _ in range(5):
        make_user("resident")
    _resp, many = _statements(client, "/admin/dashboard")
    assert many == few
    assert client.get("/dashboard").status_code == 403


def test_the_admin_dashboard_shows_the_report_queue(client, login, make_user, session):
    from core.jobs import operations as jobs

    admin = make_user("admin")
    asker = make_user("officer")
    now = utcnow()
    stale = now - dt.timedelta(hours=2)

    def job(state, **kw):
        session.add(jobs.ReportJob(kind="provider_report", params={}, params_key=secrets.token_hex(32), title="t",
                                   requested_by_id=asker.id, state=state, **kw))

    job(jobs.JobState.QUEUED, created_at=now - dt.timedelta(minutes=5))
    job(jobs.JobState.QUEUED, created_at=now - dt.timedelta(minutes=1))
    job(jobs.JobState.RUNNING, started_at=now, heartbeat_at=now)
    job(jobs.JobState.RUNNING, started_at=stale, heartbeat_at=stale)  # past jobs.stall_minutes
    job(jobs.JobState.FAILED, finished_at=now - dt.timedelta(days=1), error="x")
    job(jobs.JobState.FAILED, finished_at=now - dt.timedelta(days=30), error="x")  # outside the week
    job(jobs.JobState.DONE, finished_at=now - dt.timedelta(hours=3))
    session.flush()
    login(admin)
    resp, few = _statements(client, "/admin/dashboard")
    page = BeautifulSoup(resp.get_data(as_text=True), "html.parser")
    queue = page.select_one("[data-testid=queue]").get_text(" ", strip=True)
    assert "2 个等待中" in queue and "1 个正在生成" in queue and "1 个停滞" in queue
    assert "等待自" in queue
    assert page.select_one("[data-testid=queue-week]").get_text(strip=True) == "已生成 1 份，失败 1 份"
    job(jobs.JobState.QUEUED)
    session.flush()
    _resp, many = _statements(client, "/admin/dashboard")
    assert many == few
