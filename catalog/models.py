"""The guidance catalog (指导性目录): categories and items.

Other modules rely on these names: Category, Item (id, code, name, name_en, unit,
price_ceiling, status, category_id, levels, target_groups) and the enums below.
Figures computed by evaluation (satisfaction, rating count) are written onto Item by that
module; catalog never imports it.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Fixed, Money, UTCDateTime, db, utcnow
from core.models import AreaLevel, enum_column


class ItemStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    WATCH = "watch"
    SUSPENDED = "suspended"
    RETIRED = "retired"

    @property
    def label(self):
        return ITEM_STATUS_LABELS[self]


ITEM_STATUS_LABELS = {
    ItemStatus.DRAFT: _l("Draft"),
    ItemStatus.ACTIVE: _l("Active"),
    ItemStatus.WATCH: _l("On watch"),
    ItemStatus.SUSPENDED: _l("Suspended"),
    ItemStatus.RETIRED: _l("Retired"),
}


class TargetGroup(enum.StrEnum):
    GENERAL = "general"
    ELDERLY = "elderly"
    MINORS = "minors"
    DISABLED = "disabled"
    RURAL = "rural"
    MIGRANT = "migrant"

    @property
    def label(self):
        return TARGET_GROUP_LABELS[self]


TARGET_GROUP_LABELS = {
    TargetGroup.GENERAL: _l("General public"),
    TargetGroup.ELDERLY: _l("Elderly"),
    TargetGroup.MINORS: _l("Minors"),
    TargetGroup.DISABLED: _l("People with disabilities"),
    TargetGroup.RURAL: _l("Rural residents"),
    TargetGroup.MIGRANT: _l("Migrant workers"),
}


class Category(db.Model):
    """Two levels: a top category (parent_id NULL) and its sub-categories."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped[Category | None] = relationship(remote_side=[id], lazy="joined")

    @property
    def top(self) -> Category:
        return self.parent or self


class Item(db.Model):
    """A service the district will buy. Its working values live here; every published state
    of it is kept as an immutable revision (see the catalog versions)."""

    __tablename__ = "items"
    __table_args__ = (CheckConstraint("price_ceiling > 0", name="ceiling_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # Service standard: what a delivered session must meet.
    standard_content: Mapped[str] = mapped_column(Text, default="")
    standard_duration: Mapped[str] = mapped_column(String(120), default="")
    standard_staffing: Mapped[str] = mapped_column(String(200), default="")
    standard_quality: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(10))  # 场 / 课时 / 期 / …
    price_ceiling: Mapped[Decimal] = mapped_column(Money)
    target_groups: Mapped[list] = mapped_column(JSON, default=list)  # TargetGroup values
    levels: Mapped[list] = mapped_column(JSON, default=list)  # AreaLevel values where it may be bought
    status: Mapped[ItemStatus] = mapped_column(enum_column(ItemStatus), default=ItemStatus.DRAFT, index=True)
    # Search keys, kept in step with the name: full pinyin and initials ("wenyiyanchu", "wyyc").
    pinyin: Mapped[str] = mapped_column(String(400), default="", index=True)
    pinyin_initials: Mapped[str] = mapped_column(String(120), default="", index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Written by evaluation: resident satisfaction (1–5) and the ratings behind it.
    satisfaction: Mapped[Decimal | None] = mapped_column(Fixed(4, 2))
    rating_count: Mapped[int] = mapped_column(Integer, default=0)

    category: Mapped[Category] = relationship(lazy="joined", innerjoin=True)

    def may_be_bought_at(self, level: AreaLevel) -> bool:
        return AreaLevel(level).value in (self.levels or [])

    @property
    def open_for_purchase(self) -> bool:
        """Only active items start new purchase projects (watch and retired ones do not)."""
        return self.status == ItemStatus.ACTIVE
