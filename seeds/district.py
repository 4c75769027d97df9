"""The demo district: a Daxing-like district with its towns and streets, about fifty villages
and communities, venues, and a user for every role. Idempotent: rows that exist are kept."""

from __future__ import annotations

import random
from decimal import Decimal

from sqlalchemy import select

from core.accounts import operations as accounts
from core.accounts.models import Role, User
from core.areas.models import Area, AreaLevel, Venue, VenueKind
from core.db import db

# Printed for the demo on purpose; production installs never load demo data.
DEMO_PASSWORD = "Huimin-Demo-2026"  # noqa: S105  # nosec B105

DISTRICT = ("110115", "大兴区", 1_993_000)
# (code, name, population) of the towns and streets.
TOWNS = [
    ("110115001", "兴丰街道", 98_000), ("110115002", "林校路街道", 86_000), ("110115003", "清源街道", 112_000),
    ("110115004", "亦庄地区", 121_000), ("110115005", "黄村镇", 156_000), ("110115006", "旧宫镇", 143_000),
    ("110115007", "西红门镇", 131_000), ("110115008", "瀛海镇", 97_000), ("110115009", "青云店镇", 62_000),
    ("110115010", "采育镇", 55_000), ("110115011", "安定镇", 41_000), ("110115012", "礼贤镇", 48_000),
    ("110115013", "榆垡镇", 59_000), ("110115014", "庞各庄镇", 72_000), ("110115015", "北臧村镇", 46_000),
    ("110115016", "魏善庄镇", 53_000), ("110115017", "长子营镇", 44_000), ("110115018", "观音寺街道", 79_000),
    ("110115019", "天宫院街道", 88_000), ("110115020", "高米店街道", 92_000), ("110115021", "荣华街道", 67_000),
    ("110115022", "博兴街道", 58_000),
]
COMMUNITY_NAMES = {
    "兴丰街道": ["三合南里社区", "兴丰大街社区", "枣园社区"],
    "林校路街道": ["林校北里社区", "宏大园社区", "车站南里社区"],
    "清源街道": ["枣园东里社区", "滨河西里社区", "兴华园社区"],
    "亦庄地区": ["亦庄村", "三羊村", "鹿海园社区"],
    "黄村镇": ["狼垡村", "前大营村", "芦城村"],
    "旧宫镇": ["旧宫一村", "德茂社区", "清欣园社区"],
    "西红门镇": ["寿宝庄村", "金星社区", "宏福社区"],
    "瀛海镇": ["瀛海一村", "南海家园社区"],
    "青云店镇": ["青云店一村", "东辛屯村"],
    "采育镇": ["采育村", "东营一村"],
    "安定镇": ["安定村", "前野厂村"],
    "礼贤镇": ["礼贤一村", "董各庄村"],
    "榆垡镇": ["榆垡村", "南各庄村"],
    "庞各庄镇": ["庞各庄村", "梨花村"],
    "北臧村镇": ["北臧村", "巴园子村"],
    "魏善庄镇": ["魏善庄村", "半壁店村"],
    "长子营镇": ["长子营村", "北辛庄村"],
    "观音寺街道": ["观音寺南里社区", "观音寺北里社区", "首创社区"],
    "天宫院街道": ["天宫院社区", "融汇社区"],
    "高米店街道": ["郁花园社区", "康和园社区", "香留园社区"],
    "荣华街道": ["荣华社区", "亦城茗苑社区"],
    "博兴街道": ["博兴社区", "泰河园社区"],
}

# WGS-84 centres of the towns and streets (approximate, Daxing-like); communities lie around them.
DISTRICT_CENTRE = (39.7267, 116.3414)
TOWN_CENTRES = {
    "兴丰街道": (39.735, 116.330), "林校路街道": (39.742, 116.318), "清源街道": (39.726, 116.315),
    "亦庄地区": (39.795, 116.505), "黄村镇": (39.705, 116.300), "旧宫镇": (39.810, 116.450),
    "西红门镇": (39.790, 116.330), "瀛海镇": (39.755, 116.450), "青云店镇": (39.650, 116.505),
    "采育镇": (39.650, 116.650), "安定镇": (39.620, 116.500), "礼贤镇": (39.550, 116.440),
    "榆垡镇": (39.515, 116.310), "庞各庄镇": (39.630, 116.320), "北臧村镇": (39.700, 116.260),
    "魏善庄镇": (39.640, 116.410), "长子营镇": (39.690, 116.570), "观音寺街道": (39.745, 116.345),
    "天宫院街道": (39.670, 116.320), "高米店街道": (39.760, 116.330), "荣华街道": (39.800, 116.520),
    "博兴街道": (39.785, 116.540),
}
DISTRICT_VENUE_POINTS = {"大兴区文化馆": (39.7310, 116.3370), "大兴区图书馆": (39.7400, 116.3310),
                         "大兴区博物馆": (39.7230, 116.3260)}


def around(rng, centre, spread_m):
    """A point within about `spread_m` metres of the centre (deterministic with the generator)."""
    import math

    dlat = rng.uniform(-1, 1) * spread_m / 111_195
    dlon = rng.uniform(-1, 1) * spread_m / (111_195 * math.cos(math.radians(centre[0])))
    return round(centre[0] + dlat, 6), round(centre[1] + dlon, 6)


def _place(obj, point):
    """Give a row its coordinates if it has none (kept as they are on a second run)."""
    if obj.latitude is None:
        obj.latitude, obj.longitude = Decimal(str(point[0])), Decimal(str(point[1]))


DISTRICT_VENUES = [
    ("大兴区文化馆", VenueKind.CULTURAL_CENTRE, "兴政街15号", 800),
    ("大兴区图书馆", VenueKind.LIBRARY, "金星西路2号", 600),
    ("大兴区博物馆", VenueKind.MUSEUM, "黄村西大街13号", 300),
]


def _area(code, name, level, parent, population):
    area = db.session.scalar(select(Area).where(Area.code == code))
    if area is None:
        area = Area(code=code, name=name, level=level, parent=parent, population=population)
        db.session.add(area)
        db.session.flush()
    return area


def _venue(name, kind, area, address, capacity):
    venue = db.session.scalar(select(Venue).where(Venue.name == name, Venue.area_id == area.id))
    if venue is None:
        venue = Venue(name=name, kind=kind, area=area, address=address, capacity=capacity)
        db.session.add(venue)
    return venue


def _user(login, name, roles, jurisdiction=None, community=None):
    user = db.session.scalar(select(User).where(User.login == login))
    if user is None:
        user = accounts.create_user(login=login, name=name, password=DEMO_PASSWORD, roles=roles,
                                    jurisdiction=jurisdiction, community=community)
    return user


def seed_areas_and_users(echo):
    # Seeded so the demo district is the same every time; nothing secret is drawn from it.
    rng = random.Random(20261129)  # nosec B311
    district = _area(DISTRICT[0], DISTRICT[1], AreaLevel.DISTRICT, None, DISTRICT[2])
    towns, communities = {}, []
    for code, name, pop in TOWNS:
        town = _area(code, name, AreaLevel.TOWN, district, pop)
        towns[name] = town
        for i, cname in enumerate(COMMUNITY_NAMES[name], start=1):
            share = rng.randint(2_500, 9_000)
            communities.append(_area(f"{code}{i:03d}", cname, AreaLevel.COMMUNITY, town, share))
    for vname, kind, addr, cap in DISTRICT_VENUES:
        _place(_venue(vname, kind, district, addr, cap), DISTRICT_VENUE_POINTS[vname])
    for name, town in towns.items():
        station = _venue(f"{name}综合文化中心", VenueKind.CULTURAL_STATION, town, f"{name}政府院内",
                         rng.choice([200, 300, 400]))
        _place(town, TOWN_CENTRES[name])
        _place(station, TOWN_CENTRES[name])
    # Coordinates from a generator of their own, so the populations and capacities above stay as they were.
    geo_rng = random.Random(116)  # nosec B311
    for k, c in enumerate(communities):
        room = _venue(f"{c.name}文化室", VenueKind.CULTURAL_ROOM, c, f"{c.name}党群服务中心",
                      rng.choice([40, 60, 80, 120]))
        centre = around(geo_rng, TOWN_CENTRES[c.parent.name], 2_500)
        _place(c, centre)
        # Most rooms are in the community's service centre; every fourth lies across the fields.
        _place(room, around(geo_rng, centre, 1_800 if k % 4 == 3 else 250))
    db.session.flush()

    huangcun = towns["黄村镇"]
    home = next(c for c in communities if c.parent_id == huangcun.id)
    demo_users = [
        ("admin@huimin.demo", "系统管理员", [Role.ADMIN], None, None),
        ("officer@huimin.demo", "区文旅局 王科长", [Role.OFFICER], district, None),
        ("huangcun@huimin.demo", "黄村镇文化站 李站长", [Role.OFFICER], huangcun, None),
        ("expert@huimin.demo", "评审专家 张教授", [Role.EXPERT], None, None),
        ("provider@huimin.demo", "京南艺术团 负责人", [Role.PROVIDER], None, None),
        ("13800138000", "居民 刘阿姨", [Role.RESIDENT], None, home),
    ]
    for login, name, roles, jurisdiction, community in demo_users:
        _user(login, name, roles, jurisdiction, community)
    # More residents spread over the communities, for demand and ratings.
    for i, c in enumerate(communities[:20]):
        _user(f"1390000{i:04d}", f"居民{i + 1:02d}", [Role.RESIDENT], None, c)
    db.session.flush()
    echo(f"areas: 1 district, {len(towns)} towns/streets, {len(communities)} villages/communities")
    return demo_users
