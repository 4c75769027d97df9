"""The public portal, read as an anonymous visitor: every page, search and pages of results,
sealed bids kept sealed, the stored score breakdown, hidden comments and residents' identities
kept out, and a fixed number of SQL statements per list page whatever the number of rows."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from catalog.items.models import ItemStatus
from core import cache
from core.db import utcnow
from core.views_util import PER_PAGE
from evaluation.adjustment.models import AdjustmentDecision, DecisionAction, DecisionStatus
from evaluation.feedback import operations as ratings
from evaluation.feedback.models import Rating
from evaluation.portal.views import RECENT
from evaluation.review import operations as review
from evaluation.review.models import MemberStatus, ReviewResult
from marketplace.awards.models import Award
from marketplace.bids.models import Bid, BidOpening, BidStatus
from marketplace.projects.models import ProjectLine, ProjectMethod, ProjectState, PurchaseProject
from marketplace.providers.models import ProviderStatus
from tests.support import review as es
from tests.support.delivery import Delivery
from tests.support.market import Market
from tests.support.pages import html_text
from tests.support.statements import request_statements

LIST_PAGES = ["/portal", "/portal/projects", "/portal/results", "/portal/providers", "/portal/ratings",
              "/portal/ratings/providers", "/portal/adjustments"]


# What marks one row of each list page.
ROW_MARK = {"/portal": "recent-result", "/portal/projects": "portal-project", "/portal/results": "portal-result",
            "/portal/providers": "portal-provider", "/portal/ratings": "rating-summary",
            "/portal/ratings/providers": "rating-summary", "/portal/adjustments": "portal-adjustment"}


def cents(v) -> Decimal:
    return Decimal(str(v)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def opening_record(session, r):
    """The opening record of a project reviewed by tests/support/review.py (which sets the opening time only)."""
    p = r["project"]
    session.add(BidOpening(project_id=p.id, opened_at=p.opened_at, opened_by_id=r["officer"].id,
                           bid_count=len(r["bids"]),
                           entries=[{"bid_id": b.id, "provider_id": b.provider_id, "provider_name": b.provider.name,
                                     "price": str(b.price), "submitted_at": b.submitted_at.isoformat(),
                                     "content_hash": "0" * 64} for b in r["bids"]]))
    session.flush()


@pytest.fixture
def world(session, make_user, district, town, community):
    """A sealed project with a bid; an awarded, reviewed project; rated sessions (one comment
    hidden, one with markup); adjustments in force and not."""
    m = Market(session, make_user, district, town)
    sealed = m.published(title="密封期的社区演出")
    sealed_bidder = m.provider()
    sealed_bidder.name = "密封投标人甲"
    m.bid(sealed, sealed_bidder, price="8765.00")

    r = es.reviewed_project(session, make_user, town)
    opening_record(session, r)
    award = review.award_project(r["project"], r["bids"][0], "", r["officer"])
    winner = r["providers"][0]

    d = Delivery(session, make_user, district, town, community)
    officer = d.officer(jurisdiction=district)
    contract = d.contract(winner, officer=officer, sessions=3)
    when = utcnow().replace(microsecond=0) - dt.timedelta(days=1)
    s = d.schedule(contract, when)
    d.report(s, attendance=40)
    residents = [make_user("resident", name=f"居民王{i}号") for i in range(4)]
    given = [({"content": 5, "organisation": 4, "venue": 3}, "演出很好"),
             ({"content": 4, "organisation": 4, "venue": 4}, "<script>alert(1)</script>好"),
             ({"content": 2, "organisation": 3, "venue": 5}, "不该公开的粗话"),
             ({"content": 3, "organisation": 5, "venue": 4}, "")]
    made = [ratings.rate(s, res, stars, comment, now=when + dt.timedelta(hours=4), attendance_code=s.attendance_code)[0]
            for res, (stars, comment) in zip(residents, given, strict=True)]
    ratings.hide_comment(made[2], "不文明用语", officer)

    suspended = d.provider()
    suspended.status, suspended.suspended_until = ProviderStatus.SUSPENDED, utcnow() + dt.timedelta(days=100)
    now = utcnow()
    in_force = AdjustmentDecision(rule="provider_grade_d", rule_version="2026.1", action=DecisionAction.SUSPEND,
                                  provider_id=suspended.id, figures={"score": "55.00", "grade": "D", "months": 6},
                                  proposed_at=now - dt.timedelta(days=20), due_at=now - dt.timedelta(days=6),
                                  status=DecisionStatus.CONFIRMED, decided_at=now - dt.timedelta(days=10),
                                  effective_until=suspended.suspended_until)
    proposed_for = d.provider()
    proposed = AdjustmentDecision(rule="provider_grade_d", rule_version="2026.1", action=DecisionAction.SUSPEND,
                                  provider_id=proposed_for.id, figures={"score": "50.00", "grade": "D"},
                                  proposed_at=now, due_at=now + dt.timedelta(days=14))
    watched = d.item(status=ItemStatus.WATCH)
    watch = AdjustmentDecision(rule="item_low_satisfaction", rule_version="2026.1", action=DecisionAction.WATCH,
                               item_id=watched.id, figures={"satisfaction": "3.10", "rating_count": 40,
                                                            "threshold": "3.5"},
                               proposed_at=now - dt.timedelta(days=30), due_at=now - dt.timedelta(days=16),
                               status=DecisionStatus.AUTO_APPLIED, decided_at=now - dt.timedelta(days=16))
    session.add_all([in_force, proposed, watch])
    # Committed (a savepoint in tests): a request answered 404 rolls back only its own work.
    session.commit()
    return {"sealed": sealed, "sealed_bidder": sealed_bidder, "reviewed": r, "award": award, "winner": winner,
            "item": contract.lines[0].item, "residents": residents, "given": given, "ratings": made,
            "suspended": suspended, "proposed_for": proposed_for, "watched": watched, "officer": officer}


def test_every_portal_page_answers_an_anonymous_visitor(client, world):
    w = world
    pid = w["reviewed"]["project"].id
    pages = [*LIST_PAGES, f"/portal/projects/{w['sealed'].id}", f"/portal/projects/{pid}",
             f"/portal/projects/{pid}/result", f"/portal/providers/{w['winner'].id}",
             f"/portal/ratings/items/{w['item'].id}"]
    for url in pages:
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert 'data-testid="portal-nav"' in resp.get_data(as_text=True), url


def test_the_anonymous_landing_is_the_portal_home_and_signed_in_users_keep_theirs(client, world, make_user, login):
    home = client.get("/").get_data(as_text=True)
    assert 'data-testid="headline"' in home
    assert world["reviewed"]["project"].title in html_text(client.get("/"))
    # Registration stays reachable from the landing page.
    assert 'href="/providers/register"' in home
    login(make_user("officer"))
    assert 'data-testid="headline"' not in client.get("/").get_data(as_text=True)


def test_headline_figures_count_what_is_stored(client, world, session):
    from sqlalchemy import func

    text = client.get("/portal").get_data(as_text=True)
    awarded = session.scalar(select(func.count()).select_from(Award).where(Award.status == "published"))
    assert f'data-testid="figure-awarded">{awarded}<' in text
    open_now = session.scalar(select(func.count()).select_from(PurchaseProject).where(
        PurchaseProject.state_is(ProjectState.PUBLISHED)))
    assert f'data-testid="figure-open">{open_now}<' in text
    assert open_now >= 1 and awarded >= 1


# --- sealed bids --------------------------------------------------------------------------------

def test_a_sealed_project_shows_nothing_about_its_bids(client, world, session):
    w = world
    p = w["sealed"]
    assert session.scalar(select(Bid).where(Bid.project_id == p.id)) is not None  # there is a bid to hide
    resp = client.get(f"/portal/projects/{p.id}")
    body = resp.get_data(as_text=True)
    assert 'data-testid="sealed"' in body
    assert 'data-testid="opening-link"' not in body and 'data-testid="result-link"' not in body
    assert client.get(f"/portal/projects/{p.id}/result").status_code == 404
    # The bidder is in the provider directory like any approved provider, but no page ties it to
    # the project, and its price appears nowhere.
    about_projects = ["/portal", "/portal/projects", "/portal/results", f"/portal/projects/{p.id}"]
    for url, query in [(u, {}) for u in about_projects] + [
            ("/portal/projects", {"q": p.title}), ("/portal/results", {"q": w["sealed_bidder"].name})]:
        assert w["sealed_bidder"].name not in html_text(client.get(url, query_string=query)), url
    for url in [*LIST_PAGES, f"/portal/projects/{p.id}", f"/portal/providers/{w['sealed_bidder'].id}"]:
        text = client.get(url).get_data(as_text=True)
        assert "8,765" not in text and "8765" not in text, url
    assert p.title not in html_text(client.get(f"/portal/providers/{w['sealed_bidder'].id}"))
    # Searching by the bidder's name finds nothing about the project either.
    assert p.title not in html_text(client.get("/portal/results", query_string={"q": w["sealed_bidder"].name}))


def test_drafts_are_not_public(client, session, make_user, district, town):
    draft = Market(session, make_user, district, town).draft(title="草稿中的项目")
    assert client.get(f"/portal/projects/{draft.id}").status_code == 404
    assert "草稿中的项目" not in html_text(client.get("/portal/projects", query_string={"q": "草稿"}))


def test_a_reviewed_project_shows_no_scores_before_the_award(client, session, make_user, town):
    r = es.reviewed_project(session, make_user, town)
    opening_record(session, r)
    session.commit()
    pid = r["project"].id
    assert client.get(f"/portal/projects/{pid}/result").status_code == 404
    body = client.get(f"/portal/projects/{pid}").get_data(as_text=True)
    assert 'data-testid="opening-link"' in body  # the opening record is public
    assert 'data-testid="result-link"' not in body
    assert r["panel"].members[0].expert.name not in body


# --- the score breakdown --------------------------------------------------------------------------

def _row_cells(html: str, rank: int) -> dict[str, str]:
    import re

    row = re.search(rf'<tr data-testid="ranked-bid" data-rank="{rank}">(.*?)</tr>', html, re.S).group(1)
    cells = dict(re.findall(r'<td[^>]*data-col="([^"]+)"[^>]*>(.*?)</td>', row, re.S))
    return {k: re.sub(r"<[^>]+>", " ", v).split()[0] if k != "provider" else re.sub(r"<[^>]+>", "", v).strip()
            for k, v in cells.items()}


def test_the_result_page_shows_the_stored_numbers(client, world, session):
    project = world["reviewed"]["project"]
    stored = session.scalar(select(ReviewResult).where(ReviewResult.project_id == project.id))
    html = client.get(f"/portal/projects/{project.id}/result").get_data(as_text=True)
    assert len(stored.ranked) == 3
    for b in stored.ranked:
        cells = _row_cells(html, b.rank)
        assert cells["provider"] == b.provider_name
        assert cells["price_points"] == str(b.price_points)
        assert cells["performance_points"] == str(b.performance_points)
        assert cells["total"] == str(b.total)
        for ln in b.lines:
            assert cells[f"criterion-{ln.criterion_id}"] == str(ln.mean)
    # The ranking is the stored one: rank 1 is the awarded bid here.
    assert _row_cells(html, 1)["provider"] == world["award"].provider.name
    # Each expert's score is published with the result, as the review report publishes it.
    seated = [m for m in stored.panel.members if m.status != MemberStatus.RECUSED]
    text = html_text(client.get(f"/portal/projects/{project.id}/result"))
    for m in seated:
        assert m.expert.name in text
    for ln in stored.ranked[0].lines:
        for score in ln.scores.values():
            assert score in text


def test_the_project_page_links_its_records_once_published(client, world):
    pid = world["reviewed"]["project"].id
    body = client.get(f"/portal/projects/{pid}").get_data(as_text=True)
    for link in (f"/projects/{pid}/opening", f"/portal/projects/{pid}/result", f"/projects/{pid}/award",
                 f"/review/projects/{pid}/report"):
        assert f'href="{link}"' in body, link


# --- search and pages ---------------------------------------------------------------------------

def test_projects_search_by_title_item_area_and_reference_and_filter_by_state(client, world, session):
    sealed, reviewed = world["sealed"], world["reviewed"]["project"]
    item = session.scalar(select(ProjectLine).where(ProjectLine.project_id == sealed.id)).item

    def titles(**q):
        return html_text(client.get("/portal/projects", query_string=q))

    assert sealed.title in titles(q="密封期") and reviewed.title not in titles(q="密封期")
    assert sealed.title in titles(q=item.name) and reviewed.title not in titles(q=item.name)
    assert reviewed.title in titles(q=reviewed.area.name)
    assert reviewed.title in titles(q=reviewed.reference) and sealed.title not in titles(q=reviewed.reference)
    assert sealed.title in titles(state="published") and reviewed.title not in titles(state="published")
    assert reviewed.title in titles(state="awarded") and sealed.title not in titles(state="awarded")
    assert sealed.title not in titles(q="%")  # a LIKE wildcard is searched for literally


def test_results_search_by_provider_and_project(client, world):
    title = world["reviewed"]["project"].title
    assert title in html_text(client.get("/portal/results", query_string={"q": world["winner"].name}))
    assert title not in html_text(client.get("/portal/results", query_string={"q": "没有这个承接主体"}))
    assert title in html_text(client.get("/portal/results", query_string={"q": title}))


def test_the_provider_directory_searches_and_pages(client, session, make_user, district, town):
    m = Market(session, make_user, district, town)
    made = [m.provider() for _ in range(PER_PAGE + 3)]
    for i, p in enumerate(made):
        p.name = f"目录测试团{i:03d}"
    pending = m.provider(status=ProviderStatus.PENDING)
    session.commit()
    first = html_text(client.get("/portal/providers", query_string={"q": "目录测试团"}))
    second = html_text(client.get("/portal/providers", query_string={"q": "目录测试团", "page": 2}))
    on_first = [p.name for p in made if p.name in first]
    on_second = [p.name for p in made if p.name in second]
    assert len(on_first) == PER_PAGE and len(on_second) == 3 and not set(on_first) & set(on_second)
    assert pending.name not in html_text(client.get("/portal/providers", query_string={"q": pending.name}))
    assert client.get(f"/portal/providers/{pending.id}").status_code == 404
    by_code = html_text(client.get("/portal/providers", query_string={"q": made[5].credit_code.lower()}))
    assert made[5].name in by_code and made[6].name not in by_code
    # No ratings: said in words, never a zero.
    assert "暂无评价" in by_code and "0/5" not in by_code


def test_a_provider_profile_shows_grade_ratings_and_projects_won(client, world, session):
    w = world
    html = client.get(f"/portal/providers/{w['winner'].id}").get_data(as_text=True)
    text = html_text(client.get(f"/portal/providers/{w['winner'].id}"))
    won = session.scalars(select(Award).where(Award.provider_id == w["winner"].id,
                                              Award.status == "published")).all()
    assert f'data-testid="won">{len(won)}<' in html
    assert w["reviewed"]["project"].title in text
    counted = [stars for stars, _c in w["given"]]
    assert f'data-testid="rating-count">{len(counted)}<' in html
    assert f'data-dimension="content">{cents(sum(s["content"] for s in counted) / Decimal(len(counted)))}<' in html
    assert "演出很好" in text


def test_a_provider_without_history_has_no_ratings_yet(client, world):
    html = client.get(f"/portal/providers/{world['suspended'].id}").get_data(as_text=True)
    assert 'data-testid="no-ratings"' in html
    assert 'data-testid="satisfaction">' in html and ">0/5" not in html and "0.00/5" not in html


# --- ratings and comments ------------------------------------------------------------------------

def test_item_rating_summary_averages_each_dimension(client, world):
    w = world
    html = client.get(f"/portal/ratings/items/{w['item'].id}").get_data(as_text=True)
    stars = [s for s, _c in w["given"]]
    for dim in ratings.DIMENSIONS:
        expected = cents(sum(s[dim] for s in stars) / Decimal(len(stars)))
        assert f'data-dimension="{dim}">{expected}<' in html, dim
    listing = html_text(client.get("/portal/ratings", query_string={"q": w["item"].code}))
    assert w["item"].name in listing
    assert w["winner"].name in html_text(client.get("/portal/ratings/providers",
                                                    query_string={"q": w["winner"].name}))


def test_hidden_comments_are_not_shown_and_comments_are_escaped(client, world):
    w = world
    for url in (f"/portal/ratings/items/{w['item'].id}", f"/portal/providers/{w['winner'].id}"):
        body = client.get(url).get_data(as_text=True)
        assert "不该公开的粗话" not in body, url
        assert "<script>alert(1)</script>" not in body, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;好" in body, url


def test_no_resident_is_ever_named(client, world):
    w = world
    urls = [*LIST_PAGES, f"/portal/providers/{w['winner'].id}", f"/portal/ratings/items/{w['item'].id}",
            f"/portal/projects/{w['reviewed']['project'].id}/result"]
    for url in urls:
        body = client.get(url).get_data(as_text=True)
        for resident in w["residents"]:
            assert resident.name not in body, url
            assert resident.login not in body, url


# --- adjustments ----------------------------------------------------------------------------------

def test_adjustments_in_force_with_rule_version_and_explanation(client, world):
    w = world
    text = html_text(client.get("/portal/adjustments"))
    assert w["suspended"].name in text and w["watched"].name in text
    assert w["proposed_for"].name not in text  # proposed: not in force
    assert "provider_grade_d" in text and "2026.1" in text
    assert "55.00" in text  # the explanation is written from the decision's figures
    only_watch = html_text(client.get("/portal/adjustments", query_string={"action": "watch"}))
    assert w["watched"].name in only_watch and w["suspended"].name not in only_watch
    by_name = html_text(client.get("/portal/adjustments", query_string={"q": w["suspended"].name}))
    assert w["suspended"].name in by_name and w["watched"].name not in by_name


def test_a_suspension_that_has_run_out_is_no_longer_in_force(client, world, session):
    d = session.scalar(select(AdjustmentDecision).where(AdjustmentDecision.provider_id == world["suspended"].id))
    d.effective_until = utcnow() - dt.timedelta(days=1)
    session.commit()
    assert world["suspended"].name not in html_text(client.get("/portal/adjustments"))


# --- bounded queries ------------------------------------------------------------------------------

def statements_for(client, url: str) -> int:
    """Statements of a request that computes its figures (the figure cache emptied first)."""
    cache.clear()
    return len(request_statements(client, url)[1])


class Rows:
    """Rows for every portal list: projects, awards, providers, rated items and providers, decisions."""

    def __init__(self, session, make_user, district, town, community):
        self.session, self.make_user = session, make_user
        self.d = Delivery(session, make_user, district, town, community)
        self.officer = self.d.officer(jurisdiction=district)
        contract = self.d.contract(self.d.provider(), officer=self.officer, sessions=1)
        self.rated = self.d.schedule(contract, utcnow().replace(microsecond=0) - dt.timedelta(days=1))
        self.d.report(self.rated)

    def add(self):
        now = utcnow()
        provider, item, venue = self.d.provider(), self.d.item(status=ItemStatus.WATCH), self.d.venue()
        project = PurchaseProject(
            title="计数项目", area=self.officer.jurisdiction, method=ProjectMethod.OPEN_TENDER, budget=Decimal("900"),
            created_by=self.officer, state=ProjectState.AWARDED, published_at=now - dt.timedelta(days=30),
            bid_deadline=now - dt.timedelta(days=20), opened_at=now - dt.timedelta(days=19),
            awarded_at=now - dt.timedelta(days=10),
            lines=[ProjectLine(item=item, venue=venue, quantity=1, unit_ceiling=item.price_ceiling)])
        open_project = PurchaseProject(
            title="计数投标中", area=self.officer.jurisdiction, method=ProjectMethod.OPEN_TENDER,
            budget=Decimal("900"), created_by=self.officer, state=ProjectState.PUBLISHED,
            published_at=now - dt.timedelta(days=1), bid_deadline=now + dt.timedelta(days=20),
            lines=[ProjectLine(item=item, venue=venue, quantity=1, unit_ceiling=item.price_ceiling)])
        self.session.add_all([project, open_project])
        self.session.flush()
        bid = Bid(project_id=project.id, provider_id=provider.id, status=BidStatus.SUBMITTED, price=Decimal("800"))
        self.session.add(bid)
        self.session.flush()
        self.session.add(Award(project_id=project.id, bid_id=bid.id, provider_id=provider.id, amount=bid.price,
                               top_bid_id=bid.id, awarded_by_id=self.officer.id, published_at=now,
                               publicity_ends_at=now + dt.timedelta(days=1),
                               challenge_deadline=now + dt.timedelta(days=9)))
        resident = self.make_user("resident")
        self.session.add(Rating(session_id=self.rated.id, provider_id=provider.id, item_id=item.id,
                                resident_id=resident.id, content=4, organisation=5, venue=3, comment="好"))
        self.session.add(AdjustmentDecision(
            rule="item_low_satisfaction", rule_version="2026.1", action=DecisionAction.WATCH, item_id=item.id,
            figures={}, proposed_at=now, due_at=now, status=DecisionStatus.CONFIRMED, decided_at=now))
        self.session.flush()


@pytest.mark.parametrize("url", LIST_PAGES)
def test_list_pages_run_as_many_statements_for_ten_rows_as_for_two(client, session, make_user, district, town,
                                                                   community, url):
    rows = Rows(session, make_user, district, town, community)
    for _ in range(2):
        rows.add()
    session.commit()  # the tables' data versions are raised here, not by the measured request
    statements_for(client, url)  # warm: settings and caches filled once
    with_two = statements_for(client, url)
    for _ in range(8):
        rows.add()
    session.commit()
    with_ten = statements_for(client, url)
    assert with_two == with_ten, (url, with_two, with_ten)
    cache.clear()
    shown = client.get(url).get_data(as_text=True).count(f'data-testid="{ROW_MARK[url]}"')
    assert shown >= (RECENT if url == "/portal" else 10), (url, shown)


def test_comments_come_a_page_at_a_time(client, session, make_user, district, town, community):
    rows = Rows(session, make_user, district, town, community)
    provider, item = rows.d.provider(), rows.d.item()
    for i in range(PER_PAGE + 2):
        session.add(Rating(session_id=rows.rated.id, provider_id=provider.id, item_id=item.id,
                           resident_id=make_user("resident").id, content=4, organisation=4, venue=4,
                           comment=f"第{i:02d}条留言", created_at=utcnow() - dt.timedelta(minutes=i)))
    session.commit()
    for url in (f"/portal/ratings/items/{item.id}", f"/portal/providers/{provider.id}"):
        first = client.get(url).get_data(as_text=True)
        second = client.get(url, query_string={"page": 2}).get_data(as_text=True)
        assert first.count('data-testid="comment"') == PER_PAGE and second.count('data-testid="comment"') == 2
        assert "第00条留言" in first and "第21条留言" in second and "第21条留言" not in first
        assert f'data-testid="rating-count">{PER_PAGE + 2}<' in first  # the summary counts them all


def test_rating_summaries_are_summed_once_per_cache_time_and_exact(client, session, make_user, district, town,
                                                                     community):
    """The summaries count every rating: they are reused for dashboards.cache_seconds, then summed anew."""
    import time_machine

    rows = Rows(session, make_user, district, town, community)
    rows.add()
    session.commit()
    start = utcnow()
    with time_machine.travel(start, tick=False):
        first = client.get("/portal/ratings").get_data(as_text=True)
        assert 'data-testid="figures-as-of"' in first
        # 4, 5 and 3 stars: the means per dimension and overall (4.00), from exact integer sums.
        assert "4.00" in first and "5.00" in first and "3.00" in first
        provider, item = rows.d.provider(), rows.d.item()
        session.add(Rating(session_id=rows.rated.id, provider_id=provider.id, item_id=item.id,
                           resident_id=make_user("resident").id, content=1, organisation=1, venue=1))
        session.commit()
        again = BeautifulSoup(client.get("/portal/ratings").get_data(as_text=True), "html.parser")
        assert len(again.select("[data-testid=rating-summary]")) == 1  # the new item's rating not yet summed
    with time_machine.travel(start + dt.timedelta(seconds=cache.seconds() + 1), tick=False):
        later = BeautifulSoup(client.get("/portal/ratings").get_data(as_text=True), "html.parser")
        assert len(later.select("[data-testid=rating-summary]")) == 2


def test_a_page_of_ranked_ids_behaves_as_a_page_of_rows(app):
    from werkzeug.exceptions import NotFound

    from core.views_util import ListPage

    keys = list(range(1, PER_PAGE * 2 + 4))
    with app.test_request_context("/portal/ratings?page=2&q=x"):
        page = ListPage(keys, lambda ids: [f"row {i}" for i in ids])
        assert (page.page, page.pages, page.total) == (2, 3, len(keys))
        assert page.items[0] == f"row {PER_PAGE + 1}" and len(page.items) == PER_PAGE
        assert page.has_prev and page.has_next and page.url_args(3) == {"page": 3, "q": "x"}
    with app.test_request_context("/portal/ratings?page=3"):
        last = ListPage(keys)
        assert last.items == keys[PER_PAGE * 2:] and not last.has_next
    with app.test_request_context("/portal/ratings"):
        empty = ListPage([])
        assert (empty.pages, empty.items, empty.has_next) == (1, [], False)
    for bad in ("-1", "100001"):
        with app.test_request_context(f"/portal/ratings?page={bad}"), pytest.raises(NotFound):
            ListPage(keys)
