"""Finding items: the filters and search shared by the public catalog, the officers' list and the API.

Search matches Chinese text (name, description, service standard, category names) and, when
the query is written in latin letters, the full pinyin or its initials of the item's name and
of its categories' names: "wyyc" and "wenyi" both find the items of 文艺演出.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, case, cast, func, or_, select
from sqlalchemy.orm import aliased

from catalog.items.models import IN_CATALOG, Category, Item, ItemStatus, TargetGroup
from catalog.items.pinyin import pinyin_query
from core.areas.models import AreaLevel
from core.db import db

# The public's status filter: the catalog as it stands, each status on its own, or everything published.
STATUS_FILTERS = ("in_catalog", *[s.value for s in ItemStatus if s != ItemStatus.DRAFT], "all")


@dataclass
class Filters:
    q: str = ""
    category_id: int | None = None
    target_group: str = ""
    level: str = ""
    status: str = "in_catalog"

    @classmethod
    def from_args(cls, args, officer: bool = False) -> Filters:
        """Filters from query arguments; unknown values are ignored rather than refused."""
        f = cls(q=(args.get("q") or "").strip()[:60])
        try:
            f.category_id = int(args.get("category") or 0) or None
        except (TypeError, ValueError):
            f.category_id = None
        tg = (args.get("target_group") or "").strip()
        f.target_group = tg if tg in {t.value for t in TargetGroup} else ""
        lv = (args.get("level") or "").strip()
        f.level = lv if lv in {a.value for a in AreaLevel} else ""
        st = (args.get("status") or "").strip()
        allowed = set(STATUS_FILTERS) | ({ItemStatus.DRAFT.value} if officer else set())
        f.status = st if st in allowed else ("all" if officer and not st else "in_catalog")
        return f

    def as_args(self) -> dict:
        args = {"q": self.q, "category": self.category_id or "", "target_group": self.target_group,
                "level": self.level, "status": self.status}
        return {k: v for k, v in args.items() if v}


def item_query(f: Filters, public: bool = True):
    """A select of items matching the filters, ordered by category and code (name matches first
    when searching). The public never sees draft items."""
    parent = aliased(Category)
    stmt = (select(Item).join(Category, Item.category_id == Category.id)
            .outerjoin(parent, Category.parent_id == parent.id))
    if public:
        stmt = stmt.where(Item.status != ItemStatus.DRAFT)
    if f.status == "in_catalog":
        stmt = stmt.where(Item.status.in_(IN_CATALOG))
    elif f.status != "all":
        stmt = stmt.where(Item.status == ItemStatus(f.status))
    if f.category_id:
        stmt = stmt.where(or_(Category.id == f.category_id, Category.parent_id == f.category_id))
    # JSON lists are matched on their text: the values are fixed words, quoted in the stored form.
    if f.target_group:
        stmt = stmt.where(cast(Item.target_groups, String).contains(f'"{f.target_group}"', autoescape=True))
    if f.level:
        stmt = stmt.where(cast(Item.levels, String).contains(f'"{f.level}"', autoescape=True))
    order = [func.coalesce(parent.position, Category.position), func.coalesce(parent.code, Category.code),
             Category.position, Category.code, Item.code]
    if f.q:
        q = f.q
        text_match = or_(
            Item.name.contains(q, autoescape=True),
            Item.name_en.ilike(f"%{_escape_like(q)}%", escape="\\"),
            Item.code.ilike(f"%{_escape_like(q)}%", escape="\\"),
            Item.description.contains(q, autoescape=True),
            Item.standard_content.contains(q, autoescape=True),
            Category.name.contains(q, autoescape=True),
            parent.name.contains(q, autoescape=True),
        )
        conditions = [text_match]
        key = pinyin_query(q)
        if key:
            conditions += [Item.pinyin.contains(key, autoescape=True),
                           Item.pinyin_initials.contains(key, autoescape=True),
                           Category.pinyin.contains(key, autoescape=True),
                           Category.pinyin_initials.contains(key, autoescape=True),
                           parent.pinyin.contains(key, autoescape=True),
                           parent.pinyin_initials.contains(key, autoescape=True)]
        stmt = stmt.where(or_(*conditions))
        name_hit = [Item.name.contains(q, autoescape=True)]
        if key:
            name_hit += [Item.pinyin.startswith(key, autoescape=True), Item.pinyin_initials.startswith(key,
                                                                                                     autoescape=True)]
        order.insert(0, case((or_(*name_hit), 0), else_=1))
    return stmt.order_by(*order)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def category_tree(public: bool = True) -> list[tuple[Category, list[Category], int]]:
    """Top categories with their sub-categories and the number of items in the catalog under each."""
    cats = list(db.session.scalars(select(Category).order_by(Category.position, Category.code)))
    stmt = select(Item.category_id, func.count()).group_by(Item.category_id)
    stmt = stmt.where(Item.status.in_(IN_CATALOG)) if public else stmt
    counts = dict(db.session.execute(stmt).all())
    tops = [c for c in cats if c.parent_id is None]
    out = []
    for top in tops:
        subs = [c for c in cats if c.parent_id == top.id]
        out.append((top, subs, counts.get(top.id, 0) + sum(counts.get(s.id, 0) for s in subs)))
    return out
