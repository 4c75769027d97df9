"""Steps shared by the browser tests (the browser and live server fixtures are in tests/conftest.py)."""

from __future__ import annotations


def browser_login(page, base_url, login, password=None):
    from seeds.district import DEMO_PASSWORD

    page.goto(base_url + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password or DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
