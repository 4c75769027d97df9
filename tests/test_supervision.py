"""Supervision items: raised on a subject, answered by the officer of its jurisdiction within working
days, escalated to the district when overdue (time-machine), on the public tracker and the API,
followed by residents."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sqlalchemy import func, select

from core.i18n import LOCAL_TZ
from core.notifications import Notification
from evaluation.supervision import operations as supervision
from evaluation.supervision.models import ItemStatus, SupervisionItem
from tests.support.assessment import World, last_month
from tests.support.files import png_bytes

FRIDAY = dt.datetime(2026, 12, 4, 10, 0, tzinfo=LOCAL_TZ)  # a Friday, no holiday in the next fortnight


@pytest.fixture
def world(session, make_user, district):
    return World(session, make_user, district=district)


def _venue(world):
    return world.d.venue(world.communities[0])


def _notes(session, user) -> list[str]:
    return [n.subject for n in session.scalars(select(Notification).where(Notification.user_id == user.id))]


def test_an_item_on_a_venue_goes_to_its_town_and_is_due_in_five_working_days(world, session):
    sup = world.supervisor()
    venue = _venue(world)
    with time_machine.travel(FRIDAY, tick=False):
        item = supervision.raise_item(sup, "venue", venue.id, "文化室常年关闭", "周末去了三次都锁门", [png_bytes()])
    assert item.area_id == world.towns[0].id
    # Mon 7, Tue 8, Wed 9, Thu 10, Fri 11 December: the end of Friday the 11th, Beijing time.
    assert item.due_at == dt.datetime(2026, 12, 11, 23, 59, 59, 999999, tzinfo=LOCAL_TZ).astimezone(dt.UTC)
    assert len(item.evidence) == 1
    assert any("文化室常年关闭" in s for s in _notes(session, world.town_officer))


def test_subjects_and_their_jurisdictions(world):
    sup = world.supervisor()
    month = last_month()
    provider, sessions = world.sessions_in(month, per_venue=(0, 1))
    assert supervision.raise_item(sup, "session", sessions[0].id, "t", "x").area_id == world.towns[1].id
    assert supervision.raise_item(sup, "provider", provider.id, "t", "x").area_id == world.district.id
    assert supervision.raise_item(sup, "area", world.communities[1].id, "t", "x").area_id == world.towns[1].id
    assert supervision.raise_item(sup, "project", sessions[0].contract.project_id, "t", "x").area_id == \
        world.district.id


@pytest.mark.parametrize(("subject_type", "subject_id", "title", "text", "field"), [
    ("budget", 1, "t", "x", "subject_type"),
    ("venue", 999999, "t", "x", "subject_id"),
    ("venue", "abc", "t", "x", "subject_id"),
    ("venue", None, "", "x", "title"),
    ("venue", None, "t", "  ", "text"),
])
def test_bad_input_names_the_field_and_raises_nothing(world, session, subject_type, subject_id, title, text, field):
    sup = world.supervisor()
    venue = _venue(world)
    with pytest.raises(supervision.Invalid) as e:
        supervision.raise_item(sup, subject_type, venue.id if subject_id is None else subject_id, title, text)
    assert e.value.field == field
    assert session.scalar(select(func.count()).select_from(SupervisionItem)) == 0


def test_only_supervisors_raise_and_only_the_jurisdiction_answers(world, session, make_user):
    with pytest.raises(supervision.Forbidden):
        supervision.raise_item(world.officer, "venue", _venue(world).id, "t", "x")
    sup = world.supervisor()
    item = supervision.raise_item(sup, "venue", _venue(world).id, "t", "x")
    other_town = make_user("officer", jurisdiction=world.towns[1])
    with pytest.raises(supervision.Forbidden):
        supervision.answer_item(item, other_town, "不归我管")
    with pytest.raises(supervision.Invalid):
        supervision.answer_item(item, world.town_officer, "")
    supervision.answer_item(item, world.town_officer, "已督促开放")
    assert item.status == ItemStatus.ANSWERED
    with pytest.raises(supervision.Refused):
        supervision.answer_item(item, world.officer, "再答")


def test_an_overdue_item_escalates_to_the_district_once(world, session):
    sup = world.supervisor()
    with time_machine.travel(FRIDAY, tick=False):
        item = supervision.raise_item(sup, "venue", _venue(world).id, "逾期事项", "x")
    with time_machine.travel(dt.datetime(2026, 12, 11, 23, 59, tzinfo=LOCAL_TZ), tick=False):
        assert supervision.escalate_overdue() == []
        assert not item.overdue(dt.datetime.now(dt.UTC))
    with time_machine.travel(dt.datetime(2026, 12, 12, 0, 1, tzinfo=LOCAL_TZ), tick=False):
        assert supervision.escalate_overdue() == [item]
        assert supervision.escalate_overdue() == []
        assert item.area_id == world.district.id and item.escalated_at is not None
        assert item.overdue(dt.datetime.now(dt.UTC))
        assert supervision.overdue_items(world.district) == [item]
        assert supervision.overdue_items(world.towns[1]) == []
    assert any("逾期事项" in s for s in _notes(session, world.officer))
    # After escalation the district answers; the town no longer can.
    with pytest.raises(supervision.Forbidden):
        supervision.answer_item(item, world.town_officer, "迟到的答复")
    supervision.answer_item(item, world.officer, "区里已处理")


def test_the_walk_through_pages_tracker_api_and_following(world, session, client, login, make_user):
    sup = world.supervisor()
    venue = _venue(world)
    login(sup)
    resp = client.post("/supervision/items/new", data={"subject_type": "venue", "subject_id": "999999",
                                                       "title": "t", "text": "x"})
    assert resp.status_code == 422
    assert session.scalar(select(func.count()).select_from(SupervisionItem)) == 0
    resp = client.post("/supervision/items/new", data={"subject_type": "venue", "subject_id": str(venue.id),
                                                       "title": "广场照明不足", "text": "晚上活动看不清"})
    assert resp.status_code == 302
    item = session.scalar(select(SupervisionItem))
    client.post("/logout")
    resident = make_user("resident")
    login(resident)
    assert client.post(f"/portal/supervision/{item.id}/follow").status_code == 302
    tracker = client.get("/portal/supervision").get_data(as_text=True)
    assert "广场照明不足" in tracker
    client.post("/logout")
    login(world.town_officer)
    assert client.get(f"/supervision/items/{item.id}").status_code == 200
    resp = client.post(f"/supervision/items/{item.id}/answer", data={"answer": "已加装路灯"})
    assert resp.status_code == 302
    client.post("/logout")
    assert any("广场照明不足" in s for s in _notes(session, resident))
    page = client.get(f"/portal/supervision/{item.id}").get_data(as_text=True)
    assert "已加装路灯" in page
    data = client.get("/api/v1/supervision/items").get_json()
    row = data["items"][0]
    assert row["title"] == "广场照明不足" and row["status"] == "answered" and row["answer"] == "已加装路灯"
    assert row["supervisor_kind"] == "npc_deputy" and row["followers"] == 1 and row["days_open"] == 0
    assert "raised_by" not in row
    bad = client.get("/api/v1/supervision/items?status=nonsense")
    assert bad.status_code in (400, 422) and "status" in str(bad.get_json())
