"""Steps shared by the browser tests (the browser and live server fixtures are in tests/conftest.py)."""

from __future__ import annotations


def browser_login(page, base_url, login, password=None):
    from seeds.district import DEMO_PASSWORD

    page.goto(base_url + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password or DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def open_menu(page):
    """Open the collapsed top bar (on a phone); nothing on a wide screen."""
    if page.locator(".navbar-toggler").is_visible() and not page.locator("#mainnav.show").count():
        page.click(".navbar-toggler")
        page.wait_for_selector("#mainnav.collapse.show")  # clicks during the animation can miss


def nav_go(page, endpoint):
    """Follow the top bar's entry for `endpoint`, opening the collapsed bar and its task menu
    (dropdown) as a user would."""
    open_menu(page)
    link = page.locator(f"[data-testid=nav] a[data-endpoint='{endpoint}']")
    if not link.is_visible():
        page.locator(f"[data-testid=nav] .dropdown:has(a[data-endpoint='{endpoint}']) > .dropdown-toggle").click()
        link.wait_for(state="visible")
    with page.expect_navigation():
        link.click()
