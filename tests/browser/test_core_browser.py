"""Each role logs in and sees its navigation; the language switch works. Headless Chromium."""

import pytest

from tests.support.browser import browser_login

pytestmark = pytest.mark.browser

ROLE_NAV = {
    "admin@huimin.demo": ["admin.users", "admin.audit_log", "admin.settings_list"],
    "officer@huimin.demo": ["main.inbox"],
    "expert@huimin.demo": ["main.inbox"],
    "provider@huimin.demo": ["main.inbox"],
    "13800138000": ["main.inbox"],
}
ADMIN_ONLY = {"admin.users", "admin.audit_log"}


@pytest.mark.parametrize("login", list(ROLE_NAV))
def test_each_role_logs_in_and_sees_its_navigation(page, live_server, login):
    browser_login(page, live_server, login)
    assert page.locator("[data-testid=whoami]").is_visible() or page.locator(".navbar-toggler").is_visible()
    endpoints = page.locator("[data-testid=nav] a").evaluate_all("els => els.map(e => e.dataset.endpoint)")
    for ep in ROLE_NAV[login]:
        assert ep in endpoints, (login, endpoints)
    if login != "admin@huimin.demo":
        assert not ADMIN_ONLY & set(endpoints)
    # Log out through the (collapsed, on a phone) menu.
    if page.locator(".navbar-toggler").is_visible():
        page.click(".navbar-toggler")
        page.wait_for_selector("#mainnav.collapse.show")  # the opening animation has ended
    with page.expect_navigation():
        page.click("[data-testid=logout]")
    assert page.locator("[data-testid=login-link]").count() == 1


def test_language_switch_is_remembered(page, live_server):
    page.goto(live_server + "/login")
    assert "登录" in page.inner_text("h1")
    if page.locator(".navbar-toggler").is_visible():
        page.click(".navbar-toggler")
        page.wait_for_selector("#mainnav.collapse.show")
    with page.expect_navigation():
        page.click("[data-testid=lang-switch]")
    assert page.inner_text("h1") == "Log in"
    page.goto(live_server + "/register")
    assert "Resident registration" in page.inner_text("h1")


def test_wrong_password_shows_a_clear_message(page, live_server):
    browser_login(page, live_server, "admin@huimin.demo", password="Wrong-Password-99")
    assert "登录名或密码错误" in page.inner_text("main")
