"""The projects API: public list and detail with filters, the provider's own bid, the opening."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from core.db import utcnow
from marketplace.bids import operations as bid_ops
from marketplace.projects import operations as project_ops

pytestmark = pytest.mark.usefixtures("english")


def test_public_list_filters_and_pages(market, client, make_area, district):
    officer = market.officer()
    a = market.published(officer, title="秦腔演出")
    b = market.published(officer, title="书法培训", method="inquiry")
    market.draft(officer, title="草稿项目")
    town_officer = market.officer(market.town)
    c = market.published(town_officer, title="镇里的演出")
    items = client.get("/api/v1/projects").get_json()
    titles = {p["title"] for p in items["items"]}
    assert {"秦腔演出", "书法培训", "镇里的演出"} <= titles and "草稿项目" not in titles
    assert items["total"] == 3
    assert [p["id"] for p in client.get("/api/v1/projects?method=inquiry").get_json()["items"]] == [b.id]
    assert [p["id"] for p in client.get("/api/v1/projects?q=秦腔").get_json()["items"]] == [a.id]
    assert [p["id"] for p in client.get(f"/api/v1/projects?area={market.town.id}").get_json()["items"]] == [c.id]
    page = client.get("/api/v1/projects?per_page=2&page=2").get_json()
    assert page["pages"] == 2 and len(page["items"]) == 1
    for bad in ("state=draft", "method=auction", "per_page=1000", "page=0", "area=x"):
        resp = client.get(f"/api/v1/projects?{bad}")
        assert resp.status_code == 422, bad
        assert resp.get_json()["error"]["fields"]


def test_public_detail_has_lines_and_criteria(market, client):
    project = market.published()
    body = client.get(f"/api/v1/projects/{project.id}").get_json()
    assert body["reference"] == project.reference and body["state"] == "published"
    assert body["budget"] == str(project.budget)
    assert {c["kind"] for c in body["criteria"]} == {"price", "subjective", "performance", "qualification"}
    assert sum(float(c["weight"]) for c in body["criteria"]) == 100
    assert body["lines"][0]["quantity"] == project.lines[0].quantity
    assert client.get("/api/v1/projects/999999").status_code == 404


def test_bid_body_is_validated(market, client, token_for):
    project = market.published()
    h = token_for(market.provider().user)
    url = f"/api/v1/projects/{project.id}/bid"
    resp = client.post(url, json={"price": "100"}, headers=h)
    assert resp.status_code == 422 and "plan" in resp.get_json()["error"]["fields"]
    resp = client.post(url, json={"price": "100", "plan": "p", "attachments": [{"name": "a.pdf",
                                                                                "content_base64": "%%%"}]}, headers=h)
    assert resp.status_code == 422 and "attachments" in resp.get_json()["error"]["fields"]
    assert client.post(url, data="not json", headers=h).status_code == 422
    assert client.get(url, headers=h).status_code == 404  # no bid yet


def test_bids_need_a_token_or_session(market, client):
    project = market.published()
    assert client.post(f"/api/v1/projects/{project.id}/bid", json={}).status_code == 401


def test_opening_is_404_until_it_happens(market, client):
    officer = market.officer()
    deadline = utcnow() + dt.timedelta(hours=2)
    project = market.open_project(deadline, officer)
    for _ in range(2):
        market.bid(project, market.provider())
    url = f"/api/v1/projects/{project.id}/opening"
    assert client.get(url).status_code == 404
    with time_machine.travel(deadline + dt.timedelta(seconds=5), tick=False):
        assert client.get(url).status_code == 404  # closed is not opened
        bid_ops.open_bids(project, officer)
        body = client.get(url).get_json()
    assert body["bid_count"] == 2 and len(body["entries"]) == 2
    assert all(e["price"] and e["submitted_at"] and e["provider_name"] for e in body["entries"])
    assert client.get(f"/api/v1/projects/{project.id}").get_json()["state"] == "failed"  # 2 < open tender minimum
    assert project_ops.min_valid_bids(project.method) > 2
