"""An officer drafts and publishes a purchase project; a provider submits a sealed bid and gets a
receipt; an officer opens the bids of a project whose deadline has passed. Headless Chromium,
on a phone-sized screen."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from catalog.items.models import Item, ItemStatus
from core.accounts.models import User
from core.areas.models import Venue
from core.db import db, intends_to_write, utcnow
from marketplace.bids import operations as bid_ops
from marketplace.bids.models import Bid, BidStatus
from marketplace.projects.models import (
    Criterion,
    CriterionKind,
    ProjectLine,
    ProjectMethod,
    ProjectState,
    PurchaseProject,
)
from marketplace.providers.models import Provider, ProviderKind, ProviderStatus
from tests.support.browser import browser_login

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n% service plan for the browser walk\n%%EOF\n"


def _ensure_demo_provider(app) -> None:
    """provider@huimin.demo is a core demo user; give it an approved Provider row if it has none."""
    with app.app_context(), intends_to_write():
        user = db.session.scalar(select(User).where(User.login == "provider@huimin.demo"))
        if db.session.scalar(select(Provider).where(Provider.user_id == user.id)) is None:
            db.session.add(Provider(user_id=user.id, name="京南艺术团（浏览器测试）", credit_code="52110115MJBROWSE1X",
                                    kind=ProviderKind.SOCIAL_ORGANISATION, legal_representative="王",
                                    contact_name="王", contact_phone="13800138001", status=ProviderStatus.APPROVED))
        db.session.commit()


def _project_past_its_deadline(app) -> tuple[int, list[tuple[str, str]]]:
    """A published project whose deadline passed an hour ago, with three sealed bids, written
    through the models into the live server's database (time travel is not possible there)."""
    with app.app_context(), intends_to_write():
        officer = db.session.scalar(select(User).where(User.login == "officer@huimin.demo"))
        item = db.session.scalar(select(Item).where(Item.status == ItemStatus.ACTIVE).order_by(Item.id))
        venue = db.session.scalar(select(Venue).order_by(Venue.id))
        now = utcnow()
        deadline = now - dt.timedelta(hours=1)
        project = PurchaseProject(
            title="浏览器开标测试项目", area=officer.jurisdiction, method=ProjectMethod.COMPETITIVE_CONSULTATION,
            budget=item.price_ceiling * 3, created_by=officer, state=ProjectState.PUBLISHED,
            published_at=now - dt.timedelta(days=15), bid_deadline=deadline,
            lines=[ProjectLine(item=item, venue=venue, quantity=3, unit_ceiling=item.price_ceiling)],
            criteria=[Criterion(kind=CriterionKind.PRICE, name="价格", weight=Decimal(20)),
                      Criterion(kind=CriterionKind.SUBJECTIVE, name="方案", weight=Decimal(60),
                                min_score=Decimal(0), max_score=Decimal(60), rubric="方案完整"),
                      Criterion(kind=CriterionKind.PERFORMANCE, name="履约", weight=Decimal(20))])
        db.session.add(project)
        db.session.flush()
        providers = db.session.scalars(select(Provider).where(Provider.status == ProviderStatus.APPROVED)
                                       .order_by(Provider.id).limit(3)).all()
        expected = []
        for i, provider in enumerate(providers):
            price = (project.budget * Decimal("0.9") - i).quantize(Decimal("0.01"))
            at = deadline - dt.timedelta(days=2, hours=i)
            bid = Bid(project_id=project.id, provider_id=provider.id, status=BidStatus.SUBMITTED, revision_no=1,
                      first_submitted_at=at, submitted_at=at)
            db.session.add(bid)
            db.session.flush()
            bid_ops._write_revision(bid, project, bid_ops.BidInput(price=price, plan="方案"), provider.user, at, 1)
            expected.append((provider.name, f"{price:,.2f}"))
        db.session.commit()
        return project.id, expected


def _accept_dialogs(page):
    page.on("dialog", lambda d: d.accept())


def test_officer_publishes_provider_bids_officer_opens(page, live_server, app):
    _ensure_demo_provider(app)
    _accept_dialogs(page)

    # The officer drafts a project from catalog items for a venue, and publishes it.
    browser_login(page, live_server, "officer@huimin.demo")
    page.goto(live_server + "/projects/new")
    page.fill("input[name=title]", "浏览器测试：社区合唱辅导")
    page.select_option("select[name='lines-0-item_id']", index=1)
    page.fill("input[name='lines-0-quantity']", "5")
    page.fill("input[name=budget]", "1000.00")
    for venue_index in range(1, 8):  # the first venue whose level the item may be bought at
        page.select_option("select[name='lines-0-venue_id']", index=venue_index)
        with page.expect_navigation():
            page.click("[data-testid=save-project]")
        if "/projects/new" not in page.url:
            break
    assert re.search(r"/projects/\d+$", page.url), page.inner_text("main")
    project_url = page.url
    assert page.get_attribute("[data-testid=project-state]", "data-state") == "draft"
    with page.expect_navigation():
        page.click("[data-testid=publish]")
    assert page.get_attribute("[data-testid=project-state]", "data-state") == "published"
    assert "价格" in page.inner_text("[data-testid=criteria]")

    # A provider submits a bid with an attachment and keeps the receipt.
    page.context.clear_cookies()
    browser_login(page, live_server, "provider@huimin.demo")
    page.goto(project_url)
    with page.expect_navigation():
        page.click("[data-testid=bid-link]")
    page.fill("input[name=price]", "950.00")
    page.fill("textarea[name=plan]", "每周一次合唱辅导，由专业声乐老师带领。")
    page.set_input_files("input[name=files]", files=[{"name": "方案.pdf", "mimeType": "application/pdf",
                                                      "buffer": PDF}])
    with page.expect_navigation():
        page.click("[data-testid=submit-bid]")
    receipt = page.inner_text("[data-testid=receipt-hash]").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", receipt)
    assert "950.00" in page.inner_text("[data-testid=own-price]")

    # The officer sees that one bid exists, and nothing of it.
    page.context.clear_cookies()
    browser_login(page, live_server, "officer@huimin.demo")
    page.goto(project_url)
    assert page.inner_text("[data-testid=officer-bid-count]") == "1"
    assert "950" not in page.inner_text("main")

    # A project past its deadline: the officer opens it and the record is public.
    project_id, expected = _project_past_its_deadline(app)
    page.goto(f"{live_server}/projects/{project_id}")
    assert page.get_attribute("[data-testid=project-state]", "data-state") == "closed"
    with page.expect_navigation():
        page.click("[data-testid=open-bids]")
    assert page.url.endswith(f"/projects/{project_id}/opening")
    record = page.inner_text("[data-testid=opening-record]")
    for name, price in expected:
        assert name in record and price in record
    page.context.clear_cookies()
    page.goto(f"{live_server}/projects/{project_id}/opening")
    assert expected[0][0] in page.inner_text("[data-testid=opening-record]")
