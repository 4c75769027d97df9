"""A resident with no account scans the session's QR code on a 360 px phone, signs in with a mobile
number and the SMS code (read from the console backend), gives stars with the attendance code
shown at the event, and the provider's score moves. Headless Chromium; nothing scrolls sideways."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app import create_app
from core import sms
from core.accounts.models import User
from core.db import db, utcnow
from evaluation.feedback.models import Rating, RatingStatus
from evaluation.performance import operations as performance
from marketplace.sessions.models import ServiceSession, SessionState

pytestmark = pytest.mark.browser

PHONE = "13766661234"  # no account yet


@pytest.fixture(scope="module")
def live_app(app):
    """The live server's app, in test mode so that the console SMS backend shows the codes."""
    return create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "PASSWORD_HASH_COST",
                                                     "UPLOAD_DIR")},
                       "TESTING": True, "SECRET_KEY": "live-secret", "WTF_CSRF_ENABLED": True,
                       "RATELIMIT_ENABLED": False, "SMS_BACKEND": "console"})


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740}, is_mobile=True,
                                  has_touch=True)
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


def _session_to_rate(app):
    with app.app_context():
        now = utcnow()
        s = db.session.scalar(select(ServiceSession).where(
            ServiceSession.state.in_([SessionState.REPORTED, SessionState.CONFIRMED]),
            ServiceSession.scheduled_at <= now, ServiceSession.scheduled_at >= now - dt.timedelta(days=6))
            .order_by(ServiceSession.scheduled_at.desc()).limit(1))
        assert s is not None, "the demo data has a session held in the last days"
        snap = performance.latest_snapshot(s.provider_id)
        return s.id, s.provider_id, s.attendance_code, (snap.rating_count, snap.satisfaction) if snap else (0, None)


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def _target_height(page, selector) -> float:
    return page.locator(selector).first.bounding_box()["height"]


def test_a_resident_without_an_account_rates_from_the_qr_link_on_a_phone(live_server, live_app, phone):
    session_id, provider_id, code, (count_before, satisfaction_before) = _session_to_rate(live_app)

    phone.goto(f"{live_server}/rate/{session_id}")  # what the camera opens
    _no_sideways_scroll(phone)
    assert _target_height(phone, "[data-testid=send-code]") >= 48
    phone.fill("input[name=phone]", PHONE)
    with phone.expect_navigation():
        phone.click("[data-testid=send-code]")
    assert phone.locator("[data-testid=code-sent]").is_visible()
    _no_sideways_scroll(phone)
    sent = [m for m in sms.outbox(live_app) if m.phone == PHONE]
    assert sent, "the console backend received the code"
    phone.fill("input[name=code]", sent[-1].code)
    with phone.expect_navigation():
        phone.click("[data-testid=verify-code]")
    assert phone.url.rstrip("/").endswith(f"/rate/{session_id}")

    _no_sideways_scroll(phone)
    legend = phone.locator("[data-testid=star-legend]").inner_text()
    assert "很不满意" in legend and "很满意" in legend
    assert _target_height(phone, "[data-testid=star-content-1]") >= 48
    assert _target_height(phone, "[data-testid=send-rating]") >= 48
    phone.fill("input[name=attendance_code]", code)
    phone.click("[data-testid=star-content-1]")
    phone.click("[data-testid=star-organisation-1]")
    phone.click("[data-testid=star-venue-2]")
    with phone.expect_navigation():
        phone.click("[data-testid=send-rating]")
    assert phone.locator("[data-testid=my-rating]").is_visible()

    with live_app.app_context():
        resident = db.session.scalar(select(User).where(User.login == PHONE))
        assert resident is not None and resident.has_role("resident")
        r = db.session.scalar(select(Rating).where(Rating.session_id == session_id, Rating.resident_id == resident.id))
        assert (r.content, r.organisation, r.venue) == (1, 1, 2) and r.status == RatingStatus.COUNTED
        snap = performance.latest_snapshot(provider_id)
        assert snap.rating_count == count_before + 1
        if satisfaction_before is not None:
            assert snap.satisfaction < satisfaction_before


def test_the_rating_page_works_without_javascript(live_server, live_app, browser):
    session_id, _p, _code, _before = _session_to_rate(live_app)
    context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/rate/{session_id}")
        page.fill("input[name=phone]", "13766665678")
        with page.expect_navigation():
            page.click("[data-testid=send-code]")
        code = [m for m in sms.outbox(live_app) if m.phone == "13766665678"][-1].code
        page.fill("input[name=code]", code)
        with page.expect_navigation():
            page.click("[data-testid=verify-code]")
        assert page.locator("[data-testid=rating-form]").is_visible()
        _no_sideways_scroll(page)
    finally:
        context.close()
