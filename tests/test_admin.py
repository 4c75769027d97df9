"""Admin pages: users and roles, areas and venues with all-or-nothing imports, settings."""

import io

from sqlalchemy import func, select

from core import settings
from core.accounts.models import User
from core.areas.models import Area, AreaLevel, Venue
from core.audit import AuditEvent
from tests.support.files import xlsx_bytes
from tests.support.pages import html_text


def test_admin_creates_officer_with_jurisdiction(client, make_user, login, town, session):
    login(make_user("admin"))
    resp = client.post("/admin/users/new", data={"name": "镇干部", "login": "town.officer@example.org",
                                                 "password": "Town-Officer-Pass-1", "roles": ["officer"],
                                                 "jurisdiction_id": town.id, "community_id": ""})
    assert resp.status_code == 302
    user = session.scalar(select(User).where(User.login == "town.officer@example.org"))
    assert user.roles == {"officer"} and user.jurisdiction_id == town.id
    created = select(AuditEvent).where(AuditEvent.action == "user.create", AuditEvent.object_id == str(user.id))
    assert session.scalar(created)


def test_officer_without_jurisdiction_is_refused(client, make_user, login, session):
    login(make_user("admin"))
    before = session.scalar(select(func.count()).select_from(User))
    resp = client.post("/admin/users/new", data={"name": "x", "login": "x@example.org",
                                                 "password": "Town-Officer-Pass-1", "roles": ["officer"],
                                                 "jurisdiction_id": "", "community_id": ""})
    assert resp.status_code == 422 and "管辖范围" in html_text(resp)
    assert session.scalar(select(func.count()).select_from(User)) == before


def test_admin_sets_roles(client, make_user, login, session):
    login(make_user("admin"))
    user = make_user("resident")
    resp = client.post(f"/admin/users/{user.id}", data={"name": user.name, "roles": ["resident", "expert"],
                                                        "jurisdiction_id": "", "community_id": user.community_id})
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(User, user.id).roles == {"resident", "expert"}


def test_area_import_all_or_nothing(client, make_user, login, session, district):
    login(make_user("admin"))
    before = session.scalar(select(func.count()).select_from(Area))
    bad = xlsx_bytes([["编码", "名称", "层级", "上级编码", "人口"],
                 ["X01", "新镇", "town", district.code, "1000"],
                 ["X02", "新村", "community", "X01", "-5"],
                 ["X03", "怪地", "planet", "", "5"],
                 ["X04", "孤村", "community", "NOPE", "10"]])
    resp = client.post("/admin/areas/import", data={"file": (io.BytesIO(bad), "areas.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    text = html_text(resp)
    assert "3 " in text or "3处" in text or "3 处" in text
    for line in ("3", "4", "5"):
        assert f" {line} " in text
    assert session.scalar(select(func.count()).select_from(Area)) == before

    good = xlsx_bytes([["code", "name", "level", "parent code", "population"],
                  ["X01", "新镇", "town", district.code, "1000"],
                  ["X02", "新村", "community", "X01", "500"]])
    resp = client.post("/admin/areas/import", data={"file": (io.BytesIO(good), "areas.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    village = session.scalar(select(Area).where(Area.code == "X02"))
    assert village.level == AreaLevel.COMMUNITY and village.parent.code == "X01" and village.population == 500


def test_venue_import_csv_reports_bad_rows(client, make_user, login, session, community):
    login(make_user("admin"))
    before = session.scalar(select(func.count()).select_from(Venue))
    data = ("name,kind,area code,address,capacity\n"
            f"文化室A,cultural_room,{community.code},一号,50\n"
            f"文化室B,spaceship,{community.code},二号,50\n"
            f"文化室C,library,{community.code},三号,many\n").encode()
    resp = client.post("/admin/venues/import", data={"file": (io.BytesIO(data), "v.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "spaceship" in html_text(resp) and "many" in html_text(resp)
    assert session.scalar(select(func.count()).select_from(Venue)) == before


def test_setting_change_is_validated_and_audited(app, client, make_user, login, session):
    key = "test.example_limit"
    settings.add(app, settings.define(key, 5, "example", int, minimum=1, maximum=10))
    try:
        login(make_user("admin"))
        assert client.post(f"/admin/settings/{key}", data={"value": "50"}).status_code == 422
        assert client.post(f"/admin/settings/{key}", data={"value": "7"}).status_code == 302
        assert settings.get(key) == 7
        ev = session.scalar(select(AuditEvent).where(AuditEvent.action == "setting.change"))
        assert ev.summary == {"before": 5, "after": 7}
    finally:
        settings.definitions().pop(key)
