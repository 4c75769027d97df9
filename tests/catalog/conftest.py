"""Fixtures of the catalog and demand tests."""

import pytest

from catalog.items import operations as ops
from catalog.items.models import ItemStatus
from tests.support.catalog_items import item_data


@pytest.fixture
def keeper(make_user, district):
    """An officer of the district: keeps the catalog."""
    return make_user("officer", jurisdiction=district, name="区文旅局 测试员")


@pytest.fixture
def categories(session, keeper):
    top = ops.save_category(None, code="WY", name="文艺演出", name_en="Performances", actor=keeper)
    sub = ops.save_category(None, code="WY01", name="戏曲曲艺", parent=top, actor=keeper)
    other = ops.save_category(None, code="JZ", name="讲座培训", actor=keeper)
    return {"top": top, "sub": sub, "other": other}


@pytest.fixture
def make_item(keeper, categories):
    """make_item(code=..., name=..., status=ItemStatus.ACTIVE, category=..., **fields)"""

    def make(status=ItemStatus.ACTIVE, category=None, **overrides):
        item = ops.create_item(item_data(category or categories["sub"], **overrides), keeper)
        if status != ItemStatus.DRAFT:
            ops.decide_item_status(item, ItemStatus.ACTIVE, "列入目录", keeper)
            if status != ItemStatus.ACTIVE:
                ops.decide_item_status(item, status, "测试", keeper)
        return item

    return make
