"""The expert database: admin pages, the credit-code check, the all-or-nothing import, an
expert's own declared conflicts."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from core.accounts.models import Role, User
from core.errors import Invalid
from evaluation.experts import operations as ops
from evaluation.experts.models import Expert, ExpertConflict
from tests.support import review as es
from tests.support.accounts import PASSWORD
from tests.support.pages import html_text


def xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


HEADER = ["登录名", "姓名", "职称", "工作单位", "统一社会信用代码", "评审专业", "联系电话", "邮箱", "初始密码"]


def test_credit_code_format():
    good = es.code(42)
    assert ops.credit_code_problem(good) is None and len(good) == 18
    assert "18" in ops.credit_code_problem(good[:17])
    assert ops.credit_code_problem(good[:17] + "I") is not None  # I is not in the alphabet
    # The full GB 32100-2015 check, as for providers: a mistyped check character is caught.
    wrong = good[:17] + next(c for c in "0123456789" if c != good[17])
    assert "18" in ops.credit_code_problem(wrong)
    assert ops.credit_code_problem("91350100M000100Y43") is None  # a known valid code
    assert ops.normalise_credit_code(" 9111 0000-ma00 00042x ") == "91110000MA0000042X"


def test_admin_creates_an_expert_with_a_login(session, client, login, make_user):
    cat = es.category(session)
    session.commit()
    login(make_user("admin"))
    data = {"login": "new.expert@example.org", "password": PASSWORD, "name": "钱教授", "title": "教授",
            "employer": "北京大学", "employer_credit_code": es.code(7), "specialty_ids": [cat.id], "active": "y"}
    assert client.post("/admin/experts/new", data={**data, "employer_credit_code": "123"}).status_code == 422
    assert client.post("/admin/experts/new", data={**data, "specialty_ids": []}).status_code == 422
    assert session.scalar(select(func.count(Expert.id))) == 0
    assert client.post("/admin/experts/new", data=data).status_code == 302
    expert = session.scalar(select(Expert))
    assert expert.user.login == "new.expert@example.org" and Role.EXPERT in expert.user.roles
    assert expert.specialty_ids == {cat.id}
    # The same code under another employer name is refused.
    data2 = {**data, "login": "second@example.org", "employer": "清华大学"}
    resp = client.post("/admin/experts/new", data=data2)
    assert resp.status_code == 422 and "北京大学" in html_text(resp)
    assert "钱教授" in html_text(client.get("/admin/experts"))
    resp = client.post(f"/admin/experts/{expert.id}", data={**data, "active": ""})
    assert resp.status_code == 302
    session.refresh(expert)
    assert expert.active is False


def test_an_existing_user_becomes_an_expert(session, make_user):
    cat = es.category(session)
    officer = make_user("officer")
    expert = ops.create_expert(login=officer.login, name="王科长", password=None, title="", employer="区文旅局",
                               employer_credit_code=es.code(8), specialty_ids=[cat.id], actor=None)
    assert expert.user_id == officer.id and officer.has_role(Role.EXPERT, Role.OFFICER)
    with pytest.raises(Invalid):
        ops.create_expert(login=officer.login, name="王科长", password=None, title="", employer="区文旅局",
                          employer_credit_code=es.code(8), specialty_ids=[cat.id], actor=None)


def test_import_is_all_or_nothing(session, client, login, make_user):
    cat = es.category(session)
    session.commit()
    login(make_user("admin"))
    good = ["imp1@example.org", "孙老师", "副教授", "某学院", es.code(11), cat.code, "", "", PASSWORD]
    bad_rows = [
        good,
        ["imp2@example.org", "周老师", "", "某研究所", "ABC", cat.code, "", "", PASSWORD],  # bad code
        ["imp3@example.org", "吴老师", "", "某馆", es.code(12), "NOPE", "", "", PASSWORD],  # unknown specialty
        ["imp1@example.org", "重复", "", "某学院", es.code(11), cat.code, "", "", PASSWORD],  # login twice
        ["imp4@example.org", "郑老师", "", "别的学院", es.code(11), cat.name, "", "", PASSWORD],  # code, other name
        ["imp5@example.org", "冯老师", "", "某学院", es.code(11), cat.code, "", "", ""],  # no password
    ]
    resp = client.post("/admin/experts/import", data={"file": (io.BytesIO(xlsx([HEADER, *bad_rows])), "e.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    text = html_text(resp)
    for line in ("3", "4", "5", "6", "7"):
        assert line in text
    assert session.scalar(select(func.count(Expert.id))) == 0
    assert session.scalar(select(User).where(User.login == "imp1@example.org")) is None
    rows = [good, ["imp2@example.org", "周老师", "", "某研究所", es.code(13), f"{cat.code}", "", "", PASSWORD]]
    resp = client.post("/admin/experts/import", data={"file": (io.BytesIO(xlsx([HEADER, *rows])), "e.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    assert session.scalar(select(func.count(Expert.id))) == 2


def test_an_expert_declares_and_withdraws_a_conflict(session, client, login, make_user):
    cat = es.category(session)
    expert = es.expert(session, make_user, [cat])
    session.commit()
    login(expert.user)
    assert client.post("/review/me", data={"credit_code": "bad", "reason": "x"}).status_code == 422
    code = es.code(99)
    assert client.post("/review/me", data={"credit_code": code.lower(), "organisation": "某协会",
                                           "reason": "本人任理事"}).status_code == 302
    conflict = session.scalar(select(ExpertConflict))
    assert conflict.credit_code == code and conflict.expert_id == expert.id
    other = es.expert(session, make_user, [cat])
    session.commit()
    client.post("/logout")
    login(other.user)
    assert client.post(f"/review/me/conflicts/{conflict.id}/withdraw").status_code == 403
    client.post("/logout")
    login(expert.user)
    assert client.post(f"/review/me/conflicts/{conflict.id}/withdraw").status_code == 302
    assert session.scalar(select(func.count(ExpertConflict.id))) == 0
