"""The catalog as a spreadsheet: export to .xlsx and .csv, import back all or nothing."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from catalog.items.models import Item, ItemRevision, ItemStatus, RevisionKind
from catalog.items.spreadsheet import COLUMNS
from tests.support.files import xlsx_bytes
from tests.support.pages import html_text
from tests.support.records import count_rows

HEADER_ZH = [names[0] for names in COLUMNS.values()]


def _row(code, name, category="WY01", ceiling="1000", groups="普通群众", levels="区、镇/街道", status="", **kw):
    values = {"code": code, "category": category, "category_name": "", "name": name, "name_en": "", "unit": "场",
              "price_ceiling": ceiling, "target_groups": groups, "levels": levels, "status": status,
              "description": "", "standard_content": "内容", "standard_duration": "", "standard_staffing": "",
              "standard_quality": "", "revision": ""}
    values.update(kw)
    return [values[f] for f in COLUMNS]


def _upload(client, data, name="catalog.xlsx"):
    return client.post("/officer/catalog/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_export_xlsx_lists_every_item(client, login, keeper, make_item):
    make_item(code="EX-1", name="京剧演出", price_ceiling="38000", target_groups=["general", "elderly"])
    make_item(code="EX-2", name="草稿项目", status=ItemStatus.DRAFT)
    login(keeper)
    resp = client.get("/officer/catalog/export?format=xlsx")
    assert resp.status_code == 200 and "spreadsheetml" in resp.mimetype
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER_ZH
    by_code = {r[0]: r for r in rows[1:]}
    assert set(by_code) == {"EX-1", "EX-2"}
    assert by_code["EX-1"][6] == 38000 and by_code["EX-1"][7] == "普通群众、老年人" and by_code["EX-1"][9] == "有效"
    csv_text = client.get("/officer/catalog/export?format=csv").data.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("编码,类别编码") and "京剧演出" in csv_text


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_export_then_import_back_changes_nothing(client, login, session, keeper, make_item, lang):
    make_item(code="RT-1", name="往返一", target_groups=["disabled", "migrant"], levels=["town", "community"])
    make_item(code="RT-2", name="往返二", status=ItemStatus.WATCH)
    login(keeper)
    client.post("/lang", data={"lang": lang})
    exported = client.get("/officer/catalog/export?format=xlsx").data
    revisions = count_rows(session, ItemRevision)
    resp = _upload(client, exported)
    assert resp.status_code == 302
    assert count_rows(session, ItemRevision) == revisions
    flash = html_text(client.get("/officer/catalog/"))
    assert ("新建 0 个项目，修改 0 个" in flash and "2 个未变" in flash) or "0 items created, 0 changed" in flash


def test_import_creates_drafts_and_revises_existing_items(client, login, session, keeper, make_item, categories):
    item = make_item(code="IM-1", name="旧名称", price_ceiling="500")
    login(keeper)
    data = xlsx_bytes([HEADER_ZH, _row("IM-1", "新名称", ceiling="650.5", status="有效"),
                  _row("IM-2", "新增项目", category="JZ", groups="老年人, minors", levels="community")])
    resp = _upload(client, data)
    assert resp.status_code == 302
    session.expire_all()
    item = session.get(Item, item.id)
    assert item.name == "新名称" and item.price_ceiling == Decimal("650.50") and item.status == ItemStatus.ACTIVE
    rev = session.scalar(select(ItemRevision).where(ItemRevision.item_id == item.id,
                                                    ItemRevision.number == item.revision))
    assert rev.kind == RevisionKind.IMPORT and "catalog.xlsx" in rev.note
    new = session.scalar(select(Item).where(Item.code == "IM-2"))
    assert new.status == ItemStatus.DRAFT and new.target_groups == ["elderly", "minors"] and new.levels == ["community"]
    assert new.pinyin_initials == "xzxm"


def test_import_is_all_or_nothing_and_names_every_bad_row(client, login, session, keeper, make_item):
    item = make_item(code="AON-1", name="原名", price_ceiling="800")
    login(keeper)
    items, revisions = count_rows(session, Item), count_rows(session, ItemRevision)
    data = xlsx_bytes([HEADER_ZH,
                  _row("AON-1", "改名", ceiling="900"),           # 2: good
                  _row("AON-2", "零限价", ceiling="0"),           # 3: zero ceiling
                  _row("AON-3", "负限价", ceiling="-10"),         # 4: negative
                  _row("AON-4", "文字限价", ceiling="三千"),       # 5: not a number
                  _row("AON-5", "未知类别", category="ZZ"),       # 6: unknown category
                  _row("aon-1", "重复编码"),                      # 7: code twice in the file
                  _row("AON-6", "未知对象", groups="外星人"),      # 8: unknown target group
                  _row("AON-1b", "状态变更", status="暂停"),       # 9: a new item is not created suspended
                  _row("AON-1", "改状态", status="退出"),         # 10: status change (and line 2's code again)
                  _row("", "无编码"),                             # 11: empty code
                  ])
    resp = _upload(client, data)
    assert resp.status_code == 422
    rows = dict(_error_rows(resp))
    assert set(rows) == {3, 4, 5, 6, 7, 8, 9, 10, 11}
    assert "大于零" in rows[3] and "大于零" in rows[4] and "不是数字" in rows[5] and "ZZ" in rows[6]
    assert "第 2 行" in rows[7] and "外星人" in rows[8] and "草稿" in rows[9] and "第 2 行" in rows[10]
    assert "编码为空" in rows[11]
    session.expire_all()
    assert (count_rows(session, Item), count_rows(session, ItemRevision)) == (items, revisions)
    assert session.get(Item, item.id).name == "原名"


def _error_rows(resp):
    import re

    body = resp.get_data(as_text=True)
    for line, reason in re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", body):
        yield int(line), reason


def test_import_refuses_status_change_of_existing_item(client, login, session, keeper, make_item):
    make_item(code="SC-1", name="状态项目")
    login(keeper)
    resp = _upload(client, xlsx_bytes([HEADER_ZH, _row("SC-1", "状态项目", status="watch")]))
    assert resp.status_code == 422 and "记录在案的决定" in html_text(resp)


def test_import_accepts_english_headers_and_csv(client, login, session, keeper, categories):
    login(keeper)
    header = [names[1] for field, names in COLUMNS.items()]
    lines = [",".join(header), ",".join(str(v) for v in _row("EN-1", "英文表头", groups="elderly", levels="town"))]
    resp = _upload(client, ("\n".join(lines) + "\n").encode(), name="items.csv")
    assert resp.status_code == 302
    assert session.scalar(select(Item).where(Item.code == "EN-1")).levels == ["town"]


def test_import_without_a_required_column_is_refused(client, login, session, keeper):
    login(keeper)
    resp = _upload(client, xlsx_bytes([["编码", "名称"], ["X-1", "缺列"]]))
    assert resp.status_code == 302
    assert "表头缺少“类别编码”列" in html_text(client.get("/officer/catalog/"))
    assert session.scalar(select(Item).where(Item.code == "X-1")) is None
