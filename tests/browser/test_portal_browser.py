"""A member of the public walks the portal without logging in: from the landing page to a recent
result, its score breakdown (checked against the review's stored numbers), the winner's profile,
and a project search. Headless Chromium on a phone-sized screen, against the demo district."""

from __future__ import annotations

import re

import pytest

from core.db import db
from evaluation.review import operations as review
from marketplace.projects.models import PurchaseProject

pytestmark = pytest.mark.browser


def test_the_public_walks_from_the_home_to_a_score_breakdown(page, live_server, app):
    page.goto(live_server + "/")
    assert page.locator("[data-testid=headline]").is_visible()
    assert page.locator("[data-testid=login-link]").count() == 1  # nobody is logged in

    # A recent result leads to the project's public page …
    first = page.locator("[data-testid=recent-result]").first
    title = first.locator("strong").inner_text()
    with page.expect_navigation():
        first.click()
    assert page.inner_text("h1") == title
    project_id = int(re.search(r"/portal/projects/(\d+)$", page.url).group(1))
    assert page.locator("[data-testid=opening-link]").is_visible()

    # … and from there to the result with its score breakdown.
    with page.expect_navigation():
        page.click("[data-testid=result-link]")
    assert page.url.endswith(f"/portal/projects/{project_id}/result")
    with app.app_context():
        project = db.session.get(PurchaseProject, project_id)
        stored = review.current_result(project)
        expected = [{"rank": b.rank, "provider": b.provider_name, "price_points": str(b.price_points),
                     "performance_points": str(b.performance_points), "total": str(b.total),
                     "means": {ln.criterion_id: str(ln.mean) for ln in b.lines}, "provider_id": b.provider_id}
                    for b in stored.ranked]
        db.session.remove()
    rows = page.locator("[data-testid=ranked-bid]")
    assert rows.count() == len(expected) >= 2
    for i, e in enumerate(expected):
        row = rows.nth(i)
        assert row.get_attribute("data-rank") == str(e["rank"])
        assert row.locator("[data-col=provider]").inner_text().strip() == e["provider"]
        assert row.locator("[data-col=price_points]").inner_text().strip() == e["price_points"]
        assert row.locator("[data-col=performance_points]").inner_text().split()[0] == e["performance_points"]
        assert row.locator("[data-col=total]").inner_text().strip() == e["total"]
        for criterion_id, mean in e["means"].items():
            assert row.locator(f"[data-col=criterion-{criterion_id}]").inner_text().strip() == mean
    # The totals are in ranking order, as stored.
    totals = [float(e["total"]) for e in expected]
    assert totals == sorted(totals, reverse=True)
    assert page.locator("[data-testid=expert-scores]").count() >= 1

    # The winner's profile: it names the project among those won.
    with page.expect_navigation():
        rows.first.locator("[data-col=provider] a").click()
    assert page.inner_text("h1") == expected[0]["provider"]
    assert title in page.inner_text("[data-testid=won-list]")
    assert int(page.inner_text("[data-testid=won]")) >= 1

    # Searching the projects by a word of the title finds it.
    page.click("[data-testid=portal-nav] a[href='/portal/projects']")
    page.wait_for_url(re.compile(r"/portal/projects$"))
    word = title.replace("【示例】", "")[:4]
    page.fill("[data-testid=portal-search] input[name=q]", word)
    with page.expect_navigation():
        page.press("[data-testid=portal-search] input[name=q]", "Enter")
    assert title in page.inner_text("[data-testid=portal-projects]")
