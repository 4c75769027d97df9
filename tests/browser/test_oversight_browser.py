"""The oversight walk on a 360 px phone: an assessor records an unannounced visit of a sampled session;
a supervisor raises an item on a venue; the town's officer answers it; the portal's tracker shows it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.areas.models import Area, Venue
from core.db import db, utcnow
from evaluation.assessment.models import AssessmentVisit, VisitStatus
from tests.support.browser import browser_login

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def planned_visit(app, live_server):
    """A planned visit of the demo plan, its session moved to an hour ago (the visit is recorded on site)."""
    with app.app_context():
        v = db.session.scalars(select(AssessmentVisit).where(AssessmentVisit.status == VisitStatus.PLANNED,
                                                             AssessmentVisit.assessor_id.isnot(None))
                               .order_by(AssessmentVisit.id)).first()
        v.session.scheduled_at = utcnow() - dt.timedelta(hours=1)
        town = db.session.scalar(select(Area).where(Area.name == "黄村镇"))
        venue = db.session.scalar(select(Venue).where(Venue.area_id == town.id).order_by(Venue.id).limit(1))
        db.session.commit()
        yield {"visit_id": v.id, "assessor": v.assessor.user.login, "venue_id": venue.id}


def _fits(page, width=360):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_assessor_visits_supervisor_raises_officer_answers_portal_shows(browser, live_server, planned_visit):
    context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        browser_login(page, live_server, planned_visit["assessor"])
        page.goto(live_server + "/assessment/mine")
        _fits(page)
        page.goto(f"{live_server}/assessment/visits/{planned_visit['visit_id']}")
        _fits(page)
        page.check("input[name=duration]")
        page.check("input[name=content]")
        page.fill("input[name=counted_attendance]", "35")
        page.fill("input[name=score]", "88")
        page.fill("textarea[name=findings]", "活动按标准开展")
        with page.expect_navigation():
            page.click("[data-testid=visit-form] button[type=submit]")
        assert page.locator("[data-testid=visit-record]").is_visible()
        _fits(page)
        page.context.clear_cookies()

        browser_login(page, live_server, "supervisor1@huimin.demo")
        page.goto(live_server + "/supervision/items/new")
        _fits(page)
        page.select_option("select[name=subject_type]", "venue")
        page.fill("input[name=subject_id]", str(planned_visit["venue_id"]))
        page.fill("input[name=title]", "文化站周末闭馆")
        page.fill("textarea[name=text]", "周末两次前往均未开门")
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        url = page.url
        page.context.clear_cookies()

        browser_login(page, live_server, "huangcun@huimin.demo")
        page.goto(url)
        page.fill("textarea[name=answer]", "已要求文化站周末正常开放")
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        assert "已要求文化站周末正常开放" in page.locator("[data-testid=answer]").inner_text()
        page.context.clear_cookies()

        page.goto(live_server + "/portal/supervision")
        _fits(page)
        tracker = page.locator("[data-testid=tracker]").inner_text()
        assert "文化站周末闭馆" in tracker and "已要求文化站周末正常开放" in tracker
    finally:
        context.close()
