"""URL arguments of the catalog and demand pages, for the route × role test.

The demand request lies in a community none of the role users lives in, so residents get 403
on its page and its support button (object-level), as a stranger would."""

from catalog.demand import operations as demand_ops
from catalog.items import operations as ops
from catalog.items.models import Category, ItemStatus
from catalog.versions import operations as version_ops
from core.areas.models import Area, AreaLevel, Venue, VenueKind
from tests.support.access.registry import OBJECT_GUARDED, builds

OBJECT_GUARDED.update({"demand.detail", "demand.support", "catalog_api.support_demand"})


def _world(ctx):
    """One published item, one version, one request in a foreign community (made once per run)."""
    if "catalog_world" in ctx:
        return ctx["catalog_world"]
    session, make_user = ctx["session"], ctx["make_user"]
    keeper = make_user("officer")
    top = Category(code="ACC-C", name="访问测试类")
    session.add(top)
    session.flush()
    item = ops.create_item({"code": "ACC-1", "category": top, "name": "访问测试项目", "unit": "场",
                            "price_ceiling": "100", "target_groups": ["general"], "levels": ["community"],
                            "standard_content": "内容"}, keeper)
    ops.decide_item_status(item, ItemStatus.ACTIVE, "测试", keeper)
    version = version_ops.create_version(year=2030, title="访问测试目录", actor=keeper)
    version_ops.publish_version(version, publicity_days=1, actor=keeper)
    district = Area(code="ACC-CD", name="区", level=AreaLevel.DISTRICT, population=1)
    town = Area(code="ACC-CT", name="镇", level=AreaLevel.TOWN, population=1, parent=district)
    elsewhere = Area(code="ACC-CC", name="别处社区", level=AreaLevel.COMMUNITY, population=1, parent=town)
    venue = Venue(name="别处文化室", kind=VenueKind.CULTURAL_ROOM, area=elsewhere, capacity=10)
    session.add(venue)
    session.flush()
    stranger = make_user("resident", community_area=elsewhere)
    request, _merged = demand_ops.request_item(stranger, item, venue, "")
    ctx["catalog_world"] = (top, item, version, request)
    return ctx["catalog_world"]


@builds("item_code")
def _item_code(ctx):
    return _world(ctx)[1].code


@builds("revision_number")
def _revision_number(ctx):
    return 1


@builds("category_id")
def _category_id(ctx):
    return _world(ctx)[0].id


@builds("version_id")
def _version_id(ctx):
    return _world(ctx)[2].id


@builds("demand_id")
def _demand_id(ctx):
    return _world(ctx)[3].id

