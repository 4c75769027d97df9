"""The officer's and the admin's dashboards on a phone: first in the navigation, charts drawn
as SVG within the screen's width, each with its table. Headless Chromium."""

import pytest

from tests.support.browser import browser_login

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("login", "endpoint", "charts"), [
    ("officer@huimin.demo", "dashboard.officer", ["chart-states", "chart-trend", "chart-coverage"]),
    ("huangcun@huimin.demo", "dashboard.officer", ["chart-states", "chart-trend", "chart-coverage"]),
    ("admin@huimin.demo", "dashboard.admin", ["chart-roles"]),
])
def test_the_dashboard_is_first_and_fits_a_phone(page, live_server, login, endpoint, charts):
    browser_login(page, live_server, login)
    page.goto(live_server + "/")
    endpoints = page.locator("[data-testid=nav] a").evaluate_all("els => els.map(e => e.dataset.endpoint)")
    assert endpoints[0] == endpoint, endpoints
    page.goto(live_server + ("/admin/dashboard" if endpoint == "dashboard.admin" else "/dashboard"))
    viewport = page.viewport_size["width"]
    for testid in charts:
        svg = page.locator(f"[data-testid={testid}] svg")
        assert svg.get_attribute("role") == "img"
        box = svg.bounding_box()
        assert 0 < box["width"] <= viewport and box["height"] > 0
    # No sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport
    if endpoint == "dashboard.officer":
        assert page.locator("[data-testid=coverage] tbody tr").count() >= 1
        if login.startswith("huangcun"):
            assert page.locator("[data-testid=coverage] tbody tr").all_inner_texts()[0].startswith("黄村镇")
            assert page.locator("[data-testid=pending-decisions]").count() == 0
