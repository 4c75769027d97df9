"""A resident scans the poster's QR code (opens the rating link), logs in, gives stars on the three
dimensions with a comment, and sees the rating recorded and counted. Headless Chromium, phone-sized."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.accounts.models import User
from core.db import db, utcnow
from evaluation.feedback.models import Rating, RatingStatus
from marketplace.sessions.models import ServiceSession, SessionState

pytestmark = pytest.mark.browser

RESIDENT = "13800138000"  # the core demo resident


def _session_to_rate(app) -> int:
    """A demo session held within the rating window that the demo resident has not rated."""
    with app.app_context():
        resident = db.session.scalar(select(User).where(User.login == RESIDENT))
        rated = select(Rating.session_id).where(Rating.resident_id == resident.id)
        now = utcnow()
        s = db.session.scalar(select(ServiceSession).where(
            ServiceSession.state.in_([SessionState.REPORTED, SessionState.CONFIRMED]),
            ServiceSession.scheduled_at <= now, ServiceSession.scheduled_at >= now - dt.timedelta(days=6),
            ServiceSession.id.not_in(rated)).order_by(ServiceSession.scheduled_at.desc()).limit(1))
        assert s is not None, "the demo data has a session held yesterday"
        return s.id


def test_resident_goes_from_the_qr_link_to_a_rating(live_server, page, app):
    session_id = _session_to_rate(app)
    link = f"{live_server}/rate/{session_id}"
    qr = page.request.get(f"{live_server}/rate/{session_id}/qr.svg")
    assert qr.ok and "<svg" in qr.text()

    page.goto(link)  # what the phone's camera opens
    assert page.locator("h1").inner_text() in ("为本场活动评价", "Rate this session")
    with page.expect_navigation():
        page.click("[data-testid=login-to-rate]")
    page.fill("input[name=login]", RESIDENT)
    from seeds.district import DEMO_PASSWORD

    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url.rstrip("/").endswith(f"/rate/{session_id}")

    with app.app_context():
        code = db.session.get(ServiceSession, session_id).attendance_code
    page.fill("input[name=attendance_code]", code)  # shown at the event
    page.click("[data-testid=star-content-5]")
    page.click("[data-testid=star-organisation-4]")
    page.click("[data-testid=star-venue-4]")
    page.fill("textarea[name=comment]", "孩子们很喜欢，希望多办。")
    with page.expect_navigation():
        page.click("[data-testid=send-rating]")
    assert page.locator("[data-testid=my-rating]").is_visible()
    assert "孩子们很喜欢" in page.locator("[data-testid=public-ratings]").inner_text()

    with app.app_context():
        resident = db.session.scalar(select(User).where(User.login == RESIDENT))
        r = db.session.scalar(select(Rating).where(Rating.session_id == session_id, Rating.resident_id == resident.id))
        assert (r.content, r.organisation, r.venue) == (5, 4, 4)
        assert r.status == RatingStatus.COUNTED
