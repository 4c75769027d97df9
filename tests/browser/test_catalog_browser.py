"""A resident goes from the public catalog to a request for their community; an officer goes to
the demand dashboard. Headless Chromium on a phone-sized screen, against the demo district."""

import pytest

from seeds.district import DEMO_PASSWORD
from tests.support.browser import browser_login, nav_go

pytestmark = pytest.mark.browser


def _open_menu(page):
    if page.locator(".navbar-toggler").is_visible():
        page.click(".navbar-toggler")
        page.wait_for_selector("#mainnav.show")


def test_resident_from_public_catalog_to_a_request(page, live_server):
    page.goto(live_server + "/catalog/")
    assert page.locator("[data-testid=catalog-results] a").count() > 0
    page.fill("[data-testid=catalog-search]", "wyyc")
    with page.expect_navigation():
        page.press("[data-testid=catalog-search]", "Enter")
    results = page.locator("[data-testid=catalog-results]")
    assert "京剧名家名段演出" in results.inner_text()
    assert "健康养生讲座" not in results.inner_text()
    with page.expect_navigation():
        page.click("[data-testid=catalog-results] a[data-code='WY-001']")
    assert page.inner_text("[data-testid=item-name]") == "京剧名家名段演出"
    assert "¥38,000.00" in page.inner_text("[data-testid=item-ceiling]")
    assert "不少于90分钟" in page.inner_text("[data-testid=item-standard]")

    # Not logged in: the request button leads through the login page and back.
    with page.expect_navigation():
        page.click("[data-testid=request-button]")
    assert "/login" in page.url
    page.fill("input[name=login]", "13800138000")
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "/demand/new/WY-001" in page.url
    venue = page.locator("select[name=venue_id] option").nth(1)
    page.select_option("select[name=venue_id]", value=venue.get_attribute("value"))
    page.fill("textarea[name=note]", "希望国庆期间在村文化室演出")
    with page.expect_navigation():
        page.click("[data-testid=demand-form] button[type=submit]")
    assert "已提交" in page.inner_text("main")
    assert page.get_attribute("[data-testid=demand-status]", "data-status") == "open"
    assert page.inner_text("[data-testid=support-count]") == "1"

    nav_go(page, "demand.mine")
    mine = page.inner_text("[data-testid=my-requests]")
    assert "京剧名家名段演出" in mine and "待处理" in mine


def test_officer_reaches_the_demand_dashboard(page, live_server):
    browser_login(page, live_server, "officer@huimin.demo")
    _open_menu(page)
    endpoints = page.locator("[data-testid=nav] a").evaluate_all("els => els.map(e => e.dataset.endpoint)")
    assert {"catalog.index", "catalog_admin.items", "demand.dashboard", "demand.officer_list"} <= set(endpoints)
    assert "demand.mine" not in endpoints
    nav_go(page, "demand.dashboard")
    assert page.locator("[data-testid=chart-items] svg").is_visible()
    assert page.locator("[data-testid=chart-items] svg rect").count() > 0
    assert page.locator("[data-testid=top-items] tbody tr").count() > 0
    assert page.locator("[data-testid=by-area] tbody tr").count() > 1
    # Choose the period, then export what is shown.
    page.fill("input[name=since]", "2026-01-01")
    with page.expect_navigation():
        page.click("[data-testid=dashboard-filters] button")
    assert "2026-01-01" in page.inner_text("[data-testid=dashboard-summary]")
    with page.expect_download() as download:
        page.click("[data-testid=dashboard-xlsx]")
    assert download.value.suggested_filename.endswith(".xlsx")
