"""Catalog items: revisions and history, status decisions, versions and their comparison, pinyin
search, and the refusals of bad input (nothing changed)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from catalog.items import operations as ops
from catalog.items.models import Item, ItemRevision, ItemStatus, ItemStatusDecision, RevisionKind
from catalog.items.search import Filters, item_query
from catalog.versions import operations as version_ops
from catalog.versions.models import CatalogVersion, CatalogVersionEntry, VersionPhase
from core.audit import AuditEvent
from core.errors import Forbidden, Invalid, Refused
from tests.support.catalog_items import item_data
from tests.support.pages import html_text
from tests.support.records import count_rows

# --- items and revisions -------------------------------------------------------------------------

def test_new_item_is_a_draft_with_revision_one(session, keeper, categories):
    item = ops.create_item(item_data(categories["sub"], name="京剧名段演出", price_ceiling="38,000.5"), keeper)
    assert item.status == ItemStatus.DRAFT and item.revision == 1
    assert item.price_ceiling == Decimal("38000.50")
    rev = session.scalar(select(ItemRevision).where(ItemRevision.item_id == item.id))
    assert rev.number == 1 and rev.kind == RevisionKind.CREATE and rev.data["name"] == "京剧名段演出"
    assert rev.data["price_ceiling"] == "38000.50" and rev.created_by_id == keeper.id
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "catalog.item.create"))


def test_every_change_makes_a_new_revision_and_keeps_the_old_one(session, keeper, make_item):
    item = make_item(code="WY-9", name="评剧演出", price_ceiling="12000")
    first = item.revision
    rev = ops.update_item(item, {**item.snapshot(), "category": item.category, "price_ceiling": "13500"}, keeper,
                          note="成本调研后上调")
    assert rev.number == first + 1 and rev.changed_fields == ["price_ceiling"] and rev.note == "成本调研后上调"
    assert item.price_ceiling == Decimal("13500.00") and item.revision == first + 1
    old = session.scalar(select(ItemRevision).where(ItemRevision.item_id == item.id, ItemRevision.number == first))
    assert old.data["price_ceiling"] == "12000.00"
    # No change, no revision.
    assert ops.update_item(item, {**item.snapshot(), "category": item.category}, keeper) is None
    assert item.revision == first + 1
    numbers = session.scalars(select(ItemRevision.number).where(ItemRevision.item_id == item.id)
                              .order_by(ItemRevision.number)).all()
    assert numbers == list(range(1, first + 2))


def test_pinyin_keys_follow_the_name(session, make_item):
    item = make_item(code="WY-1", name="文艺演出进社区")
    assert (item.pinyin, item.pinyin_initials) == ("wenyiyanchujinshequ", "wyycjsq")
    item_row = session.get(Item, item.id)
    assert item_row.pinyin_initials == "wyycjsq"


def test_history_page_shows_every_revision_with_its_differences(client, session, keeper, make_item):
    item = make_item(code="WY-2", name="相声专场", price_ceiling="15000")
    ops.update_item(item, {**item.snapshot(), "category": item.category, "price_ceiling": "16000",
                           "standard_duration": "不少于90分钟"}, keeper, note="延长时长")
    text = html_text(client.get(f"/catalog/items/{item.code}/history"))
    assert "延长时长" in text and "¥15,000.00" in text and "¥16,000.00" in text and "不少于90分钟" in text
    assert text.count("修订") >= item.revision
    resp = client.get(f"/catalog/items/{item.code}/revisions/1")
    assert resp.status_code == 200 and "¥15,000.00" in html_text(resp)
    assert client.get(f"/catalog/items/{item.code}/revisions/99").status_code == 404


# --- bad input: refused with a reason, nothing changed ------------------------------------------

@pytest.mark.parametrize("ceiling, words", [("0", "大于零"), ("-5", "大于零"), ("abc", "不是数字"), ("NaN", "不是数字"),
                                            ("", "请输入"), ("12.345", "两位小数")])
def test_bad_ceiling_is_refused_and_nothing_is_saved(client, login, session, keeper, categories, ceiling, words):
    login(keeper)
    before = count_rows(session, Item)
    resp = client.post("/officer/catalog/items/new", data={
        "code": "BAD-1", "category_id": categories["sub"].id, "name": "坏限价", "unit": "场", "price_ceiling": ceiling,
        "target_groups": ["general"], "levels": ["town"], "standard_content": "内容"})
    assert resp.status_code == 422
    assert words in html_text(resp)
    assert count_rows(session, Item) == before


def test_ceiling_rules_in_the_operation(keeper, categories):
    for raw in ("0", "-1", "abc", "inf", None, "1e3x"):
        with pytest.raises(Invalid) as e:
            ops.create_item(item_data(categories["sub"], price_ceiling=raw), keeper)
        assert e.value.field == "price_ceiling"


def test_database_refuses_a_zero_ceiling_too(session, categories):
    from sqlalchemy.exc import IntegrityError

    session.add(Item(code="DB-0", category=categories["sub"], name="x", unit="场", price_ceiling=Decimal(0),
                     target_groups=[], levels=[]))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_duplicate_code_is_refused(client, login, session, keeper, categories, make_item):
    make_item(code="DUP-1", name="原有项目")
    login(keeper)
    before = count_rows(session, Item)
    resp = client.post("/officer/catalog/items/new", data={
        "code": "dup-1", "category_id": categories["sub"].id, "name": "重复", "unit": "场", "price_ceiling": "100",
        "target_groups": ["general"], "levels": ["town"], "standard_content": "内容"})
    assert resp.status_code == 422 and "已被“原有项目”使用" in html_text(resp)
    assert count_rows(session, Item) == before


def test_editing_a_published_item_in_place_is_refused(session, keeper, make_item):
    item = make_item(code="PUB-1", name="已发布项目", price_ceiling="5000")
    version = version_ops.create_version(year=2026, title="2026", actor=keeper)
    version_ops.publish_version(version, publicity_days=7, actor=keeper)
    session.commit()  # a savepoint in the test's transaction
    revisions = count_rows(session, ItemRevision)
    item.price_ceiling = Decimal("9999")
    with pytest.raises(Refused) as e:
        session.flush()
    assert e.value.code == "edit_in_place" and "PUB-1" in str(e.value.message)
    session.rollback()
    session.expire_all()
    assert session.get(Item, item.id).price_ceiling == Decimal("5000.00")
    assert count_rows(session, ItemRevision) == revisions
    pinned = session.scalar(select(ItemRevision).join(CatalogVersionEntry).where(
        CatalogVersionEntry.version_id == version.id, CatalogVersionEntry.item_id == item.id))
    assert pinned.data["price_ceiling"] == "5000.00"


def test_a_written_revision_cannot_be_changed(session, make_item):
    item = make_item(code="IMM-1")
    rev = session.scalar(select(ItemRevision).where(ItemRevision.item_id == item.id, ItemRevision.number == 1))
    rev.data = {**rev.data, "price_ceiling": "1.00"}
    with pytest.raises(Refused):
        session.flush()
    session.rollback()


def test_stale_edit_form_is_refused(client, login, session, keeper, make_item):
    item = make_item(code="STALE-1", name="旧名")
    base = item.revision
    ops.update_item(item, {**item.snapshot(), "category": item.category, "name": "他人修改"}, keeper)
    session.commit()
    login(keeper)
    resp = client.post(f"/officer/catalog/items/{item.code}/edit", data={
        **{k: v for k, v in item.snapshot().items() if k not in ("category", "target_groups", "levels")},
        "name": "我的修改", "category_id": item.category_id, "target_groups": ["general"], "levels": ["town"],
        "base_revision": base})
    assert resp.status_code == 409
    session.expire_all()
    assert session.get(Item, item.id).name == "他人修改"


def test_town_officers_read_but_do_not_keep_the_catalog(client, login, make_user, town, categories):
    officer = make_user("officer", jurisdiction=town)
    with pytest.raises(Forbidden):
        ops.create_item(item_data(categories["sub"]), officer)
    login(officer)
    assert client.get("/officer/catalog/").status_code == 200
    resp = client.post("/officer/catalog/items/new", data={
        "code": "TOWN-1", "category_id": categories["sub"].id, "name": "镇建项目", "unit": "场", "price_ceiling": "100",
        "target_groups": ["general"], "levels": ["town"], "standard_content": "内容"})
    assert resp.status_code == 403


def test_officer_edits_an_item_through_the_form(client, login, session, keeper, make_item):
    item = make_item(code="FORM-1", name="表单项目", price_ceiling="800")
    login(keeper)
    page = client.get(f"/officer/catalog/items/{item.code}/edit")
    assert page.status_code == 200 and 'value="800.00"' in page.get_data(as_text=True)
    resp = client.post(f"/officer/catalog/items/{item.code}/edit", data={
        "code": "FORM-1", "category_id": item.category_id, "name": "表单项目（新）", "unit": "场",
        "price_ceiling": "900",
        "target_groups": ["general", "elderly"], "levels": ["community"], "standard_content": "新内容",
        "note": "按新标准", "base_revision": item.revision})
    assert resp.status_code == 302
    session.expire_all()
    item = session.get(Item, item.id)
    assert item.name == "表单项目（新）" and item.price_ceiling == Decimal("900.00")
    assert item.pinyin.startswith("biaodan")
    rev = session.scalar(select(ItemRevision).where(ItemRevision.item_id == item.id,
                                                    ItemRevision.number == item.revision))
    assert set(rev.changed_fields) == {"name", "price_ceiling", "target_groups", "levels", "standard_content",
                                       "standard_duration"}


# --- status decisions ---------------------------------------------------------------------------------

def test_status_changes_only_through_a_decision(session, keeper, make_item):
    item = make_item(code="ST-1")
    item.status = ItemStatus.WATCH
    item.revision += 1
    session.add(ItemRevision(item=item, number=item.revision, kind=RevisionKind.EDIT, data=item.snapshot()))
    with pytest.raises(Refused) as e:
        session.flush()
    assert e.value.code == "status_without_decision"
    session.rollback()


def test_decision_records_who_when_why_and_makes_a_revision(session, client, keeper, make_item):
    item = make_item(code="ST-2", name="广场舞展演")
    with time_machine.travel(dt.datetime(2026, 7, 1, 2, 0, tzinfo=dt.UTC), tick=False):
        decision = ops.decide_item_status(item, "watch", "满意度低于3.5分", keeper)
    assert item.status == ItemStatus.WATCH
    assert (decision.from_status, decision.to_status, decision.decided_by_id) == (ItemStatus.ACTIVE, ItemStatus.WATCH,
                                                                                  keeper.id)
    assert decision.decided_at == dt.datetime(2026, 7, 1, 2, 0, tzinfo=dt.UTC)
    assert decision.revision.number == item.revision and decision.revision.data["status"] == "watch"
    text = html_text(client.get(f"/catalog/items/{item.code}"))
    assert "观察" in text and "满意度低于3.5分" in text and "2026-07-01" in text


def test_rules_propose_decisions_with_their_reference(session, make_item):
    item = make_item(code="ST-3")
    decision = ops.decide_item_status(item, ItemStatus.WATCH, "12个月内满意度3.2分（41条评价）", None,
                                      rule="item_watch@1")
    assert decision.source.value == "rule" and decision.rule == "item_watch@1" and decision.decided_by_id is None


@pytest.mark.parametrize("target, reason, error", [
    ("active", "已是有效", Refused), ("draft", "回到草稿", Refused), ("watch", "  ", Invalid),
    ("nonsense", "x", Invalid)])
def test_bad_decisions_are_refused(session, keeper, make_item, target, reason, error):
    item = make_item(code="ST-4")
    before = count_rows(session, ItemStatusDecision)
    with pytest.raises(error):
        ops.decide_item_status(item, target, reason, keeper)
    assert count_rows(session, ItemStatusDecision) == before


def test_decision_form(client, login, session, keeper, make_item):
    item = make_item(code="ST-5", status=ItemStatus.DRAFT)
    login(keeper)
    assert client.post(f"/officer/catalog/items/{item.code}/status", data={"status": "active", "reason": ""}
                       ).status_code == 422
    resp = client.post(f"/officer/catalog/items/{item.code}/status", data={"status": "active", "reason": "审议通过"})
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(Item, item.id).status == ItemStatus.ACTIVE


# --- versions -----------------------------------------------------------------------------------------

def test_version_lifecycle_draft_publicity_in_force_superseded(session, keeper, make_item):
    a = make_item(code="V-A", name="甲", price_ceiling="100")
    b = make_item(code="V-B", name="乙", price_ceiling="200")
    make_item(code="V-D", name="草稿", status=ItemStatus.DRAFT)
    start = dt.datetime(2025, 12, 1, 1, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        v26 = version_ops.create_version(year=2026, title="2026版", actor=keeper)
        assert v26.phase() == VersionPhase.DRAFT
        version_ops.publish_version(v26, publicity_days=7, actor=keeper)
        assert v26.phase() == VersionPhase.PUBLICITY and v26.publicity_ends_at == start + dt.timedelta(days=7)
        assert version_ops.version_in_force() is None
    entries = version_ops.version_entries(v26)
    assert {e.code for e in entries.values()} == {"V-A", "V-B"}  # drafts are not in the catalog
    assert v26.phase(start + dt.timedelta(days=7)) == VersionPhase.IN_FORCE
    assert version_ops.version_in_force(start + dt.timedelta(days=8)).id == v26.id

    # During 2026: b changes, a is retired, c is added.
    ops.update_item(b, {**b.snapshot(), "category": b.category, "price_ceiling": "250"}, keeper, note="上调")
    ops.decide_item_status(a, ItemStatus.RETIRED, "退出目录", keeper)
    c = make_item(code="V-C", name="丙")
    v27 = version_ops.create_version(year=2027, title="2027版", actor=keeper)
    comparison = version_ops.compare_versions(v26, v27)  # a draft compares with what it would pin now
    assert [e.code for e in comparison.added] == ["V-C"]
    assert [e.code for e in comparison.removed] == ["V-A"]
    assert [(after.code, diffs) for _before, after, diffs in comparison.changed] == [
        ("V-B", [("price_ceiling", "200.00", "250.00")])]

    with time_machine.travel(dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC), tick=False):
        version_ops.publish_version(v27, publicity_days=5, actor=keeper)
    later = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    in_force = version_ops.version_in_force(later)
    assert in_force.id == v27.id and v26.phase(later, in_force.year) == VersionPhase.SUPERSEDED
    # The 2026 version still shows b as it was pinned.
    assert version_ops.version_entries(v26)[b.id].data["price_ceiling"] == "200.00"
    assert version_ops.version_entries(v27)[c.id].revision == c.revision


def test_version_refusals(session, keeper, make_item):
    make_item(code="VR-1")
    v = version_ops.create_version(year=2026, title="2026", actor=keeper)
    with pytest.raises(Invalid):
        version_ops.create_version(year=2026, title="again", actor=keeper)
    with pytest.raises(Invalid):
        version_ops.publish_version(v, publicity_days=0, actor=keeper)
    version_ops.publish_version(v, publicity_days=3, actor=keeper)
    for call in (lambda: version_ops.publish_version(v, actor=keeper),
                 lambda: version_ops.update_version(v, title="新标题", notes="", actor=keeper),
                 lambda: version_ops.delete_version(v, keeper)):
        with pytest.raises(Refused):
            call()
    with pytest.raises(Invalid):
        version_ops.create_version(year=2025, title="too late", actor=keeper)


def test_publishing_needs_items_in_the_catalog(session, keeper, categories):
    v = version_ops.create_version(year=2026, title="空", actor=keeper)
    with pytest.raises(Refused):
        version_ops.publish_version(v, actor=keeper)
    assert count_rows(session, CatalogVersionEntry) == 0


def test_items_made_outside_the_operations_get_a_baseline_revision(session, keeper, categories):
    item = Item(code="RAW-1", category=categories["sub"], name="外部创建", unit="场", price_ceiling=Decimal("10"),
                target_groups=["general"], levels=["town"], status=ItemStatus.ACTIVE)
    session.add(item)
    session.flush()
    v = version_ops.create_version(year=2026, title="2026", actor=keeper)
    version_ops.publish_version(v, actor=keeper)
    rev = session.scalar(select(ItemRevision).where(ItemRevision.item_id == item.id))
    assert rev.kind == RevisionKind.BASELINE and version_ops.version_entries(v)[item.id].revision == 1


def test_officer_pages_draft_publish_and_compare(client, login, session, keeper, make_item):
    item = make_item(code="PG-1", name="页面项目", price_ceiling="300")
    login(keeper)
    resp = client.post("/officer/catalog/versions/new", data={"year": 2026, "title": "", "notes": ""})
    assert resp.status_code == 302
    v26 = session.scalar(select(CatalogVersion).where(CatalogVersion.year == 2026))
    assert v26.title == "2026年指导性目录"
    assert client.post(f"/officer/catalog/versions/{v26.id}/publish", data={"publicity_days": 99}).status_code == 422
    assert client.post(f"/officer/catalog/versions/{v26.id}/publish", data={"publicity_days": 7}).status_code == 302
    ops.update_item(item, {**item.snapshot(), "category": item.category, "unit": "期"}, keeper)
    client.post("/officer/catalog/versions/new", data={"year": 2027, "title": "2027征求意见稿"})
    v27 = session.scalar(select(CatalogVersion).where(CatalogVersion.year == 2027))
    text = html_text(client.get(f"/officer/catalog/versions/{v27.id}"))
    assert "新增 0 项，移除 0 项，变更 1 项" in text
    text = html_text(client.get(f"/catalog/versions/compare?a={v26.id}&b={v27.id}"))
    assert "页面项目" in text and "单位" in text and "期" in text
    # The public sees published versions only.
    client.post("/logout")
    assert client.get(f"/catalog/versions/{v27.id}").status_code == 404
    assert client.get(f"/catalog/versions/{v26.id}").status_code == 200
    assert "2027征求意见稿" not in html_text(client.get("/catalog/versions"))


# --- search ----------------------------------------------------------------------------------------------

@pytest.fixture
def searchable(make_item, categories, keeper):
    other = categories["other"]
    return {
        "jingju": make_item(code="S-1", name="京剧名家名段演出"),  # in 文艺演出 / 戏曲曲艺
        "wenyi": make_item(code="S-2", name="文艺演出进社区", category=categories["top"]),
        "lecture": make_item(code="S-3", name="健康养生讲座", category=other, target_groups=["elderly"],
                             levels=["community"]),
        "film": make_item(code="S-4", name="公益电影放映", category=other, status=ItemStatus.RETIRED),
        "draft": make_item(code="S-5", name="文艺草稿", status=ItemStatus.DRAFT),
    }


def _codes(session, **kw):
    return {i.code for i in session.scalars(item_query(Filters(**kw)))}


@pytest.mark.parametrize("q", ["wyyc", "wenyi", "WenYi", "wen yi", "文艺演出"])
def test_search_finds_performance_items_by_pinyin_and_chinese(session, searchable, q):
    # Both items of 文艺演出 are found (the category's pinyin matches), the lecture is not, nor the draft.
    assert _codes(session, q=q) == {"S-1", "S-2"}


def test_search_by_item_name_pinyin_and_text(session, searchable):
    assert _codes(session, q="jkys") == {"S-3"}
    assert _codes(session, q="jingju") == {"S-1"}
    assert _codes(session, q="养生") == {"S-3"}
    assert _codes(session, q="S-3") == {"S-3"}
    assert _codes(session, q="100%") == set()


def test_filters(session, searchable, categories):
    assert _codes(session) == {"S-1", "S-2", "S-3"}
    assert _codes(session, status="retired") == {"S-4"}
    assert _codes(session, status="all") == {"S-1", "S-2", "S-3", "S-4"}
    assert _codes(session, target_group="elderly") == {"S-3"}
    assert _codes(session, level="community") == {"S-1", "S-2", "S-3"}
    assert _codes(session, level="district") == {"S-1", "S-2"}
    assert _codes(session, category_id=categories["top"].id) == {"S-1", "S-2"}
    assert _codes(session, category_id=categories["sub"].id) == {"S-1"}


def test_public_catalog_page(client, searchable):
    text = html_text(client.get("/catalog/?q=wyyc"))
    assert "京剧名家名段演出" in text and "文艺演出进社区" in text and "健康养生讲座" not in text
    text = html_text(client.get("/catalog/?status=retired"))
    assert "公益电影放映" in text and "退出" in text and "测试" in text  # the status with why
    assert client.get("/catalog/items/S-5").status_code == 404  # drafts are not public
    page = html_text(client.get("/catalog/items/S-3"))
    assert "¥1,000.00" in page and "服务内容" in page and "居民满意度" in page and "历次采购" in page
    assert "居民点单" in page


def test_the_code_of_a_published_item_is_stable(session, keeper, make_item):
    item = make_item(code="CODE-1")
    assert ops.update_item(item, {**item.snapshot(), "category": item.category, "code": "CODE-1A"}, keeper)
    assert item.code == "CODE-1A"  # never published: a typo may still be fixed
    v = version_ops.create_version(year=2026, title="2026", actor=keeper)
    version_ops.publish_version(v, actor=keeper)
    with pytest.raises(Invalid) as e:
        ops.update_item(item, {**item.snapshot(), "category": item.category, "code": "CODE-2"}, keeper)
    assert e.value.field == "code" and session.get(Item, item.id).code == "CODE-1A"


def test_moving_an_item_to_another_category_needs_a_revision(session, make_item, categories):
    item = make_item(code="MOVE-1")
    item.category = categories["other"]
    with pytest.raises(Refused):
        session.flush()
    session.rollback()
