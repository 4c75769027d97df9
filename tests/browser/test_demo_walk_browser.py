"""The second half of the loop, walked in a browser on a fresh `flask seed demo` as the seed's printed
table says (seeds.walkthrough.steps): the officer writes the contract of the award whose challenge
window is over; both sides sign the contract awaiting signatures; the provider reports the session
held two hours ago; the officer accepts the reported session with a score; a resident signs in with
a phone number and the SMS code and rates the session open for rating; the provider's score moves."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app import create_app
from core import sms
from core.accounts.models import User
from core.db import db
from core.i18n import LOCAL_TZ
from evaluation.performance import operations as performance
from marketplace.contracts.models import Contract, ContractState
from marketplace.sessions.models import ServiceSession, SessionState
from seeds import walkthrough
from tests.support.browser import browser_login

pytestmark = pytest.mark.browser

PHONE = "13766669876"  # no account yet
TIMEOUT = 30_000  # a loaded 2-core machine


@pytest.fixture(scope="module")
def live_app(app):
    """The live server's app, in test mode so that the console SMS backend keeps the codes."""
    return create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "PASSWORD_HASH_COST",
                                                     "UPLOAD_DIR")},
                       "TESTING": True, "SECRET_KEY": "live-secret", "WTF_CSRF_ENABLED": True,
                       "RATELIMIT_ENABLED": False, "SMS_BACKEND": "console"})


@pytest.fixture(scope="module")
def walk(live_app, live_server):
    """What the seed's table shows, step by step: key → (login, url, object id, extra)."""
    with live_app.app_context():
        out = {}
        for s in walkthrough.steps():
            extra = {}
            if s.key == "contract":
                extra = {"project_id": s.obj.project_id}
            if s.key in ("report", "accept", "rate"):
                extra = {"provider_id": s.obj.provider_id, "code": s.obj.attendance_code,
                         "scheduled_at": s.obj.scheduled_at}
            out[s.key] = {"login": s.login, "url": s.url, "id": getattr(s.obj, "id", None), **extra}
        db.session.remove()
    for key in ("contract", "sign_buyer", "sign_provider", "report", "accept", "rate"):
        assert key in out, f"the demo left the step {key!r} ready"
    return out


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT)
    pg.set_default_navigation_timeout(TIMEOUT)
    pg.on("dialog", lambda d: d.accept())  # the data-confirm prompts
    yield pg
    context.close()


def _as(page, live_server, login):
    page.context.clear_cookies()
    browser_login(page, live_server, login)
    assert "/login" not in page.url, f"{login} signed in"


def _submit(page, selector):
    with page.expect_navigation():
        page.click(selector)


def _local(when: dt.datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def _snapshot(live_app, provider_id):
    with live_app.app_context():
        snap = performance.latest_snapshot(provider_id)
        out = (snap.rating_count, snap.satisfaction) if snap else (0, None)
        db.session.remove()
        return out


def test_the_demo_second_half_walks_from_contract_to_rating(live_server, live_app, walk, page):
    # 1. The officer writes the contract of the award whose challenge window is over.
    step = walk["contract"]
    _as(page, live_server, step["login"])
    page.goto(live_server + step["url"])
    assert not page.locator("[data-testid=contract-refusal]").count()
    _submit(page, "main form button[type=submit], main form input[type=submit]")
    assert "/contracts/" in page.url and "/new" not in page.url
    assert page.locator("[data-testid=contract-state]").is_visible()
    assert page.locator("[data-testid=sign-contract]").is_visible()  # the buyer may sign it now
    with live_app.app_context():
        made = db.session.scalar(select(Contract).where(Contract.project_id == step["project_id"]))
        assert made is not None and made.state == ContractState.PENDING
        db.session.remove()

    # 2. The contract awaiting signatures: the buyer signs, then the provider.
    step = walk["sign_buyer"]
    page.goto(live_server + step["url"])
    state_before = page.locator("[data-testid=contract-state]").inner_text()
    _submit(page, "[data-testid=sign-contract]")
    with live_app.app_context():
        officer_name = db.session.scalar(select(User.name).where(User.login == step["login"]))
        provider_name = db.session.scalar(select(User.name).where(User.login == walk["sign_provider"]["login"]))
        db.session.remove()
    assert officer_name in page.locator("[data-testid=buyer-signature]").inner_text()
    assert not page.locator("[data-testid=sign-contract]").count()

    step = walk["sign_provider"]
    _as(page, live_server, step["login"])
    page.goto(live_server + step["url"])
    _submit(page, "[data-testid=sign-contract]")
    assert provider_name in page.locator("[data-testid=provider-signature]").inner_text()
    assert page.locator("[data-testid=contract-state]").inner_text() != state_before
    with live_app.app_context():
        assert db.session.get(Contract, step["id"]).state == ContractState.ACTIVE
        db.session.remove()

    # 3. The provider reports the session held two hours ago.
    step = walk["report"]
    _as(page, live_server, step["login"])
    page.goto(live_server + step["url"])
    state_before = page.locator("[data-testid=session-state]").inner_text()
    form = page.locator("[data-testid=report-form]")
    form.locator("input[name=actual_start]").fill(_local(step["scheduled_at"]))
    form.locator("input[name=actual_end]").fill(_local(step["scheduled_at"] + dt.timedelta(hours=1)))
    form.locator("input[name=attendance]").fill("42")
    _submit(page, "[data-testid=report-form] button")
    assert page.locator("[data-testid=attendance]").inner_text().strip() == "42"
    assert page.locator("[data-testid=session-state]").inner_text() != state_before
    assert not page.locator("[data-testid=report-form]").count()
    with live_app.app_context():
        assert db.session.get(ServiceSession, step["id"]).state == SessionState.REPORTED
        db.session.remove()

    # 4. The officer accepts the reported session with a score.
    step = walk["accept"]
    _as(page, live_server, step["login"])
    page.goto(live_server + step["url"])
    page.locator("[data-testid=confirm-form] input[name=acceptance_score]").fill("87")
    _submit(page, "[data-testid=confirm-form] button")
    assert "87/100" in page.locator("[data-testid=acceptance]").inner_text()
    assert not page.locator("[data-testid=confirm-form]").count()
    with live_app.app_context():
        assert db.session.get(ServiceSession, step["id"]).state == SessionState.CONFIRMED
        db.session.remove()

    # 5. A resident signs in with a phone number and the SMS code and rates the session open for rating.
    step = walk["rate"]
    count_before, satisfaction_before = _snapshot(live_app, step["provider_id"])
    page.context.clear_cookies()
    page.goto(live_server + step["url"])
    page.fill("input[name=phone]", PHONE)
    _submit(page, "[data-testid=send-code]")
    assert page.locator("[data-testid=code-sent]").is_visible()
    sent = [m for m in sms.outbox(live_app) if m.phone == PHONE]
    assert sent, "the console backend received the code"
    page.fill("input[name=code]", sent[-1].code)
    _submit(page, "[data-testid=verify-code]")
    assert page.url.rstrip("/").endswith(step["url"])
    page.fill("input[name=attendance_code]", step["code"])
    page.click("[data-testid=star-content-1]")
    page.click("[data-testid=star-organisation-1]")
    page.click("[data-testid=star-venue-1]")
    _submit(page, "[data-testid=send-rating]")
    assert page.locator("[data-testid=my-rating]").is_visible()

    # 6. The provider's score changes.
    count_after, satisfaction_after = _snapshot(live_app, step["provider_id"])
    assert count_after == count_before + 1
    if satisfaction_before is not None:
        assert satisfaction_after < satisfaction_before
