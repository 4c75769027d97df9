"""The demo provider asks for its performance report on its performance page, lands on "My
reports", and watches the row turn ready without reloading (static/js/reports.js polling the JSON
status); then downloads the PDF. The live server renders in its in-process thread."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from core.jobs import operations as jobs
from tests.support.browser import browser_login

pytestmark = pytest.mark.browser


def test_provider_report_is_produced_while_the_page_watches(live_app, live_server, page, monkeypatch):
    # The render waits until the page is shown, so the page sees the job before it is done.
    shown = threading.Event()
    real = jobs.kinds(live_app)["provider_report"]

    def held(params, progress):
        progress(0.05, "等待页面")
        assert shown.wait(30)
        return real.render(params, progress)

    monkeypatch.setitem(jobs.kinds(live_app), "provider_report", dataclasses.replace(real, render=held))
    try:
        browser_login(page, live_server, "provider@huimin.demo")
        page.goto(f"{live_server}/performance/me")
        form = page.locator("[data-testid=provider-report-form]")
        with page.expect_navigation():
            form.locator("button").click()
        assert page.url.endswith("/reports/")
        row = page.locator("tr[data-job-id]").first
        # No reload: the script polls /reports/status.json and updates the row in place.
        assert row.get_attribute("data-job-state") in ("queued", "running")
        row.evaluate("el => { el.dataset.marker = 'same-page'; }")
        shown.set()
        page.locator("tr[data-job-id][data-job-state=done]").wait_for(timeout=60_000)
        assert row.locator(".job-download").is_visible()
        assert row.locator(".job-progress").evaluate("el => el.value") == 1
        assert row.locator(".job-state").inner_text() == "可以下载"
        assert row.get_attribute("data-marker") == "same-page"  # updated in place, not reloaded
        with page.expect_download() as info:
            row.locator(".job-download").click()
        download = info.value
        assert download.suggested_filename.endswith(".pdf")
        with open(download.path(), "rb") as f:
            assert f.read(5) == b"%PDF-"
    finally:
        shown.set()
        jobs.stop_threads(live_app)


def test_an_officer_downloads_the_monthly_briefing(live_app, live_server, page):
    """The district officer asks for last month's briefing on the download page; the in-process
    thread renders the real briefing from the demo district; the PDF downloads and reads back."""
    import io

    from pypdf import PdfReader

    from evaluation.reporting import views as report_views

    try:
        browser_login(page, live_server, "officer@huimin.demo")
        page.goto(f"{live_server}/reports/")
        form = page.locator("[data-testid=briefing-request] form")
        month = form.locator("input[name=month]").input_value()
        assert month == report_views.last_month()
        with page.expect_navigation():
            form.locator("button").click()
        assert page.url.endswith("/reports/")
        row = page.locator(f"tr[data-job-id]:has-text('{month}')").first
        row.wait_for()
        page.locator("tr[data-job-id][data-job-state=done]").first.wait_for(timeout=90_000)
        assert row.get_attribute("data-job-state") == "done"
        with page.expect_download() as info:
            row.locator(".job-download").click()
        download = info.value
        assert download.suggested_filename == f"文化惠民工作简报-{month}.pdf"
        with open(download.path(), "rb") as f:
            reader = PdfReader(io.BytesIO(f.read()))
        text = "".join(p.extract_text() for p in reader.pages)
        assert len(reader.pages) >= 3
        year, mon = month.split("-")
        assert f"{int(year)}年{int(mon)}月" in text or month in text
        assert "覆盖" in text
    finally:
        jobs.stop_threads(live_app)
