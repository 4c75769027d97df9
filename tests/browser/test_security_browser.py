"""Under the content security policy, real pages raise no violation in Chromium, and the
menu's JavaScript (Bootstrap's collapse) still works on a phone."""

import pytest

from tests.support.browser import browser_login

pytestmark = pytest.mark.browser

PUBLIC_PAGES = ["/", "/login", "/register"]
ADMIN_PAGES = ["/inbox", "/account/password", "/admin/users", "/admin/areas", "/admin/venues", "/admin/audit",
               "/admin/settings"]


def _violations(page):
    found = []
    page.on("console", lambda msg: found.append(msg.text) if "Content Security Policy" in msg.text else None)
    return found


def test_pages_raise_no_csp_violation(page, live_server):
    found = _violations(page)
    for path in PUBLIC_PAGES:
        resp = page.goto(live_server + path)
        assert "script-src 'self'" in resp.headers["content-security-policy"]
    browser_login(page, live_server, "admin@huimin.demo")
    for path in ADMIN_PAGES:
        assert page.goto(live_server + path).status == 200, path
    assert found == []


def test_an_inline_script_would_be_blocked(page, live_server):
    """The policy is really enforced: a script injected into a page does not run."""
    found = _violations(page)
    page.goto(live_server + "/login")
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'document.body.dataset.injected = "ran"';
                             document.body.appendChild(s); }""")
    assert page.evaluate("() => document.body.dataset.injected") is None
    assert found


def test_the_phone_menu_opens(page, live_server):
    page.goto(live_server + "/")
    toggler = page.locator(".navbar-toggler")
    assert toggler.is_visible()
    assert not page.locator("[data-testid=login-link]").is_visible()
    toggler.click()
    page.locator("[data-testid=login-link]").wait_for(state="visible")
