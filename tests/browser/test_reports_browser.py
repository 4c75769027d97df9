"""The demo provider asks for its performance report on its performance page, lands on "My
reports", and watches the row turn ready without reloading (static/js/reports.js polling the JSON
status); then downloads the PDF. The report is rendered by a Celery worker (in a thread of this
process, on Redis db 11) while the page watches; the briefing, with no Redis, before the page
answers (the engine's eager mode)."""

from __future__ import annotations

import dataclasses
import threading
import uuid

import pytest
import redis

from core.jobs import engine
from core.jobs import operations as jobs
from tests.support.browser import browser_login

pytestmark = pytest.mark.browser


REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture
def celery_worker_thread(live_app, monkeypatch):
    """The live app's task engine on Redis, with a real Celery worker in a thread of this process."""
    from celery.contrib.testing.worker import start_worker

    prefix = f"huimin-browser-{uuid.uuid4().hex[:8]}:"
    celery = engine.celery_app(live_app)
    monkeypatch.setitem(live_app.config, "REDIS_URL", REDIS_URL)
    saved = {k: celery.conf[k] for k in ("broker_url", "task_always_eager", "broker_transport_options")}
    celery.conf.update(broker_url=REDIS_URL, task_always_eager=False,
                       broker_transport_options={**saved["broker_transport_options"], "global_keyprefix": prefix})
    try:
        with start_worker(celery, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=30):
            yield
    finally:
        celery.conf.update(saved)
        r = redis.Redis.from_url(REDIS_URL)
        keys = list(r.scan_iter(match=f"{prefix}*"))
        if keys:
            r.delete(*keys)
        r.close()


def test_provider_report_is_produced_while_the_page_watches(live_app, live_server, page, monkeypatch,
                                                            celery_worker_thread):
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


def test_an_officer_downloads_the_monthly_briefing(live_app, live_server, page):
    """The district officer asks for last month's briefing on the download page; without Redis the
    engine renders the real briefing from the demo district at once; the PDF downloads and reads
    back."""
    import io

    from pypdf import PdfReader

    from evaluation.reporting import views as report_views

    assert engine.eager(live_app)
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
