"""Downloads of officer and admin lists (.xlsx and .csv, core/exports.py): every list page has both,
each holds exactly the rows the list shows with its filters (every page of them), with Chinese
headers, local times and numbers; town officers get their jurisdiction only; exports of data that
matter are audited; bids stay sealed; a bad format is refused with a message.

EXPORTS below is the one list of list pages with downloads. The rule that keeps it whole
(test_every_officer_list_page_has_downloads): any GET page without URL arguments, open to officers
or admins, that paginates (builds a `core.views_util.Page`) is a list page and must be in EXPORTS.
Pages with URL arguments show one object's details (an item's history, a project's bids) and are
not lists in this sense; public and resident/provider/expert-only pages are out of scope.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from core.accounts.models import Role
from core.audit import AuditEvent
from core.db import utcnow
from core.holidays.models import Holiday
from core.i18n import to_local
from core.permissions import PUBLIC, endpoint_access
from core.views_util import Page
from seeds import demo as seed
from seeds.district import DEMO_PASSWORD
from tests.support.accounts import PASSWORD
from tests.support.market import Market


@dataclass(frozen=True)
class Case:
    url: str  # the list page with a filter
    role: str  # "officer" (district), "town" (a town officer) or "admin"
    key: int  # a column whose text the page shows for each of its rows
    narrows: bool = False  # the filter leaves out rows the demo data has
    paged: bool = True  # False: not the paginated list of its page (or the page does not paginate)
    list_name: str | None = None  # one of several lists on a page (?list=)
    wider: str | None = None  # the list without the filter (default: the URL without its query)


# Every officer and admin list page with downloads.
EXPORTS: dict[str, list[Case]] = {
    "admin.users": [Case("/admin/users?role=officer", "admin", 0, narrows=True)],
    "admin.areas": [Case("/admin/areas?level=town", "admin", 0, narrows=True)],
    "admin.venues": [Case("/admin/venues?q=%E9%95%87", "admin", 0, narrows=True)],  # q=镇
    "admin.audit_log": [Case("/admin/audit?object_type=users", "admin", 3, narrows=True)],
    "admin.settings_list": [Case("/admin/settings", "admin", 1, paged=False)],
    "supervision.items": [Case("/supervision/items?status=open", "officer", 0, narrows=True)],
    "assessment.plans": [Case("/assessment/plans", "officer", 0)],
    "calendar_admin.index": [Case("/admin/calendar/?year=2040", "admin", 2)],
    "experts.index": [Case("/admin/experts?q=%E5%A4%A7%E5%AD%A6", "admin", 0, narrows=True)],  # q=大学
    "catalog_admin.items": [Case("/officer/catalog/?status=active", "officer", 0, narrows=True)],
    "catalog_admin.versions": [Case("/officer/catalog/versions", "officer", 1)],
    "catalog_admin.categories": [Case("/officer/catalog/categories", "officer", 0, paged=False)],
    "demand.officer_list": [Case("/officer/demand?status=all", "officer", 1),
                            Case("/officer/demand?status=open", "town", 1)],
    "projects.manage": [Case("/projects/manage?state=published", "officer", 0, narrows=True)],
    "providers.queue": [Case("/providers/review?status=approved", "officer", 0, narrows=True,
                                 wider="/providers/review?status=all")],
    "awards.challenges": [Case("/challenges", "officer", 0), Case("/challenges", "admin", 0)],
    "contracts.index": [Case("/contracts", "officer", 0), Case("/contracts", "admin", 0)],
    "sessions.index": [Case("/delivery/?state=confirmed", "officer", 2, narrows=True)],
    "ratings.review_queue": [Case("/ratings/review", "officer", 0, list_name="comments"),
                             Case("/ratings/review", "officer", 3, paged=False, list_name="complaints"),
                             Case("/ratings/review", "officer", 0, paged=False, list_name="flagged")],
    "performance.decisions": [Case("/performance/decisions?status=proposed", "officer", 2)],
    "review.projects": [Case("/review/projects", "officer", 0), Case("/review/projects", "admin", 0)],
}
AUDITED = {"admin.users", "admin.audit_log", "providers.queue", "experts.index"}
CJK = re.compile(r"[\u4e00-\u9fff]")
LOGINS = {"officer": "officer@huimin.demo", "town": "huangcun@huimin.demo", "admin": "admin@huimin.demo"}


# --- helpers ---------------------------------------------------------------------------------------------

def _login(client, login, password=DEMO_PASSWORD):
    client.post("/logout")
    r = client.post("/login", data={"login": login, "password": password})
    assert r.status_code == 302, login


def _with(url, **args):
    sep = "&" if "?" in url else "?"
    return url + sep + "&".join(f"{k}={v}" for k, v in args.items() if v is not None)


def download(client, url, fmt, list_name=None):
    """(headers, rows) of a download, parsed back; xlsx cells keep their types."""
    resp = client.get(_with(url, format=fmt, list=list_name))
    assert resp.status_code == 200, (url, fmt, resp.status_code, resp.get_data(as_text=True)[:300])
    assert f".{fmt}" in resp.headers["Content-Disposition"]
    if fmt == "csv":
        assert resp.mimetype == "text/csv"
        text = resp.get_data().decode("utf-8")
        assert text.startswith("\ufeff")
        table = list(csv.reader(io.StringIO(text[1:])))
    else:
        assert "spreadsheetml" in resp.mimetype
        ws = load_workbook(io.BytesIO(resp.data)).worksheets[0]
        table = [list(r) for r in ws.iter_rows(values_only=True)]
    return table[0], table[1:]


@pytest.fixture
def pages(monkeypatch):
    """The Pages views build, as (endpoint, page), so a test can read what the list showed."""
    from flask import request

    built = []
    original = Page.__init__

    def record(self, *a, **kw):
        original(self, *a, **kw)
        built.append((request.endpoint, self))

    monkeypatch.setattr(Page, "__init__", record)
    return built


@pytest.fixture
def demo(session):
    """The demo district, plus the rows it lacks for some lists (a challenge, a flagged rating, a
    proposed adjustment decision, an entered holiday)."""
    from evaluation.adjustment.models import AdjustmentDecision, DecisionAction
    from evaluation.feedback.models import FlagReason, Rating, RatingStatus
    from marketplace.awards.models import Award, Challenge
    from marketplace.providers.models import Provider

    seed.run_demo(lambda *_a: None)
    award = session.scalars(select(Award).order_by(Award.id)).first()
    provider = session.get(Provider, award.provider_id)
    session.add(Challenge(award_id=award.id, project_id=award.project_id, bid_id=award.bid_id,
                          provider_id=provider.id, lodged_by_id=provider.user_id, text="评分有误，请复核。",
                          answer_due=utcnow() + dt.timedelta(days=7)))
    rating = session.scalars(select(Rating).where(Rating.comment != "").order_by(Rating.id)).first()
    rating.status, rating.flag_reason = RatingStatus.FLAGGED, FlagReason.BURST
    session.add(AdjustmentDecision(rule="provider_grade_c_twice", rule_version="1", action=DecisionAction.WARN,
                                   provider_id=provider.id, figures={"previous_score": 70, "score": 68},
                                   due_at=utcnow() + dt.timedelta(days=7)))
    session.add(Holiday(day=dt.date(2040, 10, 1), is_workday=False, name="国庆节"))
    session.flush()
    return {"provider": provider}


def _cases():
    return [(ep, c) for ep, cases in EXPORTS.items() for c in cases]


# --- every list, both formats --------------------------------------------------------------------------------

def test_every_list_downloads_what_it_shows(client, session, demo, pages):
    """For each list: both formats parse back to the same Chinese headers and rows; the rows are
    every page of the filtered list (as many as the page counts, page one's in the page's order),
    and the filter leaves rows out where the demo has some to leave out."""
    checked = []
    for endpoint, case in _cases():
        _login(client, LOGINS[case.role])
        pages.clear()
        page = client.get(case.url)
        assert page.status_code == 200, (endpoint, case)
        body = html.unescape(page.get_data(as_text=True))
        suffix = f"-{case.list_name}" if case.list_name else ""
        assert f'data-testid="export-xlsx{suffix}"' in body and f'data-testid="export-csv{suffix}"' in body
        shown = [p for ep, p in pages if ep == endpoint]
        x_head, x_rows = download(client, case.url, "xlsx", case.list_name)
        c_head, c_rows = download(client, case.url, "csv", case.list_name)
        assert x_head == c_head, endpoint
        assert all(h == "#" or CJK.search(h) for h in c_head), (endpoint, c_head)
        assert len(x_rows) == len(c_rows) and x_rows, (endpoint, case.url)
        for x, c in zip(x_rows, c_rows, strict=True):
            assert all(_same(a, b) for a, b in zip(x, c, strict=True)), (endpoint, x, c)
        keys = [str(r[case.key]) for r in c_rows]
        if case.paged:
            assert len(shown) == 1
            assert len(c_rows) == shown[0].total, (endpoint, case.url)
            keys = keys[:shown[0].per_page]
        for k in keys[:100]:
            assert k in body, (endpoint, k)
        if case.narrows:
            _h, everything = download(client, case.wider or case.url.split("?")[0], "csv")
            assert len(everything) > len(c_rows), (endpoint, "the filter left nothing out")
        checked.append(endpoint)
    assert set(checked) == set(EXPORTS)



def test_every_download_arrives_whole_when_the_request_has_ended(demo, make_app):
    """Served as in production: the request's database session is closed when the view returns,
    while the .csv is still being streamed. Every export of every list, in both formats, arrives
    whole: the .xlsx opens, the .csv has its header and as many rows as the .xlsx. (The test
    client of the tests' own app shares the test's session, which never closes mid-stream.)"""
    served = make_app().test_client()
    checked = []
    for endpoint, case in _cases():
        _login(served, LOGINS[case.role])
        x_head, x_rows = download(served, case.url, "xlsx", case.list_name)
        resp = served.get(_with(case.url, format="csv", list=case.list_name))
        assert resp.status_code == 200 and resp.is_streamed, (endpoint, resp.status_code)
        table = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8")[1:])))
        assert table and table[0] == x_head, endpoint
        assert len(table) - 1 == len(x_rows) > 0, (endpoint, len(table) - 1, len(x_rows))
        checked.append(endpoint)
    assert set(checked) == set(EXPORTS)


def _same(x, c: str) -> bool:
    """An .xlsx cell (typed) and the .csv text of the same value."""
    if x is None:
        return c == ""
    if isinstance(x, dt.datetime):  # dates come back from .xlsx as midnight datetimes
        return c in (x.strftime("%Y-%m-%d %H:%M:%S"), x.date().isoformat())
    if isinstance(x, int | float):
        return float(c) == x
    return str(x) == c


# --- the rule that keeps EXPORTS whole ------------------------------------------------------------------------

# Paginated staff pages that are not lists of the district's records, with the reason.
NOT_RECORD_LISTS = {
    "reports.index": "the requester's own report files, each itself a download",
}


def test_every_officer_list_page_has_downloads(app, client, make_user, login, pages):
    """Any GET page without URL arguments whose access names officers or admins, and which
    paginates, is a list page: it must be in EXPORTS (which may also hold such pages that list
    without paginating, as the settings)."""
    login(make_user("officer", "admin"))
    staff = {Role.OFFICER, Role.ADMIN}
    lists, staff_pages = set(), set()
    for rule in app.url_map.iter_rules():
        allowed = endpoint_access(rule.endpoint)
        if "GET" not in rule.methods or rule.arguments or allowed is None or PUBLIC in allowed \
                or not staff & allowed:
            continue
        staff_pages.add(rule.endpoint)
        pages.clear()
        assert client.get(rule.rule).status_code < 500, rule.rule
        if any(ep == rule.endpoint for ep, _p in pages):
            lists.add(rule.endpoint)
    assert lists - set(EXPORTS) - set(NOT_RECORD_LISTS) == set(), \
        "list pages without downloads: add them to EXPORTS (core/exports.py)"
    assert set(EXPORTS) - staff_pages == set(), "EXPORTS names pages that are not officer or admin pages"


# --- scope, audit, refusals ----------------------------------------------------------------------------------

def test_a_town_officer_downloads_only_their_jurisdiction(client, make_user, make_area, district, town,
                                                          delivery):
    other_town = make_area("town", parent=district, name="别的镇")
    other_place = make_area("community", parent=other_town, name="别的村")
    town_officer = make_user("officer", jurisdiction=town)
    district_officer = make_user("officer")
    ours = delivery.contract(delivery.provider(), officer=town_officer)
    theirs = delivery.contract(delivery.provider(), officer=district_officer, venue=delivery.venue(other_place))
    for c in (ours, theirs):
        delivery.schedule(c, utcnow() + dt.timedelta(days=10))
    lists = ["/projects/manage", "/contracts", "/delivery/", "/review/projects"]

    def cells(user, url):
        _login(client, user.login, PASSWORD)
        _h, rows = download(client, url, "csv")
        return {str(v) for r in rows for v in r}

    for url in lists:
        mine = cells(town_officer, url)
        everyone = cells(district_officer, url)
        assert ours.number in mine or ours.project.reference in mine, url
        assert theirs.number not in mine and theirs.project.reference not in mine, url
        assert theirs.number in everyone or theirs.project.reference in everyone, url


def test_exports_of_data_that_matter_are_audited(client, session, login, make_user):
    admin, officer = make_user("admin"), make_user("officer")
    make_user("officer", name="审计对象")

    def events():
        return session.scalars(select(AuditEvent).where(AuditEvent.action.startswith("export."))
                               .order_by(AuditEvent.seq)).all()

    login(admin)
    _h, rows = download(client, "/admin/users?role=officer&q=%E5%AE%A1%E8%AE%A1", "csv")  # q=审计
    assert len(rows) == 1
    (ev,) = events()
    assert (ev.action, ev.actor_id) == ("export.users", admin.id)
    assert ev.summary["format"] == "csv" and ev.summary["rows"] == 1
    assert ev.summary["filters"] == {"role": "officer", "q": "审计"}
    for url in ("/admin/audit", "/admin/experts"):
        download(client, url, "xlsx")
    download(client, "/admin/areas", "xlsx")  # areas are not personal data: no event
    _login(client, officer.login, PASSWORD)
    download(client, "/providers/review?status=all", "csv")
    assert [(e.action, e.actor_id) for e in events()[1:]] == [
        ("export.audit-log", admin.id), ("export.experts", admin.id), ("export.providers", officer.id)]


@pytest.mark.parametrize("url", ["/admin/users?format=pdf", "/admin/users?format=", "/projects/export?format=doc",
                                 "/ratings/review?format=csv&list=nope"])
def test_a_bad_format_or_list_is_refused_with_a_message(client, session, login, make_user, url):
    login(make_user("officer", "admin"))
    resp = client.get(url)
    assert resp.status_code == 400
    text = html.unescape(resp.get_data(as_text=True))
    assert ("xlsx" in text and "csv" in text) or "nope" in text
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.startswith("export."))) == 0


def test_no_download_shows_a_sealed_bid(client, session, make_user, district, town):
    """A project open for bids, with a bid carrying a price and plan we look for: no officer or
    admin list download holds either (the projects list gives the count only)."""
    price, plan = "86421.37", "独特的服务方案：每周六下午在社区广场举办京剧票友会"
    market = Market(session, make_user, district, town)
    officer = market.officer()
    project = market.published(officer, budget="99000.00", quantity=100)
    market.bid(project, market.provider(), price=price, plan=plan)
    admin = make_user("admin")
    seen = ""
    for endpoint, case in _cases():
        user = admin if case.role == "admin" else officer
        client.post("/logout")
        assert client.post("/login", data={"login": user.login, "password": PASSWORD}).status_code == 302
        for fmt in ("csv", "xlsx"):
            head, rows = download(client, case.url.split("?")[0], fmt, case.list_name)
            text = " ".join(str(v) for r in [head, *rows] for v in r)
            assert price not in text and "86421" not in text and plan[:8] not in text, endpoint
            seen += text
    assert project.reference in seen


def test_times_are_local_and_money_a_number(client, session, login, make_user, delivery):
    admin = make_user("admin")
    someone = make_user("officer", name="时区测试")
    someone.created_at = dt.datetime(2026, 1, 1, 16, 30, tzinfo=dt.UTC)  # 00:30 the next day in Beijing
    contract = delivery.contract(delivery.provider(), sessions=4)
    session.flush()
    login(admin)
    url = "/admin/users?q=%E6%97%B6%E5%8C%BA"  # q=时区
    head, (row,) = download(client, url, "csv")
    _h, (xrow,) = download(client, url, "xlsx")
    col = head.index("创建时间")
    assert row[col] == "2026-01-02 00:30:00"
    assert xrow[col] == dt.datetime(2026, 1, 2, 0, 30) == to_local(someone.created_at).replace(tzinfo=None)
    head, rows = download(client, "/contracts", "xlsx")
    (mine,) = [r for r in rows if r[0] == contract.number]
    amount = mine[head.index("金额")]
    assert isinstance(amount, int | float) and amount == float(contract.amount)


def test_cells_that_look_like_formulas_are_written_as_text(client, session, login, make_user, district):
    from core.areas.models import Venue, VenueKind

    session.add(Venue(name="=HYPERLINK(\"http://x\")", kind=VenueKind.CULTURAL_ROOM, area=district))
    session.flush()
    login(make_user("admin"))
    for fmt in ("csv", "xlsx"):
        _h, rows = download(client, "/admin/venues?q=HYPERLINK", fmt)
        assert rows[0][0].startswith("'=")


def test_a_large_list_is_read_in_batches_without_a_query_per_row(app, client, session, login, make_user,
                                                                 delivery):
    """The sessions download reads item, venue, provider and contract of every row (each session
    here has its own): the number of statements does not grow with the rows, and the .csv streams."""
    from sqlalchemy import event

    from core.db import db

    officer = make_user("officer")
    login(officer)
    start = utcnow() + dt.timedelta(days=5)

    def add_sessions(n):
        for _k in range(n):
            delivery.schedule(delivery.contract(delivery.provider(), officer=officer, sessions=1), start)

    def statements():
        seen = []

        def count(*_a, **_kw):
            seen.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            resp = client.get("/delivery/?format=csv")
            assert resp.is_streamed
            body = resp.get_data(as_text=True)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen), body.count("\n") - 1

    add_sessions(2)
    few, rows_few = statements()
    add_sessions(10)
    many, rows_many = statements()
    assert (rows_few, rows_many) == (2, 12)
    assert many == few
