"""An officer draws a panel; the demo expert confirms, scores and submits in the browser; the
officer awards the top-ranked bid and the award notice is public. Headless Chromium on a phone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from core.accounts import operations as accounts
from core.accounts.models import User
from core.areas.models import Area
from core.db import db, utcnow
from evaluation.experts.models import Expert
from evaluation.review import draw, scoring
from evaluation.review import operations as review
from evaluation.review.models import Panel
from marketplace.projects.models import PurchaseProject
from seeds.district import DEMO_PASSWORD
from tests.support import review as es
from tests.support.browser import browser_login

pytestmark = pytest.mark.browser

PRICES = {"京南艺术团（测试）": "90000.00", "大兴文化服务中心（测试）": "100000.00", "黄村戏曲社（测试）": "110000.00"}


@pytest.fixture(scope="module")
def opened_project(app, live_server):
    """An opened project with three bids, in the live database; five experts (the demo expert
    among them) share its category, so the draw seats all five."""
    with app.app_context():
        officer = db.session.scalar(select(User).where(User.login == "officer@huimin.demo"))
        town = db.session.scalar(select(Area).where(Area.name == "黄村镇"))
        cat = es.category(db.session, "戏曲演出")
        proj = es.project(db.session, officer, town, cat, opened_at=utcnow() - dt.timedelta(hours=2))
        for i, (name, price) in enumerate(PRICES.items()):
            user = accounts.create_user(login=f"browser-bidder{i}@example.org", name=name, password=DEMO_PASSWORD,
                                        roles=["provider"])
            prov = es.provider(db.session, lambda *_r, u=user, **_k: u, name=name)
            es.bid(db.session, proj, prov, price)
        experts = db.session.scalars(select(Expert).join(User).order_by(User.login)).all()
        demo = next(e for e in experts if e.user.login == "expert@huimin.demo")
        chosen = [demo, *[e for e in experts if e is not demo][:4]]
        for e in chosen:
            e.specialties = [*e.specialties, cat]
        db.session.commit()
        yield {"project_id": proj.id, "expert_ids": [e.id for e in chosen], "demo_id": demo.id}


def _others_score_and_submit(app, project_id, demo_id, submit=True):
    """The four other experts confirm, score and submit (the leader records qualifications).
    When the demo expert leads, the others can only submit after its qualification checks:
    call once with submit=False, then `_others_submit` after the leader's checks."""
    with app.app_context():
        proj = db.session.get(PurchaseProject, project_id)
        panel = db.session.scalar(select(Panel).where(Panel.project_id == project_id))
        subjective = proj.criteria_of("subjective")
        bids = draw.reviewing_bids(proj)
        for m in panel.members:
            if m.expert_id == demo_id:
                continue
            draw.confirm_no_conflict(m, m.expert.user)
            if m.is_leader:
                for b in bids:
                    for q in proj.criteria_of("qualification"):
                        scoring.record_qualification(m, b, q, passed=True, reason="资质齐全", actor=m.expert.user)
            for b, value in zip(bids, (26, 22, 18), strict=True):
                scoring.save_scores(m, b, {c.id: (value, "") for c in subjective}, m.expert.user)
            if submit and panel.leader.expert_id != demo_id:
                scoring.submit(m, m.expert.user)
        db.session.commit()
        return panel.leader.expert_id == demo_id


def _others_submit(app, project_id, demo_id):
    with app.app_context():
        panel = db.session.scalar(select(Panel).where(Panel.project_id == project_id))
        for m in panel.members:
            if m.expert_id != demo_id:
                scoring.submit(m, m.expert.user)
        db.session.commit()


def _login_as(page, base, login):
    page.context.clear_cookies()
    browser_login(page, base, login)


def test_an_expert_scores_and_an_officer_awards(page, live_server, app, opened_project):
    pid = opened_project["project_id"]
    page.on("dialog", lambda d: d.accept())
    # The officer draws the panel.
    _login_as(page, live_server, "officer@huimin.demo")
    page.goto(f"{live_server}/review/projects/{pid}")
    with page.expect_navigation():
        page.click("[data-testid=draw-panel]")
    assert page.locator("[data-testid=panel-member]").count() == 5
    # The demo expert finds the project, confirms no conflict and scores each bid.
    _login_as(page, live_server, "expert@huimin.demo")
    page.goto(f"{live_server}/review/mine")
    with page.expect_navigation():
        page.click("[data-testid=my-panels] a")
    for name in PRICES:
        assert name in page.inner_text("[data-testid=member-section]")
    with page.expect_navigation():
        page.click("[data-testid=confirm-no-conflict]")
    demo_leads = _others_score_and_submit(app, pid, opened_project["demo_id"])
    if demo_leads:
        page.reload()
        for i in range(page.locator("[data-testid=qualification-form]").count()):
            form = page.locator("[data-testid=qualification-form]").nth(i)
            form.locator("input[name=reason]").fill("资质齐全")
            with page.expect_navigation():
                form.locator("button").click()
        _others_submit(app, pid, opened_project["demo_id"])
    page.reload()
    for value in ("27.5", "21", "17"):
        with page.expect_navigation():
            page.locator("[data-testid=score-link]", has_text=re.compile(r"\(0/")).first.click()
        # A top score without a reason is refused, and the page says why.
        page.locator("input[name^=score_]").first.fill("30")
        page.click("[data-testid=save-scores]")
        page.wait_for_selector(".alert-danger")
        assert "理由" in page.inner_text(".alert-danger")
        for field in page.locator("input[name^=score_]").all():
            field.fill(value)
        with page.expect_navigation():
            page.click("[data-testid=save-scores]")
    assert "您的评分已全部填写" in page.inner_text("[data-testid=member-section]")
    with page.expect_navigation():
        page.click("[data-testid=submit-scores]")
    assert page.locator("[data-testid=submitted]").is_visible()
    if demo_leads:
        with page.expect_navigation():
            page.click("[data-testid=go-sign-off]")
        with page.expect_navigation():
            page.click("[data-testid=sign-off]")
        assert "签字确认" in page.inner_text("[data-testid=signed-off]")
    else:
        with app.app_context():
            panel = db.session.scalar(select(Panel).where(Panel.project_id == pid))
            review.sign_off(panel, panel.leader, panel.leader.expert.user)
            db.session.commit()
    # The officer awards the top-ranked bid; the notice is public.
    _login_as(page, live_server, "officer@huimin.demo")
    page.goto(f"{live_server}/review/projects/{pid}")
    with page.expect_navigation():
        page.click("[data-testid=go-award]")
    assert page.locator("input[name=bid_id]").first.is_checked()
    with page.expect_navigation():
        page.click("[data-testid=award-submit]")
    assert "京南艺术团（测试）" in page.inner_text("[data-testid=winner]")
    assert page.inner_text("[data-testid=challenge-deadline]").strip()
    page.context.clear_cookies()
    page.goto(f"{live_server}/projects/{pid}/award")
    assert "京南艺术团（测试）" in page.inner_text("[data-testid=winner]")
    page.goto(f"{live_server}/review/projects/{pid}/report")
    ranking = page.inner_text("[data-testid=ranking]")
    assert ranking.index("京南艺术团（测试）") < ranking.index("黄村戏曲社（测试）")
    response = page.request.get(f"{live_server}/api/v1/projects/{pid}/evaluation")
    assert response.status == 200 and response.json()["ranking"][0] == response.json()["bids"][0]["bid_id"]
