"""Every key page, in Chinese and in English, for each role that uses it: axe-core finds no serious
or critical violation (WCAG 2.1 A/AA and best practice), nothing is wider than a 360 px phone, no
text is under 12 px, and the officer's top bar holds at most seven entries with no word broken."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import db
from tests.support.browser import browser_login

pytestmark = pytest.mark.browser

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
LANGS = ["zh_CN", "en"]


def _ids(live_app):
    """The demo's objects the key pages show (looked up, as ids differ between databases)."""
    from core.accounts.models import User
    from evaluation.experts.models import Expert
    from evaluation.review.models import Panel, PanelMember
    from marketplace.contracts.models import Contract
    from marketplace.projects.models import ProjectState, PurchaseProject
    from marketplace.sessions.models import ServiceSession

    with live_app.app_context():
        published = db.session.scalars(select(PurchaseProject.id).where(
            PurchaseProject.state == ProjectState.PUBLISHED).order_by(PurchaseProject.id)).first()
        reviewed = db.session.scalars(
            select(Panel.project_id).join(PanelMember, PanelMember.panel_id == Panel.id)
            .join(Expert, Expert.id == PanelMember.expert_id).join(User, User.id == Expert.user_id)
            .where(User.login == "expert@huimin.demo").order_by(Panel.project_id)).first()
        contract = db.session.scalars(select(Contract.id).order_by(Contract.id)).first()
        session = db.session.scalars(select(ServiceSession.id).order_by(ServiceSession.id)).first()
        db.session.remove()
    return {"published": published, "reviewed": reviewed, "contract": contract, "session": session}


def key_pages(ids):
    """(login or None, path) of the key pages."""
    p, r, c, s = ids["published"], ids["reviewed"], ids["contract"], ids["session"]
    return {
        None: ["/", "/login", "/register", "/portal", "/portal/projects", "/portal/results",
               "/portal/providers", "/portal/ratings", "/portal/adjustments", f"/portal/projects/{p}",
               "/catalog/", "/performance/model", "/providers/register"],
        "provider@huimin.demo": ["/projects/", f"/projects/{p}", f"/projects/{p}/bid", "/providers/me",
                                 "/projects/my-bids", "/contracts", "/inbox"],
        "officer@huimin.demo": ["/dashboard", f"/review/projects/{r}", f"/contracts/{c}", "/projects/manage",
                                "/providers/review", "/officer/demand/dashboard", "/delivery/"],
        "expert@huimin.demo": ["/review/mine", f"/review/projects/{r}"],
        "admin@huimin.demo": ["/admin/settings", "/admin/users", "/admin/dashboard"],
        "13800138000": ["/demand/mine", f"/rate/{s}"],
    }


@pytest.fixture(scope="module")
def pages(live_app, live_server):
    return key_pages(_ids(live_app))


def _context(browser, live_server, lang, width):
    context = browser.new_context(locale="zh-CN" if lang == "zh_CN" else "en", viewport={"width": width, "height": 800})
    context.add_cookies([{"name": "lang", "value": lang, "url": live_server}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


SMALL_TEXT = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const node = walk.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el.getClientRects().length) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 12) out.push(`${el.tagName}.${el.className} ${size}px: ${node.textContent.trim().slice(0, 20)}`);
  }
  return out;
}"""


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("role", list(key_pages({"published": 0, "reviewed": 0, "contract": 0, "session": 0})),
                         ids=lambda r: r or "public")
def test_axe_finds_no_serious_violation_on_the_key_pages(browser, live_server, pages, lang, role):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    page = _context(browser, live_server, lang, 1280)
    if role:
        browser_login(page, live_server, role)
    problems = []
    for path in pages[role]:
        response = page.goto(live_server + path)
        assert response.status == 200, (path, response.status)
        assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh_CN" else "en")
        result = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
        for v in result.response["violations"]:
            if v["impact"] in ("serious", "critical"):
                problems.append(f"{path}: {v['impact']} {v['id']} at {[n['target'] for n in v['nodes'][:3]]}")
    page.context.close()
    assert problems == []


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("role", list(key_pages({"published": 0, "reviewed": 0, "contract": 0, "session": 0})),
                         ids=lambda r: r or "public")
def test_no_key_page_is_wider_than_a_360px_phone(browser, live_server, pages, lang, role):
    page = _context(browser, live_server, lang, 360)
    if role:
        browser_login(page, live_server, role)
    wide, small = [], []
    for path in pages[role]:
        page.goto(live_server + path)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        if width > 360:
            wide.append((path, width))
        small += [f"{path}: {t}" for t in page.evaluate(SMALL_TEXT)]
    if role is None:
        # The portal's six tabs do not fit: the strip scrolls sideways (its own box, not the page),
        # shows a thin scroll bar and an edge shadow, and its last tab can be scrolled into view.
        page.goto(live_server + "/portal")
        strip = page.evaluate("""() => { const el = document.querySelector('[data-testid=portal-nav]');
            const style = getComputedStyle(el);
            el.scrollLeft = el.scrollWidth;
            const last = [...el.querySelectorAll('a')].pop().getBoundingClientRect();
            return {scroll: el.scrollWidth, client: el.clientWidth, overflow: style.overflowX,
                    bar: style.scrollbarWidth, shadow: style.backgroundImage.includes('gradient'),
                    tabs: el.querySelectorAll('a').length, last_left: last.left, last_right: last.right}; }""")
        assert strip["tabs"] == 6 and strip["scroll"] > strip["client"], strip
        assert strip["overflow"] == "auto" and strip["bar"] == "thin" and strip["shadow"], strip
        assert strip["last_left"] >= 0 and strip["last_right"] <= 360, strip
    page.context.close()
    assert wide == []
    assert small == []


NAV_WORDS = """() => [...document.querySelectorAll('[data-testid=nav] > li > .nav-link')].map(el => {
  const range = document.createRange(); range.selectNodeContents(el);
  return {text: el.textContent.trim(), lines: range.getClientRects().length, height: el.getBoundingClientRect().height};
})"""


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("login", ["admin@huimin.demo", "officer@huimin.demo", "huangcun@huimin.demo",
                                   "expert@huimin.demo", "provider@huimin.demo", "13800138000"])
def test_every_roles_menu_fits_seven_entries_unbroken(browser, live_server, lang, login):
    page = _context(browser, live_server, lang, 1280)
    browser_login(page, live_server, login)
    entries = page.evaluate(NAV_WORDS)
    assert 1 <= len(entries) <= 7, entries
    assert all(e["lines"] == 1 for e in entries), entries  # each name on one line, no character alone
    assert len({round(e["height"]) for e in entries}) == 1, entries
    # Each task menu opens and shows its entries; every entry leads somewhere the role may go.
    for toggle in page.locator("[data-testid=nav] .dropdown-toggle").all():
        toggle.click()
        menu = toggle.locator("xpath=following-sibling::ul")
        menu.wait_for(state="visible")
        assert menu.locator("a").count() >= 2 and toggle.get_attribute("aria-expanded") == "true"
        page.keyboard.press("Escape")
        menu.wait_for(state="hidden")
        assert toggle.get_attribute("aria-expanded") == "false"
        assert page.evaluate("document.activeElement.id") == toggle.get_attribute("id")
        # From the keyboard: the arrow opens the menu on its first entry, and moves along it.
        page.keyboard.press("ArrowDown")
        menu.wait_for(state="visible")
        assert page.evaluate("document.activeElement.className").startswith("dropdown-item")
        page.keyboard.press("Escape")
    links = page.locator("[data-testid=nav] a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    for href in links:
        assert page.request.get(live_server + href).status == 200, href
    # On a phone the bar folds behind the menu button and opens on a tap, still unbroken.
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.locator(".navbar-toggler").is_visible()
    assert not page.locator("[data-testid=nav]").is_visible()
    page.click(".navbar-toggler")
    page.wait_for_selector("#mainnav.collapse.show")
    assert all(e["lines"] == 1 for e in page.evaluate(NAV_WORDS))
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    page.context.close()


def test_a_second_page_loads_under_60_kb(browser, live_server, pages):
    """The stylesheets and scripts come once and are kept (content-hash URLs, a year's caching):
    the page after the first costs its HTML only."""
    page = _context(browser, live_server, "zh_CN", 1280)
    page.goto(live_server + "/portal")
    first = page.evaluate("performance.getEntriesByType('resource').map(e => [e.name, e.transferSize])")
    assert any("bootstrap" in name and size > 0 for name, size in first)
    page.goto(live_server + "/catalog/")
    entries = page.evaluate("""() => [performance.getEntriesByType('navigation')[0],
        ...performance.getEntriesByType('resource')].map(e => [e.name, e.transferSize])""")
    total = sum(size for _name, size in entries)
    assert total < 60_000, entries
    assert all(size == 0 for name, size in entries if "/static/" in name), entries  # from the cache
    page.context.close()
