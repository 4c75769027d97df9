"""The demo catalog: categories, items with standards and ceilings, the published 2026 version,
demand spread over the communities; loading it twice changes nothing."""

from sqlalchemy import distinct, func, select

from catalog.demand.models import DemandRequest, DemandSupport
from catalog.items.models import Category, Item, ItemStatus, ItemStatusDecision
from catalog.versions.models import CatalogVersion, VersionPhase
from catalog.versions.operations import compare_versions, version_in_force
from core import audit
from core.areas.models import Area, AreaLevel


def _counts(session):
    return tuple(session.scalar(select(func.count()).select_from(m)) for m in
                 (Category, Item, ItemStatusDecision, CatalogVersion, DemandRequest, DemandSupport))


def test_demo_catalog_is_realistic_and_idempotent(session):
    from seeds import demo as seed

    seed.run_demo(lambda *_a: None)
    tops = session.scalars(select(Category.name).where(Category.parent_id.is_(None))).all()
    assert len(tops) >= 8 and {"文艺演出", "讲座培训", "展览展示", "阅读推广", "数字文化", "非遗传承", "全民健身",
                               "特殊群体服务"} <= set(tops)
    items = session.scalars(select(Item)).all()
    assert len(items) >= 40
    active = [i for i in items if i.status == ItemStatus.ACTIVE]
    assert len(active) > len(items) * 0.8
    assert all(i.price_ceiling > 0 and i.standard_content and i.unit and i.target_groups and i.levels for i in items)
    assert {i.unit for i in items} >= {"场", "课时", "期"}

    v26 = session.scalar(select(CatalogVersion).where(CatalogVersion.year == 2026))
    in_force = version_in_force()
    assert v26.is_published and in_force.id == v26.id and v26.phase() == VersionPhase.IN_FORCE
    v27 = session.scalar(select(CatalogVersion).where(CatalogVersion.year == 2027))
    diff = compare_versions(v26, v27)
    assert diff.added and diff.removed and diff.changed

    communities = session.scalar(select(func.count()).select_from(Area).where(Area.level == AreaLevel.COMMUNITY))
    with_demand = session.scalar(select(func.count(distinct(DemandRequest.community_id))))
    assert with_demand >= communities * 0.8
    requests, supports = (session.scalar(select(func.count()).select_from(m)) for m in (DemandRequest, DemandSupport))
    assert supports > requests >= 40

    before = _counts(session)
    seed.run_demo(lambda *_a: None)
    assert _counts(session) == before
    assert audit.verify() > 0
