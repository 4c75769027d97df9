"""Cached page parts keyed by data versions (core/versions.py): reused while their tables are
unchanged, never served after a committed change, a change of the transaction's own, or the
moment (a bid deadline) they said they depend on."""

from __future__ import annotations

import datetime as dt

import time_machine
from sqlalchemy import select, text, update

from catalog.items.models import Item
from core import versions
from core.db import utcnow
from core.versions import DataVersion
from tests.support.statements import request_statements


def _version(session, table: str) -> int:
    return session.scalar(select(DataVersion.version).where(DataVersion.table_name == table)) or 0


def _get(client, url) -> tuple[str, list[str]]:
    resp, sql = request_statements(client, url)
    return resp.get_data(as_text=True), sql


def test_a_committed_change_raises_the_tables_version_and_the_page_shows_it(market, client, session):
    item = market.item()
    session.commit()
    first, _ = _get(client, "/catalog/")
    assert item.name in first
    again, sql = _get(client, "/catalog/")
    assert again == first
    assert not [s for s in sql if "FROM items" in s], "the second request reads no item: its content is reused"

    before = _version(session, "categories")
    item.category.name = "版本号测试类别"  # (an item's own content changes only with a revision)
    session.commit()
    assert _version(session, "categories") == before + 1
    after, _ = _get(client, "/catalog/")
    assert "版本号测试类别" in after and item.code in after


def test_a_bulk_update_by_primary_key_raises_the_version(market, session):
    item = market.item()
    session.commit()
    before = _version(session, "items")
    session.execute(update(Item), [{"id": item.id, "rating_count": 7}])
    session.commit()
    assert _version(session, "items") == before + 1


def test_raw_sql_is_not_noticed_unless_the_writer_touches_the_table(market, client, session):
    item = market.item()
    session.commit()
    _get(client, "/catalog/")
    session.execute(text("UPDATE items SET name = '原始语句改名' WHERE id = :i"), {"i": item.id})
    session.commit()
    assert "原始语句改名" not in _get(client, "/catalog/")[0]  # why touch() exists
    session.execute(text("UPDATE items SET name = '原始语句改名' WHERE id = :i"), {"i": item.id})
    versions.touch(session, "items")
    session.commit()
    assert "原始语句改名" in _get(client, "/catalog/")[0]


def test_a_transactions_own_changes_are_never_answered_from_the_cache(market, client, session):
    item = market.item()
    session.commit()
    _get(client, "/catalog/")
    item.category.name = "尚未提交的类别"
    session.flush()  # not committed: the counter is not raised yet
    assert "尚未提交的类别" in _get(client, "/catalog/")[0]


def test_an_unwatched_table_gets_no_counter(market, session):
    market.provider()  # providers are watched (the portal); users, written with them, are not
    session.commit()
    assert session.scalar(select(DataVersion).where(DataVersion.table_name == "users")) is None


def _due_soon(market, session):
    """A published project whose deadline comes well within the cache's time bound."""
    project = market.published()
    project.bid_deadline = utcnow() + dt.timedelta(minutes=10)
    session.commit()
    return project


def test_the_project_list_turns_a_project_closed_at_its_deadline_without_any_write(market, client, session):
    project = _due_soon(market, session)
    page, _ = _get(client, "/projects/")
    assert f'href="/projects/{project.id}"' in page
    assert page.count('data-state="published"') == 1
    with time_machine.travel(project.bid_deadline + dt.timedelta(seconds=1), tick=False):
        page, _ = _get(client, "/projects/")
        assert page.count('data-state="published"') == 0 and page.count('data-state="closed"') == 1


def test_the_portal_home_drops_a_project_from_open_ones_at_its_deadline(market, client, session):
    project = _due_soon(market, session)
    assert f'href="/portal/projects/{project.id}"' in _get(client, "/portal")[0]
    with time_machine.travel(project.bid_deadline + dt.timedelta(seconds=1), tick=False):
        assert f'href="/portal/projects/{project.id}"' not in _get(client, "/portal")[0]


def test_each_language_has_its_own_rendering(market, client, session):
    market.item()
    session.commit()
    chinese, _ = _get(client, "/catalog/")
    client.set_cookie("lang", "en")
    english, _ = _get(client, "/catalog/")
    assert "公共文化服务指导性目录" in chinese
    assert "Guidance catalog of public cultural services" in english
    assert "公共文化服务指导性目录" not in english
