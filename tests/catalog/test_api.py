"""The catalog and demand API: items with the page's filters and search, one item, requests and
supports with a resident's bearer token; errors in the standard shape."""

import pytest
from sqlalchemy import func, select

from catalog.demand import operations as demand_ops
from catalog.demand.models import DemandRequest, DemandSupport
from catalog.items import operations as ops
from catalog.items.models import ItemStatus
from core.areas.models import Venue, VenueKind


@pytest.fixture
def items(make_item, categories):
    return {
        "opera": make_item(code="API-1", name="京剧名家名段演出", price_ceiling="38000.50",
                           target_groups=["general", "elderly"]),
        "show": make_item(code="API-2", name="文艺演出进社区", category=categories["top"], levels=["community"]),
        "talk": make_item(code="API-3", name="健康养生讲座", category=categories["other"], target_groups=["elderly"]),
        "gone": make_item(code="API-4", name="退出的项目", status=ItemStatus.RETIRED),
        "draft": make_item(code="API-5", name="草稿项目", status=ItemStatus.DRAFT),
    }


@pytest.fixture
def venue(session, community):
    v = Venue(name="API文化室", kind=VenueKind.CULTURAL_ROOM, area=community, capacity=30)
    session.add(v)
    session.flush()
    return v


def _codes(resp):
    return [i["code"] for i in resp.get_json()["items"]]


def test_items_list_with_filters_search_and_pages(client, items):
    resp = client.get("/api/v1/catalog/items")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["total"] == 3 and body["page"] == 1 and body["pages"] == 1
    assert set(_codes(resp)) == {"API-1", "API-2", "API-3"}
    first = next(i for i in body["items"] if i["code"] == "API-1")
    assert first["price_ceiling"] == "38000.50" and first["status"] == "active"
    assert first["category"]["code"] == "WY01" and first["category"]["parent_code"] == "WY"
    assert first["url"].endswith("/catalog/items/API-1")
    assert set(_codes(client.get("/api/v1/catalog/items?q=wyyc"))) == {"API-1", "API-2"}
    assert set(_codes(client.get("/api/v1/catalog/items?q=wenyi"))) == {"API-1", "API-2"}
    assert _codes(client.get("/api/v1/catalog/items?q=养生")) == ["API-3"]
    assert set(_codes(client.get("/api/v1/catalog/items?target_group=elderly"))) == {"API-1", "API-3"}
    assert _codes(client.get("/api/v1/catalog/items?status=retired")) == ["API-4"]
    paged = client.get("/api/v1/catalog/items?per_page=2&page=2").get_json()
    assert paged["pages"] == 2 and len(paged["items"]) == 1


def test_items_list_refuses_bad_arguments_in_the_standard_shape(client, items):
    resp = client.get("/api/v1/catalog/items?per_page=1000&level=galaxy")
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "invalid" and set(error["fields"]) == {"per_page", "level"}


def test_one_item_with_standard_status_reason_and_demand(client, items, keeper):
    ops.decide_item_status(items["talk"], ItemStatus.WATCH, "满意度偏低", keeper)
    body = client.get("/api/v1/catalog/items/API-3").get_json()
    assert body["name"] == "健康养生讲座" and body["standard"]["content"] == "服务内容"
    assert body["status"] == "watch" and body["status_decision"]["reason"] == "满意度偏低"
    assert body["demand"] == {"active_requests": 0, "active_supports": 0, "fulfilled": 0, "total_supports": 0}
    assert body["satisfaction"] is None
    for code in ("API-5", "NOPE"):
        resp = client.get(f"/api/v1/catalog/items/{code}")
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"


def test_resident_requests_and_merges_through_the_api(client, token_for, session, make_user, items, venue):
    first, second = make_user("resident"), make_user("resident")
    resp = client.post("/api/v1/demand", json={"item": "API-1", "venue_id": venue.id, "note": "周末"},
                       headers=token_for(first))
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["merged"] is False and body["status"] == "open" and body["supports"] == 1 and body["mine"] is True
    resp = client.post("/api/v1/demand", json={"item": "API-1", "venue_id": venue.id}, headers=token_for(second))
    assert resp.status_code == 200 and resp.get_json()["merged"] is True and resp.get_json()["supports"] == 2
    assert resp.get_json()["id"] == body["id"]
    assert session.scalar(select(func.count()).select_from(DemandRequest)) == 1
    mine = client.get("/api/v1/demand/mine", headers=token_for(second)).get_json()
    assert [r["id"] for r in mine["requests"]] == [body["id"]] and mine["requests"][0]["mine"] is False


def test_support_through_the_api_once(client, token_for, session, make_user, items, venue):
    req, _ = demand_ops.request_item(make_user("resident"), items["opera"], venue, "")
    headers = token_for(make_user("resident"))
    resp = client.post(f"/api/v1/demand/{req.id}/support", headers=headers)
    assert resp.status_code == 201 and resp.get_json()["supports"] == 2
    again = client.post(f"/api/v1/demand/{req.id}/support", json={"note": "再来"}, headers=headers)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "conflict" and "已附议" in again.get_json()["error"]["message"]
    assert session.scalar(select(func.count()).select_from(DemandSupport)) == 2
    assert client.post("/api/v1/demand/99999/support", headers=headers).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"venue_id": 1}, "item"), ({"item": "API-1"}, "venue_id"), ({"item": "API-1", "venue_id": "x"}, "venue_id"),
    ({"item": "NOPE", "venue_id": 1}, "item"), ({"item": "API-5", "venue_id": 1}, "item"),
])
def test_bad_request_bodies(client, token_for, session, make_user, items, venue, body, field):
    resp = client.post("/api/v1/demand", json=body, headers=token_for(make_user("resident")))
    # Malformed: 422; well formed but naming no (public) item: 404, naming the field either way.
    expected = 404 if body.get("item") in ("NOPE", "API-5") else 422
    assert resp.status_code == expected and field in resp.get_json()["error"]["fields"]
    assert session.scalar(select(func.count()).select_from(DemandRequest)) == 0


def test_only_residents_request(client, token_for, make_user, items, venue):
    resp = client.post("/api/v1/demand", json={"item": "API-1", "venue_id": venue.id},
                       headers=token_for(make_user("officer")))
    assert resp.status_code == 403
    assert client.post("/api/v1/demand", json={"item": "API-1", "venue_id": venue.id}).status_code == 401
