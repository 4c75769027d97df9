"""The OpenAPI document of /api/v1: valid, complete against the URL map, shown on the docs page,
and true — schemathesis fuzzes every operation against the app (no 5xx, every answer documented
and shaped as documented, sealed bids stay sealed)."""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from sqlalchemy import select

from core import openapi
from core.accounts.models import Role
from tests.support.market import Market
from tests.support.pages import html_text

# Examples per operation and generation mode: 20 operations x 2 modes x this, bounded for CI.
FUZZ_EXAMPLES = 20
SEALED_MARKER = "SEALED-7f3a-方案"
SEALED_PRICE = "1357.91"


def test_document_is_valid_openapi_3(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    doc = resp.get_json()
    assert doc["openapi"].startswith("3.")
    validate(doc)


def test_every_api_rule_and_method_is_documented_and_nothing_else(app):
    assert openapi.undocumented(app) == []
    routed = set()
    for rule, methods in openapi.api_rules(app):
        path, _params = openapi._path(rule)
        routed |= {(path, m) for m in methods}
    documented = {(path, m) for path, ops in openapi.document(app)["paths"].items() for m in ops
                  if m in openapi.DOCUMENTED_METHODS}
    assert routed and documented == routed


def test_declarations_follow_access_limits_and_input(app):
    doc = openapi.document(app)
    token = doc["paths"]["/api/v1/tokens"]["post"]
    assert "security" not in token and {"401", "422", "429"} <= set(token["responses"])
    bid = doc["paths"]["/api/v1/projects/{project_id}/bid"]
    assert set(bid) >= {"get", "post", "put", "delete"}
    post = bid["post"]
    assert post["security"] == [{"bearer": []}]
    assert {"201", "401", "403", "404", "409", "422"} <= set(post["responses"])
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/BidIn"}
    me = doc["paths"]["/api/v1/me"]["get"]
    assert "401" in me["responses"] and "403" not in me["responses"]  # any signed-in user
    items = doc["paths"]["/api/v1/catalog/items"]["get"]
    assert {p["name"] for p in items["parameters"]} >= {"q", "category", "status", "page", "per_page"}
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    # Money is exact: a decimal string, not a JSON number.
    assert doc["components"]["schemas"]["ProjectSummary"]["properties"]["budget"]["type"] == "string"


def test_an_undeclared_api_view_is_reported(make_app):
    other = make_app()

    @other.route("/api/v1/undeclared")
    def undeclared():
        return {}

    assert openapi.undocumented(other) == ["undeclared"]


# --- fuzzing ------------------------------------------------------------------------------------

def _demo(session, make_user, district, town):
    """The demo district, a sealed bid whose contents carry a marker, and a token per role."""
    from marketplace.projects.models import ProjectState, PurchaseProject
    from seeds.demo import run_demo

    run_demo(lambda *_a: None)
    session.commit()
    market = Market(session, make_user, district, town)
    open_project = session.scalar(select(PurchaseProject).where(PurchaseProject.state == ProjectState.PUBLISHED,
                                                               PurchaseProject.opened_at.is_(None))
                                  .order_by(PurchaseProject.bid_deadline.desc()))
    market.bid(open_project, market.provider(), price=SEALED_PRICE, plan=SEALED_MARKER, team=SEALED_MARKER)
    return open_project


def _tokens(client):
    from seeds.district import DEMO_PASSWORD

    logins = {Role.RESIDENT: "13800138000", Role.PROVIDER: "provider@huimin.demo", Role.OFFICER: "officer@huimin.demo",
              Role.ADMIN: "admin@huimin.demo", Role.EXPERT: "expert@huimin.demo"}
    out = {}
    for role, login in logins.items():
        resp = client.post("/api/v1/tokens", json={"username": login, "password": DEMO_PASSWORD})
        assert resp.status_code == 201, resp.get_json()
        out[role] = {"Authorization": "Bearer " + resp.get_json()["token"]}
    return out


def _known_values(session):
    """Ids and codes that exist in the demo, so the fuzzer reaches real objects, not only 404s."""
    from catalog.demand.models import DemandRequest
    from catalog.items.models import Item
    from evaluation.feedback.operations import window_open
    from marketplace.projects.models import PurchaseProject
    from marketplace.providers.models import Provider
    from marketplace.sessions.models import ServiceSession

    def ids(model, column=None):
        return list(session.scalars(select(column or model.id).order_by(column or model.id)).all())

    # Sessions open for rating first: only the first few of each list are used.
    sessions = sorted(session.scalars(select(ServiceSession).order_by(ServiceSession.id)),
                      key=lambda s: not window_open(s))
    return {"project_id": ids(PurchaseProject), "demand_id": ids(DemandRequest), "session_id": [s.id for s in sessions],
            "provider_id": ids(Provider), "item_code": ids(Item, Item.code)}


def _good_bodies(session) -> dict[str, list[dict]]:
    from catalog.items.models import Item, ItemStatus
    from core.accounts.models import User
    from core.areas.models import Venue
    from seeds.district import DEMO_PASSWORD

    resident = session.scalar(select(User).where(User.login == "13800138000"))
    venue = session.scalar(select(Venue.id).where(Venue.area_id == resident.community.id).order_by(Venue.id))
    codes = session.scalars(select(Item.code).where(Item.status == ItemStatus.ACTIVE).order_by(Item.code).limit(3))
    bid = {"price": "1,000.00", "plan": "演出方案：每月两场。", "team": "演员十人"}
    return {
        "POST /api/v1/tokens": [{"username": "13800138000", "password": DEMO_PASSWORD}],
        "POST /api/v1/demand": [{"item": code, "venue_id": venue, "note": "希望周末举办"} for code in codes],
        "POST /api/v1/projects/{project_id}/bid": [bid],
        "PUT /api/v1/projects/{project_id}/bid": [bid],
        "POST /api/v1/sessions/{session_id}/rating": [{"content": 5, "organisation": 4, "venue": 5,
                                                       "comment": "很好"}],
    }


def test_fuzz_every_operation(app, session, client, make_user, district, town):
    import schemathesis
    from schemathesis import GenerationMode

    sealed_project = _demo(session, make_user, district, town)
    headers_for = _tokens(client)
    known = _known_values(session)
    good = _good_bodies(session)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # Unknown query arguments are ignored, as on any web page (a link may carry them), so requests
    # are not made "invalid" by adding some. Tokens are real ones, sent below; the fuzzer still
    # checks that each protected operation refuses no token and a wrong one (ignored_auth).
    schema.config.generation.update(allow_extra_parameters=False, with_security_parameters=False)
    # Schema-valid data must be accepted; besides the statuses the check allows anyway (403, 404, 409...)
    # an upload whose bytes are not a PDF or picture (415) or too large (413) is refused, as HTTP has
    # it — and status_code_conformance keeps those to the operations that document them (the bids).
    acceptance = schema.config.checks.positive_data_acceptance
    acceptance.expected_statuses = [*acceptance.expected_statuses, "413", "415"]
    log = {"bodies": [], "failures": [], "rejected": [], "examples": 0}
    operations = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        op = result.ok()
        operations += 1
        access = _access_of(app, op)
        headers = {}
        if access and "public" not in access:
            role = next((r for r in (Role.PROVIDER, Role.RESIDENT, Role.OFFICER, Role.ADMIN, Role.EXPERT)
                         if r in access), Role.RESIDENT)
            headers = headers_for[role]
        names = [p.name for p in op.path_parameters]
        paths = [{}] + [{name: value} for name in names for value in known.get(name, [])[:12]]
        strategies = [op.as_strategy(generation_mode=mode, path_parameters=path or None)
                      for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) for path in paths]
        # Bodies that pass validation, so the fuzzer also reaches the operations' success answers.
        strategies += [op.as_strategy(path_parameters=path or None, body=body)
                       for body in good.get(op.label, []) for path in paths[1:] or paths]
        _fuzz(st.one_of(strategies), headers, log)
    bodies = log["bodies"]
    print(f"fuzz: {operations} operations, {log['examples']} examples, {time.monotonic() - started:.1f}s")
    by_operation: dict[str, Counter] = {}
    for _label, status, _body, operation in bodies:
        by_operation.setdefault(operation, Counter())[status] += 1
    for label, statuses in sorted(by_operation.items()):
        print(f"  {label}: {dict(sorted(statuses.items()))}")
    assert not log["failures"], "\n\n".join(log["failures"])
    # Every operation but the document itself, which schemathesis reads rather than fuzzes.
    assert operations == len([1 for p in openapi.document(app)["paths"].values() for _m in p]) - 1
    assert not [b for b in bodies if b[1] >= 500]
    # Nothing the fuzzer could send read the sealed bid: not its plan, not its team.
    assert not [b[:2] for b in bodies if SEALED_MARKER in b[2] or SEALED_PRICE in b[2]]
    bids_of_sealed = [b for b in bodies if b[0] == f"GET /api/v1/projects/{sealed_project.id}/bids"]
    assert all(b[1] in (401, 403) for b in bids_of_sealed)


def _access_of(app, op):
    operation_id = op.definition.raw["operationId"]
    endpoint = operation_id if operation_id in app.view_functions else operation_id.rsplit(".", 1)[0]
    return getattr(app.view_functions[endpoint], "access", None)


def _fuzz(strategy, headers: dict, log: dict):
    from schemathesis import GenerationMode
    from schemathesis.core.failures import FailureGroup

    @settings(max_examples=FUZZ_EXAMPLES * 2, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        log["examples"] += 1
        resp = case.call(headers=headers)
        label = f"{case.method} {case.formatted_path}"
        log["bodies"].append((label, resp.status_code, resp.text, case.operation.label))
        if case.meta.generation.mode == GenerationMode.POSITIVE and resp.status_code == 422:
            log["rejected"].append((label, resp.text[:300]))
        try:
            # Every check, "schema-valid data is accepted" too: the document states each form the API
            # refuses (patterns, lengths, enums, ranges), and what no schema can say answers 403
            # (not the caller's to do), 404 (an unknown code or id) or 409 (a rule of the moment).
            case.validate_response(resp, headers=headers, transport_kwargs={"headers": headers})
        except FailureGroup as e:
            log["failures"].append(f"{label}: {e}"[:1500])

    run()


# --- what the fuzzer found, kept as plain tests -------------------------------------------------

@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_an_id_beyond_the_integer_columns_is_404_for_every_method(client, method):
    # 2**31 overflowed PostgreSQL's integer (and 2**63 SQLite's) inside the lookup: a 500.
    for project_id in (2**31, 2**63, 10**30):
        resp = getattr(client, method)(f"/api/v1/projects/{project_id}/bid", json={})
        assert resp.status_code == 404, (project_id, resp.status_code)
        assert resp.get_json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/projects/{2**31 - 1}").status_code == 404  # in range, merely absent
    assert client.get(f"/api/v1/providers/{2**31}").status_code == 404
    assert client.get(f"/projects/{2**40}").status_code == 404  # the pages share the URL converter


def test_the_id_pattern_matches_exactly_the_range():
    from core.views_util import MAX_ID, digits_up_to

    pattern = re.compile(digits_up_to(MAX_ID))
    for n in (0, 7, 10, 1_999_999_999, 2_099_999_999, MAX_ID - 1, MAX_ID):
        assert pattern.fullmatch(str(n)), n
    for n in (MAX_ID + 1, 2_199_999_999, 3_000_000_000, 9_999_999_999, 10**10):
        assert not pattern.fullmatch(str(n)), n


@pytest.mark.parametrize("query", [f"area={2**40}", "page=100001", f"page={10**30}"])
def test_query_numbers_beyond_range_are_422(client, query):
    resp = client.get(f"/api/v1/projects?{query}")
    assert resp.status_code == 422 and resp.get_json()["error"]["fields"].keys() == {query.split("=")[0]}
    if not query.startswith("area"):
        assert client.get(f"/api/v1/catalog/items?{query}").status_code == 422


def test_a_page_past_the_last_possible_one_is_404_on_pages(client):
    # The HTML list pages take ?page= straight from the URL; OFFSET must not overflow.
    assert client.get(f"/projects/?page={10**30}").status_code == 404


def test_text_with_nul_is_refused_before_the_database(client, session, make_user):
    from core.accounts.models import LoginAttempt

    before = session.query(LoginAttempt).count()
    resp = client.post("/api/v1/tokens", json={"username": "a\x00b", "password": "x"})
    assert resp.status_code == 422
    assert set(resp.get_json()["error"]["fields"]) == {"username"}
    assert session.query(LoginAttempt).count() == before  # nothing was recorded
    assert client.get("/api/v1/catalog/items?q=%00").status_code == 422
    assert client.get("/api/v1/catalog/items/A%00B").status_code == 404
    user = make_user("resident")
    resp = client.post("/login", data={"login": user.login + "\x00", "password": "x"})
    assert resp.status_code == 400
    assert session.query(LoginAttempt).count() == before


@pytest.mark.parametrize("body", ["[" * 100_000, "[" * 500 + "]" * 500, '{"a": ' * 500 + "1" + "}" * 500,
                                  '{"username": ' + "[" * 65 + "]" * 65 + ', "password": "x"}'])
def test_a_deeply_nested_json_body_is_400_with_the_error_shape(client, session, token_for, make_user, body):
    # The parser (or the walk over the value after it) ran out of stack: a 500 RecursionError.
    from core.accounts.models import LoginAttempt

    headers = token_for(make_user("resident"))
    before = session.query(LoginAttempt).count()
    for path, extra in (("/api/v1/tokens", {}), ("/api/v1/demand", headers),
                        ("/api/v1/sessions/1/rating", headers), ("/api/v1/projects/1/bid", headers)):
        resp = client.post(path, data=body, content_type="application/json", headers=extra)
        assert resp.status_code == 400, (path, resp.status_code)
        error = resp.get_json()["error"]
        assert set(error) == {"code", "message", "fields"} and error["code"] == "bad_request", path
        assert "嵌套" in error["message"]
    assert session.query(LoginAttempt).count() == before  # refused before any sign-in was tried
    resp = client.post("/api/v1/tokens", data='{"username": [[[]]], "password": "x"}', content_type="application/json")
    assert resp.status_code == 422  # nested a little: the schema's answer, as before


@pytest.mark.parametrize(("since", "status"), [("2026-02-30", 422), ("2025-02-29", 422), ("0000-01-01", 422),
                                              ("2024-02-29", 200), ("2000-02-29T08:00", 200), ("1900-02-29", 422),
                                              ("0001-01-01", 200), ("9999-12-31T23:59-05:00", 200)])
def test_since_is_a_day_that_exists_and_the_calendar_ends_do_not_fail(client, since, status):
    # 2026-02-30 matched the documented pattern and was refused; 0001-01-01 in Beijing time is before
    # year 1 in UTC and raised OverflowError (a 500).
    resp = client.get("/api/v1/ocds/releases", query_string={"since": since})
    assert resp.status_code == status, (since, resp.get_data(as_text=True)[:200])
    pattern = openapi_param(client, "/api/v1/ocds/releases", "since")["pattern"]
    assert bool(re.match(pattern, since)) == (status == 200)


def openapi_param(client, path, name, method="get"):
    doc = client.get("/api/v1/openapi.json").get_json()
    return next(p["schema"] for p in doc["paths"][path][method]["parameters"] if p["name"] == name)


def test_a_month_in_a_path_is_stated_and_refused_as_stated(client):
    pattern = openapi_param(client, "/api/v1/assessment/plans/{month}", "month")["pattern"]
    for month, well_formed in (("2026-11", True), ("2026-13", False), ("\u0662\u0660\u0662\u0666-11", False),
                               ("26-11", False)):
        assert bool(re.match(pattern, month)) == well_formed
        resp = client.get(f"/api/v1/assessment/plans/{month}")
        assert resp.status_code == (404 if well_formed else 422), month  # no plan of that month: 404


def test_what_no_schema_can_say_answers_403_404_or_409(client, session, make_user, token_for, delivery, market):
    from catalog.items.models import Item

    resident = make_user("resident")
    session.commit()
    headers = token_for(resident)
    # An item code of the right form that names nothing: 404 naming the field, nothing kept.
    resp = client.post("/api/v1/demand", json={"item": "NO-SUCH-ITEM", "venue_id": 1}, headers=headers)
    assert resp.status_code == 404 and set(resp.get_json()["error"]["fields"]) == {"item"}
    item = session.scalar(select(Item).limit(1))
    if item is not None:
        resp = client.post("/api/v1/demand", json={"item": item.code, "venue_id": 2**31 - 1}, headers=headers)
        assert resp.status_code in (404, 409)
    # A first rating without the session's attendance code: not shown to have been there (403).
    held = delivery.schedule(delivery.contract(delivery.provider()), utcnow_minus_days(1))
    session.commit()
    for code in ("", "WRONG1"):
        resp = client.post(f"/api/v1/sessions/{held.id}/rating",
                           json={"content": 5, "organisation": 5, "venue": 5, "attendance_code": code}, headers=headers)
        assert resp.status_code == 403 and set(resp.get_json()["error"]["fields"]) == {"attendance_code"}
    # A bid whose attachment is valid base64 but not a PDF or picture: 415; a hash to keep that is not
    # in the bid: 404; over the budget: 409.
    project = market.published(budget="5000.00", quantity=5)
    provider = market.provider()
    session.commit()
    bidder = token_for(provider.user)
    plain = {"price": "4000.00", "plan": "方案", "team": "", "conflicts": "", "keep_attachments": []}
    resp = client.post(f"/api/v1/projects/{project.id}/bid", headers=bidder, json={
        **plain, "attachments": [{"name": "a.pdf", "content_base64": "aGVsbG8="}]})
    assert resp.status_code == 415 and "files" in resp.get_json()["error"]["fields"]
    assert client.post(f"/api/v1/projects/{project.id}/bid", headers=bidder,
                       json={**plain, "price": "5000.01", "attachments": []}).status_code == 409
    assert client.post(f"/api/v1/projects/{project.id}/bid", headers=bidder,
                       json={**plain, "attachments": []}).status_code == 201
    resp = client.put(f"/api/v1/projects/{project.id}/bid", headers=bidder,
                      json={**plain, "attachments": [], "keep_attachments": ["a" * 64]})
    assert resp.status_code == 404 and "files" in resp.get_json()["error"]["fields"]


def utcnow_minus_days(days):
    import datetime as dt

    from core.db import utcnow

    return utcnow().replace(microsecond=0) - dt.timedelta(days=days)


@pytest.mark.parametrize(("price", "accepted"), [("0", False), ("0.00", False), ("0,000", False), ("0.01", True),
                                                 ("0.10", True), ("12,000.00", True), (" 12 ", True),
                                                 ("1.001", False), ("-5", False), ("1e3", False)])
def test_the_price_pattern_is_what_the_server_takes(price, accepted):
    from marshmallow import ValidationError

    from core.errors import Invalid
    from core.money import parse_money
    from marketplace.bids.schemas import PRICE_PATTERN, BidInSchema

    assert bool(re.match(PRICE_PATTERN, price)) == accepted
    try:
        BidInSchema().load({"price": price, "plan": "x"})
        parse_money(price, "price")
        taken = True
    except (ValidationError, Invalid):
        taken = False
    assert taken == accepted


# --- the docs page -------------------------------------------------------------------------------

def test_docs_page_shows_every_operation_from_the_document(app, client):
    doc = openapi.document(app)
    resp = client.get("/api/docs")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "<script>" not in body and " on" + "click=" not in body  # CSP: no inline script
    assert body.count('data-testid="operation"') == sum(len(ops) for ops in doc["paths"].values())
    for path in doc["paths"]:
        assert f"<code>{path}</code>" in body
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in body
    text = html_text(resp)
    # The bid body's fields are written out, and who may call it.
    assert "keep_attachments" in text and "content_base64" in text
    assert 'href="/api/v1/openapi.json"' in body
    assert body.count('data-testid="needs-token"') == sum(
        1 for ops in doc["paths"].values() for op in ops.values() if op.get("security"))


def test_the_footer_links_the_docs_page(client):
    assert 'href="/api/docs"' in client.get("/").get_data(as_text=True)


# Summaries as declared (English ids) and their Chinese translations, from three packages.
SUMMARIES = {
    "Get a bearer token for a login name and password": "用登录名和密码获取持有者令牌",
    "Published purchase projects (not drafts), with filters": "已发布的采购项目（不含草稿），支持筛选",
    "Support another resident's active request (an empty body is allowed)":
        "支持其他居民进行中的申请（允许请求体为空）",
    "Supervision items: status, days open and answers (public fields)": "督办事项：状态、未办结天数和答复（公开字段）",
}


def test_docs_page_speaks_the_readers_language_and_the_document_stays_english(app, client):
    from html import unescape

    from flask_babel import force_locale

    client.post("/lang", data={"lang": "zh_CN"})
    zh = unescape(html_text(client.get("/api/docs")))
    client.post("/lang", data={"lang": "en"})
    en = unescape(html_text(client.get("/api/docs")))
    for english, chinese in SUMMARIES.items():
        assert chinese in zh and english not in zh
        assert english in en and chinese not in en
    # Descriptions, the rate-limit line and the error notes too.
    assert "步行 = 直线距离" in zh and "Walk = straight-line distance" not in zh
    assert "频率限制：" in zh and "Rate limit:" not in zh and "Rate limit:" in en
    assert "输入被拒绝" in zh and "Input refused; error.fields names each field" in en
    assert "未找到" in zh and "Not Found" not in zh and "Not Found" in en
    assert "最大长度" in zh and "max length" not in zh and "max length" in en
    # No operation's English summary remains on the Chinese page.
    doc = openapi.document(app)
    summaries = {op["summary"] for ops in doc["paths"].values() for op in ops.values()}
    assert not [s for s in summaries if s in zh]
    # The JSON document is English for machine readers, whoever asks and in whatever language it is built.
    client.post("/lang", data={"lang": "zh_CN"})
    served = client.get("/api/v1/openapi.json").get_json()
    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        built = openapi.build(app)
    for document in (served, built):
        found = {op["summary"] for ops in document["paths"].values() for op in ops.values()}
        assert set(SUMMARIES) <= found
        assert not any("\u4e00" <= ch <= "\u9fff" for s in found for ch in s)


def _descriptions(node):
    """Every field or parameter note in the document (not the operations' summaries)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                yield value
            else:
                yield from _descriptions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _descriptions(value)


def test_every_field_note_and_group_is_in_both_languages_on_the_docs_page(app, client):
    from html import unescape

    from flask_babel import force_locale
    from flask_babel import gettext as _

    from core.site.api_docs import TAGS

    doc = openapi.document(app)
    tags = {t for ops in doc["paths"].values() for op in ops.values() for t in op.get("tags", [])}
    assert tags <= set(TAGS), tags - set(TAGS)
    notes = set()
    for schema in doc["components"]["schemas"].values():
        notes |= set(_descriptions(schema.get("properties", {})))
    for ops in doc["paths"].values():
        for op in ops.values():
            for param in op.get("parameters", []):
                notes |= set(_descriptions(param))
    assert len(notes) >= 15
    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        untranslated = sorted(n for n in notes if _(n) == n)
    assert not untranslated, untranslated
    client.post("/lang", data={"lang": "zh_CN"})
    zh = unescape(html_text(client.get("/api/docs")))
    client.post("/lang", data={"lang": "en"})
    en = unescape(html_text(client.get("/api/docs")))
    assert "报价（元）" in zh and "Offered price in yuan" not in zh and "Offered price in yuan" in en
    assert "开放数据（OCDS）" in zh and "Open data (OCDS)" in en and "查询参数" in zh
    # The JSON document keeps the English notes.
    served = client.get("/api/v1/openapi.json").get_data(as_text=True)
    assert "Offered price in yuan" in served and "报价（元）" not in served
