"""A new provider registers with a document; an officer approves it; the provider sees the result.
Headless Chromium on a phone-sized screen, CSRF on, Chinese interface."""

import pytest

from core import uscc
from tests.support.browser import browser_login

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PASSWORD = "Brush-And-Ink-2026"


def open_menu(page):
    if page.locator(".navbar-toggler").is_visible():
        page.click(".navbar-toggler")
        page.wait_for_selector("#mainnav.collapse.show")  # clicks during the animation can miss


def test_a_new_provider_registers_and_an_officer_approves_it(browser, live_server):
    code = uscc.complete("5", "2", "110115", "MA0BRW01")
    provider_ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = provider_ctx.new_page()
    page.set_default_timeout(10_000)

    # A visitor finds the registration from the home page.
    page.goto(live_server + "/")
    with page.expect_navigation():
        page.click("main a[href='/providers/register']")
    assert "承接主体登记" in page.inner_text("h1")
    form = page.locator("[data-testid=provider-register]")
    form.locator("input[name=login]").fill("yunshan@example.org")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("input[name=confirm]").fill(PASSWORD)
    form.locator("input[name=name]").fill("北京云山书画社")
    # A mistyped check character is named first…
    form.locator("input[name=credit_code]").fill(code[:17] + ("0" if code[17] != "0" else "1"))
    form.locator("select[name=kind]").select_option("social_organisation")
    form.locator("input[name=legal_representative]").fill("云山")
    form.locator("input[name=contact_name]").fill("林墨")
    form.locator("input[name=contact_phone]").fill("13912340000")
    if form.locator("input[name=category_ids]").count():
        form.locator("input[name=category_ids]").first.check()
    certificate = {"name": "登记证书.pdf", "mimeType": "application/pdf", "buffer": PDF}
    form.locator("input[name=certificate]").set_input_files(certificate)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "第 18 位校验码不符" in page.inner_text("main")

    # …then corrected; the password and the file are entered again, as browsers forget them.
    form = page.locator("[data-testid=provider-register]")
    form.locator("input[name=credit_code]").fill(code.lower())
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("input[name=confirm]").fill(PASSWORD)
    categories = form.locator("input[name=category_ids]")
    if categories.count() and not form.locator("input[name=category_ids]:checked").count():
        categories.first.check()
    form.locator("input[name=certificate]").set_input_files(certificate)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.url.endswith("/providers/me")
    assert page.locator("[data-testid=provider-status]").get_attribute("data-status") == "pending"
    assert "登记证书.pdf" in page.inner_text("[data-testid=documents]")
    assert code in page.inner_text("main")

    # The district officer finds it in the queue and approves it.
    officer = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
    officer.set_default_timeout(10_000)
    browser_login(officer, live_server, "officer@huimin.demo")
    officer.goto(live_server + "/providers/review")
    with officer.expect_navigation():
        officer.click("[data-testid=provider-queue] a:has-text('北京云山书画社')")
    assert "信用代码显示：登记管理部门为民政" in officer.inner_text("main")
    # The document opens for the officer, as a download.
    with officer.expect_download() as download:
        officer.locator("[data-testid=documents] a").first.click()
    assert download.value.suggested_filename == "登记证书.pdf"
    approve = officer.locator("[data-testid=decide-approve]")
    approve.locator("textarea").fill("材料齐全")
    with officer.expect_navigation():
        approve.locator("button[type=submit]").click()
    assert "已对 北京云山书画社 作出" in officer.inner_text("main")
    assert officer.locator("[data-testid=provider-status]").get_attribute("data-status") == "approved"
    officer.context.close()

    # The provider sees the approval on its page and in its inbox.
    page.reload()
    assert page.locator("[data-testid=provider-status]").get_attribute("data-status") == "approved"
    assert "可以参与采购项目投标" in page.inner_text("[data-testid=status-explained]")
    open_menu(page)
    with page.expect_navigation():
        page.click("[data-testid=nav] a[data-endpoint='main.inbox']")
    assert "您的承接主体登记已审核通过" in page.inner_text("main")
    provider_ctx.close()


def test_the_demo_provider_is_approved_and_others_wait_for_review(page, live_server):
    browser_login(page, live_server, "provider@huimin.demo")
    page.goto(live_server + "/providers/me")
    assert "京南艺术团" in page.inner_text("h1")
    assert page.locator("[data-testid=provider-status]").get_attribute("data-status") == "approved"
    code = page.inner_text("main").split("统一社会信用代码")[1].split()[0]
    assert uscc.is_valid(code)
