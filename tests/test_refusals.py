"""One refusal path: every business-rule refusal an operation raises reaches the audit log with its
actor, rule and object, whether a page answers it (on its form, or the error page) or the API does
(the JSON error); nothing of the refused attempt is kept; and only core.refusals writes such records."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from core import audit
from core.audit import AuditEvent
from core.db import utcnow
from core.errors import DomainError
from marketplace.bids import operations as bid_ops
from marketplace.bids.models import Bid
from marketplace.projects.models import PurchaseProject
from tests.support import review as es
from tests.support.pages import html_text

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "catalog", "marketplace", "evaluation")
HELPER = ROOT / "core" / "refusals.py"

BOTH = pytest.mark.parametrize("via", ["html", "api"])


def _head(session) -> int:
    return session.scalar(select(func.max(AuditEvent.seq))) or 0


def on_record(session, head, action, actor, obj):
    """The one refusal recorded since `head`: its action, actor, object and rule."""
    events = session.scalars(select(AuditEvent).where(AuditEvent.seq > head, AuditEvent.action.startswith("refused."))
                             .order_by(AuditEvent.seq)).all()
    assert [(e.action, e.actor_id, e.object_type, e.object_id) for e in events] == [
        ("refused." + action, actor.id, obj.__tablename__, str(obj.id))]
    [event] = events
    assert event.summary["rule"] and event.summary["reason"]
    return event


def _ask(session, client, login, token_for, user, via, html, api):
    """Sign in the way the path needs, then send (method, url, payload) by that path. Returns the
    response and the head of the audit log before it."""
    if via == "html":
        login(user)
        method, url, data = html
        kw = {"data": data}
    else:
        method, url, data = api
        kw = {"json": data, "headers": token_for(user)}
    head = _head(session)
    return getattr(client, method)(url, **kw), head


def _bid_form(price):
    return {"price": price, "plan": "方案", "team": "团队"}


def _bid_body(price="8000.00"):
    return {"price": price, "plan": "方案：每月两场演出", "team": "团队", "conflicts": "", "attachments": [],
            "keep_attachments": []}


# --- refusals by both paths ------------------------------------------------------------------------

@BOTH
def test_a_bid_over_the_budget(via, market, session, client, login, token_for):
    project = market.published(budget="5000.00", quantity=5)
    provider = market.provider()
    resp, head = _ask(session, client, login, token_for, provider.user, via,
                      html=("post", f"/projects/{project.id}/bid", _bid_form("5000.01")),
                      api=("post", f"/api/v1/projects/{project.id}/bid", _bid_body("5000.01")))
    assert resp.status_code == 409  # a business rule, not malformed input
    if via == "html":
        assert "5000.00" in html_text(resp)  # the reason, on the bid form
    else:
        assert "price" in resp.get_json()["error"]["fields"]
    event = on_record(session, head, "bid.submit", provider.user, project)
    assert "5000.00" in event.summary["reason"]
    assert session.scalar(select(func.count()).select_from(Bid)) == 0


@BOTH
def test_a_bid_after_the_deadline(via, market, session, client, login, token_for):
    project = market.open_project(utcnow() + dt.timedelta(days=3))
    provider = market.provider()
    session.execute(update(PurchaseProject).where(PurchaseProject.id == project.id)
                    .values(bid_deadline=utcnow() - dt.timedelta(minutes=1)))
    session.commit()
    resp, head = _ask(session, client, login, token_for, provider.user, via,
                      html=("post", f"/projects/{project.id}/bid", _bid_form("900.00")),
                      api=("post", f"/api/v1/projects/{project.id}/bid", _bid_body("900.00")))
    assert resp.status_code == 409
    event = on_record(session, head, "bid.submit", provider.user, project)
    assert event.summary["rule"] == "deadline_passed"


@BOTH
def test_withdrawing_a_bid_already_withdrawn(via, market, session, client, login, token_for):
    project = market.published()
    provider = market.provider()
    market.bid(project, provider)
    bid_ops.withdraw_bid(project, provider, provider.user)
    session.commit()
    resp, head = _ask(session, client, login, token_for, provider.user, via,
                      html=("post", f"/projects/{project.id}/bid/withdraw", {}),
                      api=("delete", f"/api/v1/projects/{project.id}/bid", None))
    assert resp.status_code == 409
    on_record(session, head, "bid.withdraw", provider.user, project)


def test_revising_a_withdrawn_bid(market, session, client, token_for):
    """The API's PUT; the bid page itself offers a fresh bid once the old one is withdrawn."""
    project = market.published()
    provider = market.provider()
    market.bid(project, provider)
    bid_ops.withdraw_bid(project, provider, provider.user)
    session.commit()
    headers = token_for(provider.user)
    head = _head(session)
    resp = client.put(f"/api/v1/projects/{project.id}/bid", json=_bid_body(), headers=headers)
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "conflict"
    on_record(session, head, "bid.revise", provider.user, project)


@BOTH
def test_a_rating_out_of_its_window(via, session, client, login, token_for, make_user, delivery):
    d = delivery
    old = d.schedule(d.contract(d.provider(), sessions=2), utcnow() - dt.timedelta(days=60))
    resident = make_user("resident")
    session.commit()
    stars = {"content": 5, "organisation": 5, "venue": 5}
    resp, head = _ask(session, client, login, token_for, resident, via, html=("post", f"/rate/{old.id}", stars),
                      api=("post", f"/api/v1/sessions/{old.id}/rating", stars))
    assert resp.status_code == 409
    on_record(session, head, "rating.submit", resident, old)


@BOTH
def test_a_catalog_request_made_twice(via, market, session, client, login, token_for, make_user, community):
    item, venue = market.item(), market.venue(area=community)
    resident = make_user("resident")
    from catalog.demand import operations as demand_ops

    first, _merged = demand_ops.request_item(resident, item, venue, "")
    session.commit()
    resp, head = _ask(session, client, login, token_for, resident, via,
                      html=("post", f"/demand/new/{item.code}", {"venue_id": venue.id, "note": ""}),
                      api=("post", "/api/v1/demand", {"item": item.code, "venue_id": venue.id, "note": ""}))
    assert resp.status_code == 409
    on_record(session, head, "demand.request", resident, first)


# --- refusals that only a page can meet ------------------------------------------------------------

def test_scoring_off_the_panel(session, client, login, make_user, town):
    r = es.reviewed_project(session, make_user, town, sign=False)
    outsider = es.expert(session, make_user, [r["category"]])
    session.commit()
    login(outsider.user)
    head = _head(session)
    resp = client.post(f"/review/projects/{r['project'].id}/bids/{r['bids'][0].id}", data={})
    assert resp.status_code == 403
    on_record(session, head, "review.score", outsider.user, r["project"])


def test_a_provider_resubmitting_out_of_turn(market, session, client, login):
    provider = market.provider()
    login(provider.user)
    head = _head(session)
    resp = client.post("/providers/me/resubmit", data={"note": "再审一次"})
    assert resp.status_code == 409
    on_record(session, head, "provider.resubmit", provider.user, provider)
    assert audit.verify() > 0  # the refusals' own commits keep the chain whole


# --- the code keeps to the one path ------------------------------------------------------------------

def _modules():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _name(node) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _starts_with_refused(node) -> bool:
    while isinstance(node, ast.BinOp):  # "refused." + action
        node = node.left
    if isinstance(node, ast.JoinedStr) and node.values:  # f"refused.{action}"
        node = node.values[0]
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("refused")


def _refusal_records(tree) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) == "record":
            action = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "action"), None)
            if action is not None and _starts_with_refused(action):
                lines.append(node.lineno)
    return lines


def test_only_the_helper_records_refusals():
    found = {path.relative_to(ROOT).as_posix(): lines for path in _modules()
             if (lines := _refusal_records(_parse(path)))}
    assert found == {"core/refusals.py": found.get("core/refusals.py")} and found.get("core/refusals.py"), found


def _domain_errors() -> set[str]:
    names, todo = set(), [DomainError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


def _caught(handler: ast.ExceptHandler) -> set[str]:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return {_name(k) for k in kinds if k is not None}


def _is_view_module(tree) -> bool:
    return any(isinstance(d, ast.Call) and _name(d.func) == "route"
               for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) for d in node.decorator_list)


def test_views_answer_caught_refusals_through_the_helper(app):
    """A view may catch a refusal only to hand it to `refused()` (or to re-raise it to the error
    handler, which does the same): no view undoes, audits or answers a refusal on its own."""
    errors = _domain_errors()
    handlers, bypass = 0, []
    for path in _modules():
        tree = _parse(path)
        if not _is_view_module(tree):
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.ExceptHandler) and node.type is not None and _caught(node) & errors):
                continue
            handlers += 1
            calls = {_name(n.func) for b in node.body for n in ast.walk(b) if isinstance(n, ast.Call)}
            if "refused" not in calls:
                bypass.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bypass, bypass
    assert handlers >= 40  # the walk sees the views' handlers (a walk that saw none would pass)
