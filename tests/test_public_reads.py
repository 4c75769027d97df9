"""What the public reads matches what the code does, in both languages; the calls to action on a
project open for bids; the open-data page and its bulk downloads; English names and units."""

from __future__ import annotations

import datetime as dt
import json
import re

from sqlalchemy import delete

from core import cache
from core.db import utcnow
from core.holidays.models import Holiday
from evaluation.review import operations as review
from evaluation.review.models import QualificationCheck
from tests.support import review as es
from tests.support.pages import html_text

NUMERALS = "一二三四五六七八九十"


def _english(client):
    client.set_cookie("lang", "en")


# --- the scoring-method page -----------------------------------------------------------------------

def test_the_model_page_says_punctuality_decays_and_grades_include_their_bound(client):
    text = html_text(client.get("/performance/model"))
    assert "按时报送" in text and "同样随时间衰减" in text
    # 以上/以下 include the number in Chinese: 60 is a C, and D is "below 60".
    assert "60 分及以上为 C" in text and "90 分及以上为 A" in text and "低于 60 分为 D" in text
    assert "60 分以下" not in text
    _english(client)
    text = html_text(client.get("/performance/model"))
    assert "with the same time decay" in text and "C from 60, D under 60" in text


# --- the review report's sections --------------------------------------------------------------------

def _section_numbers(body: str) -> list[int]:
    heads = re.findall(r"<h2[^>]*>\s*([一二三四五六七八九十]+)、", body)
    return [NUMERALS.index(h) + 1 if len(h) == 1 else 10 for h in heads]


def test_the_report_numbers_its_sections_without_a_gap_when_there_are_no_qualification_checks(
        client, session, make_user, town, login):
    world = es.reviewed_project(session, make_user, town)
    project, panel = world["project"], world["panel"]
    login(world["officer"])
    with_checks = client.get(f"/review/projects/{project.id}/report").get_data(as_text=True)
    assert _section_numbers(with_checks) == list(range(1, 10)) and "五、各评分项得分" in with_checks
    session.execute(delete(QualificationCheck).where(QualificationCheck.panel_id == panel.id))
    session.flush()
    session.expire_all()
    # The app never changes checks once the review is computed (the report's kept body relies on it):
    # this deletion behind its back also forgets the kept body.
    cache.clear()
    body = client.get(f"/review/projects/{project.id}/report").get_data(as_text=True)
    assert _section_numbers(body) == list(range(1, 9))
    assert "四、各评分项得分" in body and "八、标注的评分" in body and "资格审查" not in body


# --- calendar gaps on the award and challenge pages ---------------------------------------------------

def test_officers_see_that_a_year_is_not_covered_until_its_holidays_are_entered(client, session, make_user, town,
                                                                                 login):
    world = es.reviewed_project(session, make_user, town)
    project = world["project"]
    top = world["result"].top
    award = review.award_project(project, top.bid, "", world["officer"],
                                 now=dt.datetime(2099, 12, 24, 2, 0, tzinfo=dt.UTC))
    session.flush()
    url = f"/projects/{project.id}/award"
    assert 'data-testid="calendar-gap"' not in client.get(url).get_data(as_text=True)  # the public: not theirs
    login(world["officer"])
    body = client.get(url).get_data(as_text=True)
    assert body.count('data-testid="calendar-gap"') == 2  # 2099 and 2100, where the window ends
    assert "2099" in html_text(client.get(url)) and award.challenge_deadline.year == 2100
    session.add_all([Holiday(day=dt.date(2099, 12, 25), is_workday=False, name="测试假日"),
                     Holiday(day=dt.date(2100, 1, 1), is_workday=False, name="元旦")])
    session.flush()
    assert 'data-testid="calendar-gap"' not in client.get(url).get_data(as_text=True)


# --- settings in words --------------------------------------------------------------------------------

def test_settings_show_yes_or_no_in_words(client, make_user, login):
    login(make_user("admin"))
    body = client.get("/admin/settings").get_data(as_text=True)
    assert ">True<" not in body and ">False<" not in body
    row = next(r for r in body.split("<tr>") if "evaluation.trim_extremes" in r)
    assert "<td>是</td>" in row
    form = client.get("/admin/settings/evaluation.trim_extremes").get_data(as_text=True)
    assert 'value="是"' in form and "True" not in html_text(client.get("/admin/settings/evaluation.trim_extremes"))
    _english(client)
    row = next(r for r in client.get("/admin/settings").get_data(as_text=True).split("<tr>")
               if "evaluation.trim_extremes" in r)
    assert "<td>Yes</td>" in row


def test_a_yes_no_setting_takes_the_word_back(session, make_user):
    from core import settings

    admin = make_user("admin")
    settings.change("evaluation.trim_extremes", "否", admin)
    assert settings.get("evaluation.trim_extremes") is False
    settings.change("evaluation.trim_extremes", "是", admin)
    assert settings.get("evaluation.trim_extremes") is True
    settings.change("evaluation.trim_extremes", "No", admin)
    assert settings.get("evaluation.trim_extremes") is False


# --- calls to action ----------------------------------------------------------------------------------

def test_a_project_open_for_bids_says_how_to_bid(client, market, login):
    project = market.published()
    for url in (f"/projects/{project.id}", f"/portal/projects/{project.id}"):
        body = client.get(url).get_data(as_text=True)
        assert 'data-testid="how-to-bid"' in body, url
        assert 'href="/providers/register"' in body and 'data-testid="cta-login"' in body
        assert "/login?next=" in body and f"/projects/{project.id}#clarifications" in body
    # A signed-in provider gets the bid button itself, not the invitation.
    login(market.provider().user)
    body = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert 'data-testid="how-to-bid"' not in body and 'data-testid="bid-link"' in body


def test_a_closed_project_does_not_invite_bids(client, market):
    project = market.open_project(deadline=utcnow() - dt.timedelta(hours=1))
    assert 'data-testid="how-to-bid"' not in client.get(f"/projects/{project.id}").get_data(as_text=True)


# --- open data ----------------------------------------------------------------------------------------

def test_the_portal_links_the_open_data_page_with_example_calls(client):
    assert 'href="/opendata/"' in client.get("/portal").get_data(as_text=True)
    body = client.get("/opendata/").get_data(as_text=True)
    text = html_text(client.get("/opendata/"))
    assert "curl" in text and "/api/v1/ocds/releases" in text and "/api/v1/ocds/records?ocid=" in text
    assert 'href="/opendata/releases.json"' in body and 'href="/opendata/records.json"' in body
    _english(client)
    assert "Bulk downloads" in html_text(client.get("/opendata/"))


def test_the_bulk_downloads_hold_every_release_and_record(client, market):
    from tests.test_ocds import problems

    project = market.published()
    market.open_project(deadline=utcnow() - dt.timedelta(hours=1))
    resp = client.get("/opendata/releases.json")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    package = json.loads(resp.get_data(as_text=True))
    assert problems(package, "release-package-schema.json") == []
    paged = client.get("/api/v1/ocds/releases?per_page=100").get_json()["releases"]
    assert package["releases"] == paged and len(paged) >= 2
    records = json.loads(client.get("/opendata/records.json").get_data(as_text=True))
    assert problems(records, "record-package-schema.json") == []
    assert {r["ocid"] for r in records["records"]} == {r["ocid"] for r in paged}
    assert any(r["ocid"].endswith(f"-{project.id}") for r in records["records"])


# --- English names and units --------------------------------------------------------------------------

def test_the_english_ui_shows_english_names_and_units(client, session):
    from catalog.items.models import Category, Item, ItemStatus

    cat = Category(code="T-EN", name="文艺演出", name_en="Performances")
    item = Item(code="T-EN-1", category=cat, name="戏曲进社区", name_en="Opera in the community", unit="场",
                price_ceiling=8000, status=ItemStatus.ACTIVE, levels=["community"], target_groups=["general"])
    session.add_all([cat, item])
    session.flush()
    zh = html_text(client.get("/catalog/items/T-EN-1"))
    assert "戏曲进社区" in zh and "/ 场" in zh
    _english(client)
    en = html_text(client.get("/catalog/items/T-EN-1"))
    assert "Opera in the community" in en and "Performances" in en and "/ session" in en
    assert "戏曲进社区" not in en and "文艺演出" not in en
