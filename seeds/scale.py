"""`flask seed scale --factor F`: a large district for measuring performance.

At F = 1: 22 towns/streets, 600 communities, 800 venues, 300 catalog items, 5,000 providers,
20,000 projects, about 100,000 bids, 200,000 sessions and 1,000,000 ratings, spread over three
years, with 12 assessment agencies (120 assessors) drawing a sampling plan each month that visits
a tenth of its sessions, and 200 supervisors with 3,000 supervision items. Providers differ (some
excellent, some poor), demand is seasonal (festivals, summer holidays, National Day), and a few
providers attract most of the work.

Rows are written with Core `insert()` in chunks, with ids chosen here (the database must be
empty: run it on a fresh `flask db upgrade`). Every row satisfies the tables' constraints and the
app's own invariants: opened projects have their opening record, panel, scores and review;
awarded ones their award and contract; delivered sessions their report and decision; each month's
assessment plan re-runs from its record (candidates, sample, assessor order) and its past visits
are recorded (a few with a discrepancy). Bids are sealed with the real key. The scale data
bypasses the audit log except for one event recording the seed, so `flask audit verify` passes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import random
import time
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import click
from sqlalchemy import func, select, text

from catalog.demand.models import DemandRequest, DemandSupport
from catalog.items.models import Category, Item, ItemRevision
from catalog.items.pinyin import pinyin_keys
from catalog.versions.models import CatalogVersion, CatalogVersionEntry
from core import audit, uscc
from core.accounts import operations as accounts
from core.accounts.models import User, UserRole
from core.areas.models import Area, Venue
from core.db import UTCDateTime, db, intends_to_write, utcnow
from core.i18n import to_local
from evaluation.assessment import draw as sampling
from evaluation.assessment.models import AssessmentAgency, AssessmentPlan, AssessmentVisit, Assessor
from evaluation.experts.models import Expert, expert_specialties
from evaluation.feedback.models import Complaint, Rating
from evaluation.review import draw, rules
from evaluation.review.models import Panel, PanelMember, ReviewBidResult, ReviewLine, ReviewResult, Score
from evaluation.supervision.models import SupervisionItem, Supervisor
from marketplace.awards.models import Award
from marketplace.bids import sealing
from marketplace.bids.models import Bid, BidOpening, BidRevision
from marketplace.contracts.models import Contract, ContractLine, PaymentMilestone
from marketplace.projects.models import Criterion, ProjectLine, PurchaseProject
from marketplace.providers.models import Provider
from marketplace.sessions.models import ServiceSession
from seeds.catalog_data import CATEGORIES, ITEMS

# Logins of the scale district (password: the demo password, for benchmarks only).
SCALE_DOMAIN = "scale.huimin"
ADMIN_LOGIN = f"admin@{SCALE_DOMAIN}"
OFFICER_LOGIN = f"officer@{SCALE_DOMAIN}"
PROVIDER_LOGIN = f"p00001@{SCALE_DOMAIN}"
# Counts at factor 1.
BASE = {"communities": 600, "venues": 800, "items": 300, "providers": 5000, "projects": 20000, "bids": 100000,
        "sessions": 200000, "ratings": 1000000, "residents": 40000, "experts": 240, "demand": 12000,
        "agencies": 12, "assessors": 120, "supervisors": 200, "supervision_items": 3000}
# Third-party assessment: the share of each month's sessions visited, and how often a visit finds a discrepancy.
VISIT_SHARE_PERCENT = 10
DISCREPANCY_RATE = 0.02
SUPERVISOR_KINDS = [("npc_deputy", "区人大常委会"), ("cppcc_member", "区政协"), ("media", "京南日报"),
                    ("resident_representative", "居民代表"), ("social_organisation", "区志愿者协会")]
CHUNK = 5000
YEARS = 3
# Seasonal demand: relative weight of each month (Spring Festival, summer holidays, National Day).
MONTH_WEIGHT = {1: 1.5, 2: 1.7, 3: 0.8, 4: 0.9, 5: 1.1, 6: 0.9, 7: 1.3, 8: 1.3, 9: 1.0, 10: 1.5, 11: 0.8, 12: 0.9}
CENT = Decimal("0.01")
FALSIFIED = "现场人数明显少于报告人数，签到表有代签。"
SUPERVISION_TOPICS = [("文化室开放时间不足", "多位居民反映文化室周末不开门，希望延长开放时间。"),
                      ("演出音响效果差", "演出时音响断续，后排观众听不清。请检查设备。"),
                      ("场地照明不足", "晚间活动时照明不足，存在安全隐患。"),
                      ("活动通知不及时", "活动时间临时调整，居民未收到通知。")]
COMMENTS = ["节目很精彩，老人孩子都喜欢。", "老师讲得很耐心，学到了不少。", "场地有点小，站着看的人多。",
            "希望以后多来几次！", "音响效果一般，后排听不清。", "组织有序，工作人员很热情。", "内容有点老套。",
            "准时开始，服务周到。", "开始晚了半小时，体验不好。"]


def counts(factor: float) -> dict[str, int]:
    out = {k: max(1, round(v * factor)) for k, v in BASE.items()}
    out["communities"] = max(out["communities"], 22)
    out["venues"] = max(out["venues"], out["communities"] + 25)
    out["items"] = max(out["items"], 20)
    out["experts"] = max(out["experts"], 60)
    out["providers"] = max(out["providers"], 60)
    out["projects"] = max(out["projects"], 30)
    out["residents"] = max(out["residents"], 50)
    out["agencies"] = max(out["agencies"], 2)
    out["assessors"] = max(out["assessors"], 2 * out["agencies"])
    out["supervisors"] = max(out["supervisors"], 2)
    out["supervision_items"] = max(out["supervision_items"], 3)
    return out


class Writer:
    """Bulk inserts in chunks, with a progress bar over all rows.

    Rows go to the database as plain tuples, each value converted once by its column's own bind
    processor (the value SQLAlchemy itself would send), through the driver's executemany on
    SQLite and COPY on PostgreSQL: building a statement's parameters per row in SQLAlchemy cost
    more than the inserts themselves."""

    def __init__(self, bar, copy: bool | None = None):
        self.bar, self.rows = bar, defaultdict(int)
        conn = db.session.connection()
        self.dialect = conn.dialect
        self.dbapi = conn.connection.dbapi_connection
        self.copy = self.dialect.name == "postgresql" if copy is None else copy

    def __call__(self, model, rows):
        table = model if hasattr(model, "c") else model.__table__
        if rows:
            columns, convert = self._plan(table, rows[0])
            for i in range(0, len(rows), CHUNK):
                chunk = [convert(r) for r in rows[i:i + CHUNK]]
                self._write(table, columns, chunk)
                self.bar.update(len(chunk))
        self.rows[table.name] += len(rows)

    def _plan(self, table, first: dict):
        """The columns to write (those the rows give, and those with a Python default) and a
        function from a row dict to the list of converted values."""
        given = [c for c in table.columns if c.name in first]
        defaulted = [c for c in table.columns if c.name not in first and c.default is not None]
        for c in defaulted:
            if not (c.default.is_scalar or c.default.is_callable):
                raise TypeError(f"{table.name}.{c.name}: the scale writer cannot evaluate its default")
        columns = given + defaulted
        names = [c.name for c in given]
        procs = [(i, p) for i, c in enumerate(columns) if (p := self._processor(c)) is not None]
        defaults = [(lambda c=c: c.default.arg) if c.default.is_scalar else (lambda c=c: c.default.arg(None))
                    for c in defaulted]

        def convert(row: dict) -> list:
            values = [row[k] for k in names]
            values.extend(d() for d in defaults)
            for i, p in procs:
                values[i] = p(values[i])
            return values

        return columns, convert

    def _processor(self, column):
        if self.dialect.name == "sqlite" and isinstance(column.type, UTCDateTime):
            # What UTCDateTime and SQLite's DATETIME make of it together, in one C call: most
            # of the values are datetimes.
            return lambda v: None if v is None else v.astimezone(dt.UTC).replace(tzinfo=None).isoformat(
                " ", "microseconds")
        return column.type._cached_bind_processor(self.dialect)

    def _write(self, table, columns, chunk: list[list]):
        names = ", ".join(self.dialect.identifier_preparer.quote(c.name) for c in columns)
        cur = self.dbapi.cursor()
        try:
            if self.copy:
                # Table and column names come from the models, never from input.
                with cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                    for values in chunk:
                        copy.write_row(values)
            else:
                marks = ", ".join(["?" if self.dialect.paramstyle == "qmark" else "%s"] * len(columns))
                cur.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})",  # noqa: S608  # nosec B608
                                chunk)
        finally:
            cur.close()


def _money(x) -> Decimal:
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


class Scale:
    def __init__(self, factor: float, seed: int = 9):
        self.f = factor
        self.n = counts(factor)
        self.rng = random.Random(seed)  # nosec B311
        self.now = utcnow().replace(microsecond=0)
        self.start = self.now - dt.timedelta(days=365 * YEARS)
        self.password_hash = accounts.hash_password(_demo_password())

    # --- time --------------------------------------------------------------------------------
    def seasonal(self, lo: dt.datetime, hi: dt.datetime) -> dt.datetime:
        """A moment in [lo, hi), more likely in busy months."""
        span = (hi - lo).total_seconds()
        if span <= 0:
            return lo
        while True:
            t = lo + dt.timedelta(seconds=self.rng.random() * span)
            if self.rng.random() * 1.7 <= MONTH_WEIGHT[t.month]:
                return t.replace(microsecond=0)

    # --- generation ------------------------------------------------------------------------------
    def run(self, echo, copy: bool | None = None) -> dict:
        started = time.perf_counter()
        n = self.n
        total = (n["communities"] + n["venues"] + n["items"] * 3 + n["providers"] * 4 + n["residents"] * 2
                 + n["projects"] * 5 + n["bids"] * 5 + n["sessions"] + n["ratings"] + n["demand"] * 4
                 + n["assessors"] * 3 + n["supervisors"] * 3 + n["supervision_items"] + n["sessions"] // 10)
        with click.progressbar(length=total, label=f"scale data ×{self.f}", file=None) as bar:
            w = Writer(bar, copy)
            self.areas(w)
            self.users(w)
            self.catalog(w)
            self.providers(w)
            self.experts(w)
            self.projects(w)
            self.delivery(w)
            self.demand(w)
            self.oversight(w)
            bar.update(total)
        audit.record("seed.scale", object_type="database", object_id="scale", factor=self.f,
                     rows=dict(sorted(w.rows.items())))
        echo(f"scale data ×{self.f}: " + ", ".join(f"{k} {v}" for k, v in sorted(w.rows.items()))
             + f" in {time.perf_counter() - started:.1f} s")
        return dict(w.rows)

    def areas(self, w):
        from seeds.district import DISTRICT, DISTRICT_CENTRE, TOWN_CENTRES, TOWNS, around

        rng, n = self.rng, self.n
        # Coordinates from a generator of their own: the other figures stay as they were.
        geo_rng = random.Random(116)  # nosec B311
        self.district_id = 1
        rows = [{"id": 1, "code": DISTRICT[0], "name": DISTRICT[1], "level": "district", "parent_id": None,
                 "population": DISTRICT[2], "latitude": DISTRICT_CENTRE[0], "longitude": DISTRICT_CENTRE[1]}]
        self.town_ids = []
        for i, (code, name, pop) in enumerate(TOWNS, start=2):
            lat, lon = TOWN_CENTRES[name]
            rows.append({"id": i, "code": code, "name": name, "level": "town", "parent_id": 1, "population": pop,
                         "latitude": lat, "longitude": lon})
            self.town_ids.append(i)
        self.town_name = {r["id"]: r["name"] for r in rows}
        self.community_ids, self.community_town = [], {}
        next_id = len(rows) + 1
        for k in range(n["communities"]):
            town = self.town_ids[k % len(self.town_ids)]
            no = k // len(self.town_ids) + 1
            kind = "村" if rng.random() < 0.4 else "社区"
            name = f"{self.town_name[town][:2]}{'东西南北中'[no % 5]}{no}{kind}"
            lat, lon = around(geo_rng, TOWN_CENTRES[self.town_name[town]], 4_000)
            rows.append({"id": next_id, "code": f"{rows[town - 1]['code']}{no:03d}", "name": name,
                         "level": "community", "parent_id": town, "population": rng.randint(800, 12000),
                         "latitude": lat, "longitude": lon})
            self.community_ids.append(next_id)
            self.community_town[next_id] = town
            next_id += 1
        w(Area, rows)
        point = {r["id"]: (r["latitude"], r["longitude"]) for r in rows}
        venues = [{"id": 1, "name": "区文化馆", "kind": "cultural_centre", "area_id": 1, "address": "兴政街15号",
                   "capacity": 800},
                  {"id": 2, "name": "区图书馆", "kind": "library", "area_id": 1, "address": "金星西路2号",
                   "capacity": 600},
                  {"id": 3, "name": "区博物馆", "kind": "museum", "area_id": 1, "address": "黄村西大街13号",
                   "capacity": 300}]
        for t in self.town_ids:
            venues.append({"id": len(venues) + 1, "name": f"{self.town_name[t]}文化站", "kind": "cultural_station",
                           "area_id": t, "address": "", "capacity": 300})
        for c in self.community_ids:
            venues.append({"id": len(venues) + 1, "name": f"{rows[c - 1]['name']}文化室", "kind": "cultural_room",
                           "area_id": c, "address": "", "capacity": rng.choice([40, 60, 80, 120])})
        while len(venues) < n["venues"]:
            c = rng.choice(self.community_ids)
            venues.append({"id": len(venues) + 1, "name": f"{rows[c - 1]['name']}文化广场{len(venues)}",
                           "kind": "square", "area_id": c, "address": "", "capacity": rng.choice([200, 300, 500])})
        for v in venues:
            v["latitude"], v["longitude"] = around(geo_rng, point[v["area_id"]], 300 if v["area_id"] > 1 else 1_500)
        w(Venue, venues)
        self.venue_name = {v["id"]: v["name"] for v in venues}
        self.venue_area = {v["id"]: v["area_id"] for v in venues}
        self.venues_in = defaultdict(list)
        for v in venues:
            self.venues_in[v["area_id"]].append(v["id"])
            if v["area_id"] in self.community_town:
                self.venues_in[self.community_town[v["area_id"]]].append(v["id"])
            self.venues_in[1].append(v["id"])

    def _user(self, rows, role_rows, uid, login, name, **kw):
        rows.append({"id": uid, "login": login, "name": name, "password_hash": self.password_hash, "active": True,
                     "jurisdiction_id": kw.get("jurisdiction_id"), "community_id": kw.get("community_id"),
                     "session_token": f"{uid:032x}", "created_at": self.start})
        role_rows.extend({"user_id": uid, "role": r} for r in kw["roles"])

    def users(self, w):
        rows, roles = [], []
        self._user(rows, roles, 1, ADMIN_LOGIN, "系统管理员", roles=["admin"])
        self._user(rows, roles, 2, OFFICER_LOGIN, "区文旅局干部", roles=["officer"], jurisdiction_id=1)
        self.officer_id = 2
        self.town_officer = {}
        for k, t in enumerate(self.town_ids, start=3):
            self._user(rows, roles, k, f"town{t:02d}@{SCALE_DOMAIN}", f"{self.town_name[t]}文化干部",
                       roles=["officer"], jurisdiction_id=t)
            self.town_officer[t] = k
        self.next_user = len(rows) + 1
        self.resident_ids = []
        for k in range(self.n["residents"]):
            uid = self.next_user + k
            self._user(rows, roles, uid, f"139{k:08d}", f"居民{k + 1}", roles=["resident"],
                       community_id=self.community_ids[k % len(self.community_ids)])
            self.resident_ids.append(uid)
        self.next_user += self.n["residents"]
        self.resident_community = {r["id"]: r["community_id"] for r in rows if r["community_id"]}
        w(User, rows)
        w(UserRole, roles)

    def catalog(self, w):
        rng = self.rng
        cats, cid = [], 0
        self.subcats, self.top_of = [], {}
        for pos, (code, name, name_en, subs) in enumerate(CATEGORIES):
            cid += 1
            top = cid
            py, ini = pinyin_keys(name)
            cats.append({"id": top, "code": code, "name": name, "name_en": name_en, "parent_id": None,
                         "position": pos, "pinyin": py, "pinyin_initials": ini})
            for spos, (scode, sname, sname_en) in enumerate(subs):
                cid += 1
                py, ini = pinyin_keys(sname)
                cats.append({"id": cid, "code": scode, "name": sname, "name_en": sname_en, "parent_id": top,
                             "position": spos, "pinyin": py, "pinyin_initials": ini})
                self.subcats.append(cid)
                self.top_of[cid] = top
        self.top_ids = sorted({c["id"] for c in cats if c["parent_id"] is None})
        w(Category, cats)
        sub_by_code = {c["code"]: c["id"] for c in cats}
        items, revisions, entries = [], [], []
        self.item_price, self.item_cat, self.item_unit, self.item_name = {}, {}, {}, {}
        published = self.now - dt.timedelta(days=200)
        for k in range(self.n["items"]):
            base = ITEMS[k % len(ITEMS)]
            series = k // len(ITEMS)
            code = f"{base[0]}" if series == 0 else f"{base[0]}-{series:02d}"
            name = base[2] if series == 0 else f"{base[2]}（{series + 1}号套餐）"
            iid = k + 1
            category_id = sub_by_code[base[1]]
            ceiling = _money(Decimal(base[5]) * Decimal(1 + 0.1 * (series % 4)))
            status = "active" if rng.random() < 0.93 else rng.choice(["watch", "suspended"])
            py, ini = pinyin_keys(name)
            row = {"id": iid, "code": code, "category_id": category_id, "name": name, "name_en": base[3],
                   "description": base[8], "standard_content": base[8], "standard_duration": base[9],
                   "standard_staffing": base[10], "standard_quality": base[11], "unit": base[4],
                   "price_ceiling": ceiling, "target_groups": list(base[6]), "levels": list(base[7]),
                   "status": status, "pinyin": py, "pinyin_initials": ini, "revision": 1,
                   "created_at": self.start, "updated_at": self.start}
            items.append(row)
            snap = {"code": code, "category": base[1], "category_name": "", "name": name, "name_en": base[3],
                    "description": base[8], "standard_content": base[8], "standard_duration": base[9],
                    "standard_staffing": base[10], "standard_quality": base[11], "unit": base[4],
                    "price_ceiling": str(ceiling), "target_groups": sorted(base[6]), "levels": list(base[7]),
                    "status": status}
            revisions.append({"id": iid, "item_id": iid, "number": 1, "kind": "import", "data": snap,
                              "changed_fields": [], "note": "", "created_at": self.start,
                              "created_by_id": self.officer_id})
            entries.append({"version_id": 1, "item_id": iid, "revision_id": iid})
            self.item_price[iid], self.item_cat[iid] = ceiling, category_id
            self.item_unit[iid], self.item_name[iid] = base[4], name
        w(Item, items)
        w(ItemRevision, revisions)
        year = (self.now - dt.timedelta(days=200)).year
        w(CatalogVersion, [{"id": 1, "year": year, "title": f"{year}年度公共文化服务指导性目录", "notes": "",
                            "created_at": published - dt.timedelta(days=10), "created_by_id": self.officer_id,
                            "published_at": published, "publicity_ends_at": published + dt.timedelta(days=7),
                            "published_by_id": self.officer_id}])
        w(CatalogVersionEntry, entries)
        self.active_items = [r["id"] for r in items if r["status"] == "active"]
        self.items_of_top = defaultdict(list)
        for iid in self.active_items:
            self.items_of_top[self.top_of[self.item_cat[iid]]].append(iid)

    def providers(self, w):
        rng, n = self.rng, self.n["providers"]
        users, roles, rows = [], [], []
        self.quality, self.provider_ids, self.provider_user, self.provider_name = {}, [], {}, {}
        self.provider_code, self.provider_tops = {}, {}
        for k in range(n):
            pid, uid = k + 1, self.next_user + k
            self._user(users, roles, uid, f"p{pid:05d}@{SCALE_DOMAIN}", f"联系人{pid}", roles=["provider"])
            r = rng.random()
            q = rng.uniform(0.9, 1.0) if r < 0.15 else rng.uniform(0.2, 0.45) if r < 0.25 else \
                min(0.95, max(0.4, rng.gauss(0.72, 0.1)))
            body = f"{pid:08d}"
            code = uscc.complete("5", "1", "110115", body)
            status = "approved" if rng.random() < 0.94 else rng.choice(["pending", "suspended", "rejected"])
            tops = rng.sample(self.top_ids, rng.choice([1, 1, 2, 3]))
            kind = rng.choice(["social_organisation", "social_organisation", "enterprise", "public_institution"])
            name = f"大兴{'文化艺术团' if kind != 'enterprise' else '文化传媒有限公司'}{pid:04d}"
            row = {"id": pid, "user_id": uid, "name": name, "credit_code": code, "kind": kind,
                   "legal_representative": f"法人{pid}", "contact_name": f"联系人{pid}",
                   "contact_phone": f"010-{60000000 + pid}", "address": "", "introduction": "", "category_ids": tops,
                   "status": status, "status_reason": "", "suspended_until": None, "created_at": self.start,
                   "submitted_at": self.start, "reviewed_at": self.start, "reviewed_by_id": self.officer_id,
                   "approved_at": self.start if status in ("approved", "suspended") else None}
            if status == "suspended":
                row.update(status_reason="多次未按时上报场次", suspended_until=self.now + dt.timedelta(days=60))
            elif status == "rejected":
                row.update(status_reason="资质材料不全", approved_at=None)
            elif status == "pending":
                row.update(reviewed_at=None, reviewed_by_id=None, approved_at=None)
            rows.append(row)
            self.quality[pid], self.provider_user[pid], self.provider_name[pid] = q, uid, name
            self.provider_code[pid], self.provider_tops[pid] = code, tops
            if status in ("approved", "suspended"):
                self.provider_ids.append(pid)
        self.next_user += n
        w(User, users)
        w(UserRole, roles)
        w(Provider, rows)
        # Some providers attract most of the work (a long tail); good ones win more often.
        self.activity = {p: (1.0 / (1 + i % 400)) ** 0.6 for i, p in enumerate(self.provider_ids)}
        self.bidders_of_top = defaultdict(list)
        for p in self.provider_ids:
            for t in self.provider_tops[p]:
                self.bidders_of_top[t].append(p)
        self.bidder_weights = {t: list(itertools.accumulate(self.activity[p] for p in ps))
                               for t, ps in self.bidders_of_top.items()}

    def experts(self, w):
        rng = self.rng
        users, roles, rows, specs = [], [], [], []
        self.experts_of_top = defaultdict(list)
        self.expert_name, self.expert_employer = {}, {}
        for k in range(self.n["experts"]):
            eid, uid = k + 1, self.next_user + k
            self._user(users, roles, uid, f"e{eid:04d}@{SCALE_DOMAIN}", f"专家{eid}", roles=["expert"])
            employer_code = uscc.complete("1", "2", "110000", f"9{eid:07d}")
            rows.append({"id": eid, "user_id": uid, "name": f"专家{eid}", "title": "研究员",
                         "employer": f"北京文化研究院{eid % 20}", "employer_credit_code": employer_code,
                         "phone": "", "email": "", "active": True, "notes": "", "created_at": self.start,
                         "updated_at": self.start})
            self.expert_name[eid], self.expert_employer[eid] = f"专家{eid}", f"北京文化研究院{eid % 20}"
            for t in {self.top_ids[k % len(self.top_ids)], rng.choice(self.top_ids)}:
                specs.append({"expert_id": eid, "category_id": t})
                self.experts_of_top[t].append(eid)
        self.next_user += self.n["experts"]
        self.expert_user = {r["id"]: r["user_id"] for r in rows}
        w(User, users)
        w(UserRole, roles)
        w(Expert, rows)
        w(expert_specialties, specs)

    # --- projects, bids, opening, review, award, contract ---------------------------------------
    def projects(self, w):
        rng, n = self.rng, self.n
        size = rules.panel_size_for(Decimal(1))
        bids_per_project = n["bids"] / (n["projects"] * 0.92)  # drafts and cancelled projects have none
        P = defaultdict(list)  # table → rows
        bid_id = line_id = crit_id = rev_id = panel_id = member_id = score_id = result_id = 0
        rbr_id = rl_id = award_id = contract_id = cline_id = ms_id = 0
        self.contract_lines = []  # (contract, line, provider, item, venue, sessions, start, end, area, officer)
        self.open_projects = []
        # Categories with items, enough bidders and enough experts for a panel.
        biddable = [t for t in self.top_ids if self.items_of_top[t] and len(self.bidders_of_top[t]) >= 5
                    and len(set(self.experts_of_top[t])) >= size + 2]
        if not biddable:
            raise click.ClickException("factor too small: no category has enough providers and experts")
        for pid in range(1, n["projects"] + 1):
            r = rng.random()
            state = ("completed" if r < 0.70 else "in_delivery" if r < 0.82 else "contracted" if r < 0.84 else
                     "awarded" if r < 0.86 else "published" if r < 0.92 else "draft" if r < 0.95 else
                     "cancelled" if r < 0.98 else "failed")
            top = rng.choice(biddable)
            area = 1 if rng.random() < 0.3 else rng.choice(self.town_ids)
            officer = self.officer_id if area == 1 else self.town_officer[area]
            if state == "published":
                published = self.now - dt.timedelta(days=rng.uniform(0.5, 10))
                deadline = self.now + dt.timedelta(days=rng.uniform(3, 30))
            elif state == "draft":
                published, deadline = None, None
            elif state in ("contracted", "awarded"):
                published = self.now - dt.timedelta(days=rng.uniform(25, 45))
                deadline = published + dt.timedelta(days=14)
            elif state == "in_delivery":
                published = self.seasonal(self.now - dt.timedelta(days=200), self.now - dt.timedelta(days=40))
                deadline = published + dt.timedelta(days=14)
            else:
                published = self.seasonal(self.start, self.now - dt.timedelta(days=230))
                deadline = published + dt.timedelta(days=14)
            created = (published or self.now - dt.timedelta(days=rng.uniform(1, 20))) - dt.timedelta(days=3)
            items = rng.sample(self.items_of_top[top], min(len(self.items_of_top[top]), rng.choice([1, 1, 2, 3])))
            venues = self.venues_in[area]
            lines, ceiling = [], Decimal(0)
            for pos, iid in enumerate(items):
                line_id += 1
                qty = rng.randint(2, 12)
                lines.append({"id": line_id, "project_id": pid, "item_id": iid, "venue_id": rng.choice(venues),
                              "quantity": qty, "unit_ceiling": self.item_price[iid], "position": pos})
                ceiling += self.item_price[iid] * qty
            budget = _money(ceiling * Decimal(rng.uniform(0.85, 1.0)))
            title = f"{self.town_name[area]}{self.item_name[items[0]]}采购项目（第{pid}号）"
            method = rng.choice(["open_tender", "open_tender", "competitive_consultation", "inquiry"])
            P["lines"].extend(lines)
            crits = []
            for pos, (kind, name, weight, lo, hi) in enumerate([
                    ("price", "价格", 30, None, None), ("subjective", "服务方案", 50, 0, 50),
                    ("performance", "履约评价", 20, None, None)]):
                crit_id += 1
                crits.append({"id": crit_id, "project_id": pid, "kind": kind, "name": name, "rubric": "",
                              "weight": Decimal(weight), "min_score": None if lo is None else Decimal(lo),
                              "max_score": None if hi is None else Decimal(hi), "position": pos})
            P["criteria"].extend(crits)
            subjective_id = crits[1]["id"]
            opened = state in ("completed", "in_delivery", "contracted", "awarded", "failed")
            project = {"id": pid, "title": title, "description": "为丰富群众文化生活，现公开采购以下公共文化服务。",
                       "area_id": area, "method": method, "justification": "", "budget": budget,
                       "bid_deadline": deadline, "state": state, "created_by_id": officer, "created_at": created,
                       "updated_at": created, "published_at": published, "criteria_locked_at": None,
                       "closed_at": None, "opened_at": None, "review_started_at": None, "awarded_at": None,
                       "contracted_at": None, "delivery_started_at": None, "completed_at": None,
                       "cancelled_at": None, "cancel_reason": "", "failed_at": None, "failed_reason": ""}
            P["projects"].append(project)
            if state in ("draft",):
                continue
            if state == "cancelled":
                project.update(cancelled_at=published + dt.timedelta(days=5), cancel_reason="预算调整，项目取消")
                continue
            # Bids.
            k = 2 if state == "failed" else max(3, round(rng.gauss(bids_per_project, 1.2)))
            pool, cum = self.bidders_of_top[top], self.bidder_weights[top]
            bidders = []
            while len(bidders) < min(k, len(pool)):
                p = rng.choices(pool, cum_weights=cum)[0]
                if p not in bidders:
                    bidders.append(p)
            bids = []
            for p in bidders:
                bid_id += 1
                at = (published + dt.timedelta(seconds=rng.uniform(3600, (deadline - published).total_seconds()
                                                                   - 60))).replace(microsecond=0)
                if state == "published" and at > self.now:
                    at = published + (self.now - published) * rng.random()
                    at = at.replace(microsecond=0)
                price = _money(budget * Decimal(rng.uniform(0.78, 0.99)))
                content = {"project_id": pid, "provider_id": p, "price": str(price),
                           "plan": "按服务标准组织实施，配备专业团队，提前三天发布活动预告。",
                           "team": "项目负责人1名，演职人员若干",
                           "conflicts": "", "attachments": []}
                rev_id += 1
                sealed, kid = sealing.seal(sealing.canonical(content), sealing.revision_context(bid_id, 1))
                chash = sealing.content_hash(content)
                P["revisions"].append({"id": rev_id, "bid_id": bid_id, "number": 1, "submitted_at": at,
                                       "submitted_by_id": self.provider_user[p], "sealed": sealed, "key_id": kid,
                                       "content_hash": chash})
                bids.append({"id": bid_id, "project_id": pid, "provider_id": p, "status": "submitted",
                             "revision_no": 1, "first_submitted_at": at, "submitted_at": at, "withdrawn_at": None,
                             "price": price if opened else None,
                             "performance_at_opening": None, "invalid_reason": "", "_hash": chash})
            if bids:
                project["criteria_locked_at"] = min(b["submitted_at"] for b in bids)
            if state == "published":
                self.open_projects.append(pid)
                P["bids"].extend(bids)
                continue
            opened_at = deadline + dt.timedelta(hours=2)
            project.update(closed_at=opened_at, opened_at=opened_at)
            bids.sort(key=lambda b: (b["submitted_at"], b["id"]))
            P["openings"].append({"project_id": pid, "opened_at": opened_at, "opened_by_id": officer,
                                  "bid_count": len(bids), "entries": [
                                      {"bid_id": b["id"], "provider_id": b["provider_id"],
                                       "provider_name": self.provider_name[b["provider_id"]], "price": str(b["price"]),
                                       "submitted_at": audit.jsonable(b["submitted_at"]), "revision": 1,
                                       "content_hash": b["_hash"]} for b in bids]})
            for b in bids:
                b.pop("_hash")
            P["bids"].extend(bids)
            if state == "failed":
                project.update(failed_at=opened_at, failed_reason="有效投标不足三家")
                continue
            # The panel: drawn from the experts of the category, confirmed, scored, signed off.
            review_at = opened_at + dt.timedelta(days=1)
            signed = review_at + dt.timedelta(days=2)
            panel_id += 1
            seed = f"{pid:08x}{panel_id:024x}"
            codes = {self.provider_code[b["provider_id"]] for b in bids}
            experts = sorted(set(self.experts_of_top[top]))
            pool_rows = sorted(({"expert_id": e, "name": self.expert_name[e], "employer": self.expert_employer[e],
                                 "key": draw.draw_key(seed, e), "eligible": True, "reason": "", "detail": ""}
                                for e in experts), key=lambda p: (p["key"], p["expert_id"]))
            candidates = draw.order_candidates(seed, experts)
            members = []
            for pos, eid in enumerate(candidates[:size]):
                member_id += 1
                members.append({"id": member_id, "panel_id": panel_id, "expert_id": eid, "draw_position": pos,
                                "status": "confirmed", "is_leader": pos == 0, "replaces_id": None,
                                "added_at": review_at, "confirmed_at": review_at, "recused_at": None,
                                "recusal_reason": "", "submitted_at": signed})
            P["panels"].append({"id": panel_id, "project_id": pid, "size": size, "seed": seed,
                                "category_ids": sorted({top} | {self.item_cat[i] for i in items}),
                                "bidder_credit_codes": sorted(codes), "budget": budget, "repeat_limit": 0,
                                "pool": pool_rows, "candidates": candidates, "drawn_at": review_at,
                                "drawn_by_id": officer, "status": "signed_off", "signed_off_at": signed,
                                "signed_off_by_id": self.expert_user[candidates[0]]})
            P["members"].extend(members)
            result_id += 1
            lowest = min(b["price"] for b in bids)
            ranked = []
            for b in bids:
                q = self.quality[b["provider_id"]]
                marks = {}
                for m in members:
                    score_id += 1
                    s = _money(max(0, min(50, rng.gauss(20 + 25 * q, 4))))
                    marks[m["id"]] = s
                    P["scores"].append({"id": score_id, "member_id": m["id"], "bid_id": b["id"],
                                        "criterion_id": subjective_id, "score": s, "reason": "",
                                        "updated_at": signed})
                mean = _money(sum(marks.values()) / len(marks))
                price_points = _money(Decimal(30) * lowest / b["price"])
                perf = _money(Decimal(60 + 38 * q))
                perf_points = _money(perf * Decimal("0.2"))
                ranked.append((price_points + mean + perf_points, b, marks, mean, price_points, perf, perf_points))
            ranked.sort(key=lambda t: (-t[0], t[1]["submitted_at"], t[1]["id"]))
            ranking = []
            for rank, (total_pts, b, marks, mean, pp, perf, perfp) in enumerate(ranked, start=1):
                rbr_id += 1
                P["bid_results"].append({
                    "id": rbr_id, "result_id": result_id, "bid_id": b["id"], "provider_id": b["provider_id"],
                    "provider_name": self.provider_name[b["provider_id"]], "price": b["price"],
                    "submitted_at": b["submitted_at"], "valid": True, "invalid_reason": "", "price_points": pp,
                    "performance_snapshot": perf, "performance_from_prior": False, "performance_points": perfp,
                    "subjective_points": mean, "total": total_pts, "rank": rank})
                b["performance_at_opening"] = perf
                rl_id += 1
                P["review_lines"].append({"id": rl_id, "bid_result_id": rbr_id, "criterion_id": subjective_id,
                                          "position": 0, "scores": {str(k): str(v) for k, v in marks.items()},
                                          "dropped_high_member_id": None, "dropped_low_member_id": None,
                                          "used_count": len(marks), "score_sum": sum(marks.values()), "mean": mean})
                ranking.append({"rank": rank, "bid_id": b["id"], "provider_name": self.provider_name[b["provider_id"]],
                                "price": str(b["price"]), "total": str(total_pts)})
            P["results"].append({"id": result_id, "panel_id": panel_id, "project_id": pid, "number": 1,
                                 "computed_at": signed, "lowest_valid_price": lowest, "price_weight": Decimal(30),
                                 "performance_weight": Decimal(20), "performance_prior": Decimal(75),
                                 "panel_size": size, "trimmed": False, "deviation_percent": Decimal(30),
                                 "rounding": "每项得分四舍五入保留两位小数", "signed_off_at": signed,
                                 "signed_off_by_id": members[0]["id"], "superseded_at": None,
                                 "superseded_reason": ""})
            awarded_at = signed + dt.timedelta(days=1)
            winner = ranked[0][1]
            award_id += 1
            P["awards"].append({
                "id": award_id, "project_id": pid, "bid_id": winner["id"], "provider_id": winner["provider_id"],
                "amount": winner["price"], "top_ranked": True, "top_bid_id": winner["id"], "reason": "",
                "score_summary": {"result_id": result_id, "ranking": ranking}, "awarded_by_id": officer,
                "published_at": awarded_at, "publicity_ends_at": awarded_at + dt.timedelta(days=5),
                "challenge_deadline": awarded_at + dt.timedelta(days=10), "status": "published",
                "voided_at": None, "void_reason": ""})
            project.update(review_started_at=review_at, awarded_at=awarded_at)
            if state == "awarded":
                continue
            contracted = awarded_at + dt.timedelta(days=11)
            project["contracted_at"] = contracted
            start = contracted.date() + dt.timedelta(days=3)
            end = start + dt.timedelta(days=rng.choice([90, 120, 180]))
            contract_id += 1
            p = winner["provider_id"]
            sessions_total = 0
            total_amount = winner["price"]
            share = [ln["unit_ceiling"] * ln["quantity"] for ln in lines]
            amounts = [_money(total_amount * s / sum(share)) for s in share]
            amounts[-1] = total_amount - sum(amounts[:-1])
            for pos, (ln, amount) in enumerate(zip(lines, amounts, strict=True)):
                cline_id += 1
                sessions_total += ln["quantity"]
                P["contract_lines"].append({
                    "id": cline_id, "contract_id": contract_id, "project_line_id": ln["id"], "item_id": ln["item_id"],
                    "venue_id": ln["venue_id"], "position": pos, "item_name": self.item_name[ln["item_id"]],
                    "unit": self.item_unit[ln["item_id"]], "sessions": ln["quantity"],
                    "unit_price": _money(amount / ln["quantity"]), "amount": amount})
                self.contract_lines.append((contract_id, cline_id, p, ln["item_id"], ln["venue_id"], ln["quantity"],
                                            start, end, state, officer))
            active = state in ("in_delivery", "completed")
            signed_at = contracted + dt.timedelta(days=1)
            P["contracts"].append({
                "id": contract_id, "number": f"HT-{created.year}-{pid:05d}", "project_id": pid, "award_id": award_id,
                "provider_id": p, "buyer_area_id": area, "buyer_name": f"{self.town_name[area]}人民政府",
                "provider_name": self.provider_name[p], "provider_credit_code": self.provider_code[p],
                "provider_representative": f"法人{p}", "amount": total_amount, "sessions_total": sessions_total,
                "start_date": start, "end_date": end, "terms": "", "state": "completed" if state == "completed"
                else "active" if active else "pending", "created_at": contracted, "created_by_id": officer,
                "buyer_signed_at": signed_at if active else None, "buyer_signed_by_id": officer if active else None,
                "provider_signed_at": signed_at if active else None,
                "provider_signed_by_id": self.provider_user[p] if active else None,
                "activated_at": signed_at if active else None,
                "completed_at": dt.datetime.combine(end, dt.time(8), dt.UTC) if state == "completed" else None,
                "terminated_at": None, "termination_reason": ""})
            half = _money(total_amount / 2)
            for pos, (label, pct, amount, sshare) in enumerate([("签订合同后预付", 50, half, 0),
                                                                ("全部场次完成后支付", 50, total_amount - half, 100)]):
                ms_id += 1
                P["milestones"].append({"id": ms_id, "contract_id": contract_id, "position": pos, "label": label,
                                        "percent": Decimal(pct), "amount": amount, "condition": "",
                                        "sessions_share": Decimal(sshare), "due_date": None,
                                        "paid_at": signed_at if active and pos == 0 else None,
                                        "paid_by_id": officer if active and pos == 0 else None})
            if active:
                project["delivery_started_at"] = signed_at
            if state == "completed":
                project["completed_at"] = dt.datetime.combine(end, dt.time(8), dt.UTC)
        for key, model in [("projects", PurchaseProject), ("lines", ProjectLine), ("criteria", Criterion),
                           ("bids", Bid), ("revisions", BidRevision), ("openings", BidOpening), ("panels", Panel),
                           ("members", PanelMember), ("scores", Score), ("results", ReviewResult),
                           ("bid_results", ReviewBidResult), ("review_lines", ReviewLine), ("awards", Award),
                           ("contracts", Contract), ("contract_lines", ContractLine),
                           ("milestones", PaymentMilestone)]:
            w(model, P[key])
            P[key] = []

    # --- sessions, ratings, complaints ---------------------------------------------------------
    def delivery(self, w):
        rng, n = self.rng, self.n
        planned = sum(c[5] for c in self.contract_lines) or 1
        scale = n["sessions"] / planned
        ratings_per_session = n["ratings"] / max(1, n["sessions"] * 0.85)
        sessions, ratings, complaints = [], [], []
        self.session_facts = []
        sid = rid = cid = 0
        residents_near = defaultdict(list)
        for uid, c in self.resident_community.items():
            residents_near[c].append(uid)
            residents_near[self.community_town[c]].append(uid)
            residents_near[1].append(uid)
        for contract, line, p, item, venue, qty, start, end, _state, officer in self.contract_lines:
            q = self.quality[p]
            k = max(1, round(qty * scale * rng.uniform(0.8, 1.2)))
            lo = dt.datetime.combine(start, dt.time(1), dt.UTC)
            hi = dt.datetime.combine(end, dt.time(12), dt.UTC)
            area = self.venue_area[venue]
            near = residents_near.get(area) or residents_near[1]
            for _ in range(k):
                sid += 1
                at = self.seasonal(lo, hi)
                row = {"id": sid, "contract_id": contract, "line_id": line, "provider_id": p, "item_id": item,
                       "venue_id": venue, "scheduled_at": at, "planned_audience": rng.choice([50, 80, 120, 200]),
                       "state": "scheduled", "created_at": lo, "scheduled_by_id": self.provider_user[p],
                       "reported_at": None, "reported_by_id": None, "actual_start": None, "actual_end": None,
                       "attendance": None, "notes": "", "reported_late": None, "decided_at": None,
                       "decided_by_id": None, "acceptance_score": None, "accepted_by_default": False,
                       "dispute_reason": "", "decision_note": "", "missed_at": None}
                sessions.append(row)
                if at > self.now - dt.timedelta(days=1):
                    continue  # still to come
                if rng.random() > 0.6 + 0.39 * q:
                    row.update(state="missed", missed_at=at + dt.timedelta(days=15))
                    continue
                late = rng.random() > 0.5 + 0.5 * q
                reported = at + dt.timedelta(days=rng.uniform(4, 10) if late else rng.uniform(0.1, 2.5))
                attendance = max(5, int(row["planned_audience"] * rng.uniform(0.5, 1.1)))
                row.update(state="reported", reported_at=reported.replace(microsecond=0),
                           reported_by_id=self.provider_user[p], actual_start=at, actual_end=at + dt.timedelta(hours=2),
                           attendance=attendance, reported_late=late)
                if reported < self.now - dt.timedelta(days=6):
                    decided = reported + dt.timedelta(days=rng.uniform(0.5, 5))
                    if rng.random() < 0.08 * (1 - q) + 0.005:
                        row.update(state="disputed", decided_at=decided.replace(microsecond=0),
                                   decided_by_id=officer, dispute_reason="现场核查人数与上报不符")
                    else:
                        row.update(state="confirmed", decided_at=decided.replace(microsecond=0),
                                   decided_by_id=officer, acceptance_score=int(max(40, min(100,
                                                                                          rng.gauss(55 + 43 * q, 6)))))
                # Ratings: residents living near the venue, stars following the provider's quality.
                m = min(len(near), attendance, max(0, round(rng.expovariate(1 / ratings_per_session))))
                base = 1 + 4 * q
                for uid in rng.sample(near, m):
                    rid += 1
                    stars = [max(1, min(5, round(rng.gauss(base, 0.8)))) for _ in range(3)]
                    given = (reported + dt.timedelta(hours=rng.uniform(0, 72))).replace(microsecond=0)
                    if given > self.now:
                        given = self.now
                    comment = rng.choice(COMMENTS) if rng.random() < 0.1 else ""
                    ratings.append({"id": rid, "session_id": sid, "provider_id": p, "item_id": item,
                                    "resident_id": uid, "content": stars[0], "organisation": stars[1],
                                    "venue": stars[2], "comment": comment, "status": "counted", "flag_reason": None,
                                    "reviewed_at": None, "reviewed_by_id": None, "review_note": "",
                                    "address_hash": f"{rng.getrandbits(64):016x}", "created_at": given,
                                    "updated_at": given, "reply": "", "replied_at": None,
                                    "comment_hidden_at": None, "comment_hidden_by_id": None, "hidden_reason": ""})
                if near and rng.random() < 0.05 * (1 - q):
                    cid += 1
                    lodged = reported + dt.timedelta(days=1)
                    upheld = rng.random() < 0.6
                    complaints.append({"id": cid, "session_id": sid, "provider_id": p, "resident_id": rng.choice(near),
                                       "text": "演出时间临时变更未通知，居民白跑一趟。", "created_at": lodged,
                                       "status": "upheld" if upheld else "dismissed",
                                       "reason": "经核实属实" if upheld else "经核实已提前公告",
                                       "decided_at": lodged + dt.timedelta(days=3), "decided_by_id": officer})
                if len(ratings) >= 50000:
                    self._flush_delivery(w, sessions, ratings)
            if len(sessions) >= 50000:
                self._flush_delivery(w, sessions, ratings)
        self._flush_delivery(w, sessions, ratings)
        w(Complaint, complaints)

    def _flush_delivery(self, w, sessions, ratings):
        # What the assessment plans need of each session, kept after its rows are written.
        self.session_facts.extend((r["id"], r["scheduled_at"], r["state"], r["attendance"], r["acceptance_score"],
                                   r["venue_id"], r["provider_id"], r["item_id"]) for r in sessions)
        w(ServiceSession, sessions)
        w(Rating, ratings)
        sessions.clear()
        ratings.clear()

    # --- residents' demand ------------------------------------------------------------------------
    def demand(self, w):
        rng = self.rng
        requests, supports, seen = [], [], set()
        rid = sid = 0
        by_community = defaultdict(list)
        for uid, c in self.resident_community.items():
            by_community[c].append(uid)
        popular = self.active_items[: max(5, len(self.active_items) // 5)]
        for _ in range(self.n["demand"]):
            c = rng.choice(self.community_ids)
            item = rng.choice(popular) if rng.random() < 0.5 else rng.choice(self.active_items)
            created = self.seasonal(self.now - dt.timedelta(days=365), self.now - dt.timedelta(hours=1))
            status = rng.choice(["open", "open", "planned", "fulfilled", "declined"])
            if status in ("open", "planned"):
                if (item, c) in seen:
                    status = "fulfilled"
                else:
                    seen.add((item, c))
            people = by_community[c]
            if not people:
                continue
            rid += 1
            decided = status != "open"
            requests.append({"id": rid, "item_id": item, "community_id": c,
                             "venue_id": self.venues_in[c][0], "requester_id": people[0], "note": "",
                             "status": status, "status_reason": {"planned": "已纳入下季度采购计划",
                                                                 "fulfilled": "服务已完成",
                                                                 "declined": "本年度预算已用完"}.get(status, ""),
                             "decided_at": created + dt.timedelta(days=10) if decided else None,
                             "decided_by_id": self.officer_id if decided else None, "created_at": created})
            for uid in rng.sample(people, min(len(people), 1 + int(rng.expovariate(1 / 3)))):
                sid += 1
                supports.append({"id": sid, "request_id": rid, "user_id": uid, "note": "",
                                 "created_at": created if uid == people[0] else
                                 min(self.now, created + dt.timedelta(days=rng.uniform(0, 30)))})
        w(DemandRequest, requests)
        w(DemandSupport, supports)

    # --- third-party assessment and public supervision -----------------------------------------
    def oversight(self, w):
        """Agencies and assessors; a sampling plan per month with visits to about a tenth of that
        month's sessions (the past ones recorded, a few with a discrepancy); supervisors with open,
        answered and overdue (escalated) items."""
        rng, n = self.rng, self.n
        users, roles, agencies, assessors = [], [], [], []
        today = to_local(self.now).date()
        for a in range(1, n["agencies"] + 1):
            agencies.append({"id": a, "name": f"第三方评估机构{a}",
                             "engaged_from": (self.start - dt.timedelta(days=62)).date(),
                             "engaged_until": today + dt.timedelta(days=365),
                             "credit_code": uscc.complete("9", "1", "110115", f"MA{a:06d}"),
                             "created_at": self.start})
        for k in range(n["assessors"]):
            aid, uid = k + 1, self.next_user + k
            agency = k % n["agencies"] + 1
            self._user(users, roles, uid, f"a{aid:04d}@{SCALE_DOMAIN}", f"测评员{aid}", roles=["assessor"])
            assessors.append({"id": aid, "user_id": uid, "agency_id": agency, "active": True,
                              "employer_credit_code": agencies[agency - 1]["credit_code"]})
        self.next_user += n["assessors"]
        sup_users, sup_roles, supervisors = [], [], []
        for k in range(n["supervisors"]):
            uid = self.next_user + k
            kind, org = SUPERVISOR_KINDS[k % len(SUPERVISOR_KINDS)]
            self._user(sup_users, sup_roles, uid, f"s{k + 1:04d}@{SCALE_DOMAIN}", f"监督员{k + 1}",
                       roles=["supervisor"])
            supervisors.append({"id": k + 1, "user_id": uid, "kind": kind, "organisation": org})
        self.next_user += n["supervisors"]
        w(User, users + sup_users)
        w(UserRole, roles + sup_roles)
        w(AssessmentAgency, agencies)
        w(Assessor, assessors)
        w(Supervisor, supervisors)

        # Plans: one per Beijing month with sessions, up to this month, drawn as the app draws them
        # (candidate keys, strata, sample and assessor order re-run from the plan's record).
        this_month = sampling.local_month_of(self.now)
        by_month = defaultdict(list)
        for fact in self.session_facts:
            month = sampling.local_month_of(fact[1])
            if month <= this_month and fact[2] != "missed":
                by_month[month].append(fact)
        agency_of = {a["id"]: a["agency_id"] for a in assessors}
        plans, visits = [], []
        vid, any_flagged, recent = 0, False, set()
        recorded_states = {"reported", "confirmed", "disputed"}
        for pid, month in enumerate(sorted(by_month), start=1):
            seed = f"scale-{month}"
            facts = {f[0]: f for f in by_month[month]}
            candidates = []
            for sid, _at, _state, _att, _acc, venue, provider, item in facts.values():
                area = self.venue_area[venue]
                candidates.append({"session_id": sid, "key": sampling.draw_key(seed, sid),
                                   "town_id": self.community_town.get(area, area), "provider_id": provider,
                                   "category_id": self.item_cat[item]})
            candidates.sort(key=lambda c: (c["key"], c["session_id"]))
            sample = sampling.select_sample(candidates, VISIT_SHARE_PERCENT, 1)
            order = sorted(agency_of, key=lambda a: (sampling.assessor_key(seed, a), a))
            rank = {a: i for i, a in enumerate(order)}
            load = dict.fromkeys(order, 0)
            plans.append({"id": pid, "month": month, "seed": seed, "share_percent": VISIT_SHARE_PERCENT,
                          "min_per_town": 1, "candidates": candidates, "sample": sample, "assessors": order,
                          "drawn_at": min(self.now, sampling.month_bounds(month)[0] + dt.timedelta(hours=1)),
                          "drawn_by_id": self.officer_id})
            visited = set()
            for pos, sid in enumerate(sample):
                _sid, at, state, attendance, acceptance, _venue, provider, _item = facts[sid]
                # The least loaded assessor (in the plan's order) who did not visit the provider last month.
                skipped, assessor = [], None
                for a in sorted(order, key=lambda a: (load[a], rank[a])):
                    if (a, provider) in recent:
                        skipped.append({"assessor_id": a, "reason": sampling.VISITED_LAST_MONTH})
                        continue
                    assessor = a
                    break
                if assessor is not None:
                    load[assessor] += 1
                vid += 1
                row = {"id": vid, "plan_id": pid, "session_id": sid, "position": pos, "assessor_id": assessor,
                       "skipped": skipped, "status": "planned", "recorded_at": None, "checklist": {},
                       "counted_attendance": None, "score": None, "findings": "", "reported_attendance": None,
                       "acceptance_score": None, "attendance_flag": False, "score_flag": False,
                       "falsification_confirmed_at": None, "falsification_confirmed_by_id": None}
                visits.append(row)
                if assessor is None or state not in recorded_states or attendance is None \
                        or at > self.now - dt.timedelta(days=1):
                    continue
                flagged = rng.random() < DISCREPANCY_RATE or not any_flagged
                any_flagged = any_flagged or flagged
                counted = attendance // 2 if flagged else max(0, attendance - rng.randint(0, attendance // 10))
                base = acceptance if acceptance is not None else 85
                score = max(0, base - 35) if flagged else min(100, max(0, base - rng.randint(0, 8)))
                row.update(status="recorded", recorded_at=at + dt.timedelta(hours=1),
                           checklist={"duration": True, "staffing": not flagged, "content": True,
                                      "target_group": True},
                           counted_attendance=counted, score=score,
                           findings=FALSIFIED if flagged else "活动按标准开展。", reported_attendance=attendance,
                           acceptance_score=acceptance, attendance_flag=flagged,
                           score_flag=flagged and acceptance is not None)
                visited.add((assessor, provider))
            recent = visited
        w(AssessmentPlan, plans)
        w(AssessmentVisit, visits)
        self._falsifications(visits)
        self._supervision_items(w, supervisors)

    def _falsifications(self, visits):
        """The district officer confirms two of the latest discrepancies (different providers) as
        falsified, through the app's own operation: the adjustment rule proposes their suspension."""
        from evaluation.assessment import operations as assessment

        officer = db.session.get(User, self.officer_id)
        flagged = sorted((v for v in visits if v["attendance_flag"]), key=lambda v: v["recorded_at"], reverse=True)
        providers = set()
        for row in flagged:
            visit = db.session.get(AssessmentVisit, row["id"])
            if visit.session.provider_id in providers:
                continue
            providers.add(visit.session.provider_id)
            assessment.confirm_falsification(visit, officer, FALSIFIED, now=self.now)
            if len(providers) == 2:
                break

    def _supervision_items(self, w, supervisors):
        """Supervision items about venues, answered by the venue's town (or the district once overdue),
        due as the app sets it (the answer window in working days, core.workdays); evidence photos on
        every fourth item (three pictures kept through the one upload check, rows sharing them) and
        residents following the items."""
        import io

        from PIL import Image

        from core import settings, uploads
        from core.uploads import StoredFile
        from core.workdays import working_deadline
        from evaluation.supervision import operations as supervision
        from evaluation.supervision.models import SupervisionEvidence, SupervisionFollow

        rng, n = self.rng, self.n
        answer_days = settings.get(supervision.ANSWER_DAYS.key)
        deadlines: dict = {}  # Beijing date raised → deadline: one calendar walk per day, not per item

        def due(raised):
            day = to_local(raised).date()
            if day not in deadlines:
                deadlines[day] = working_deadline(raised, answer_days)
            return deadlines[day]

        items = []
        venues = sorted(self.venue_area)
        for iid in range(1, n["supervision_items"] + 1):
            venue = rng.choice(venues)
            area = self.venue_area[venue]
            area = self.community_town.get(area, area)
            title, text_ = SUPERVISION_TOPICS[iid % len(SUPERVISION_TOPICS)]
            kind = iid % 5  # 0, 1: open within the deadline; 2: overdue and escalated; 3, 4: answered
            raised = self.now - dt.timedelta(hours=rng.randint(1, 90)) if kind < 2 else \
                self.seasonal(self.start, self.now - dt.timedelta(days=30))
            row = {"id": iid, "raised_by_id": supervisors[iid % len(supervisors)]["user_id"], "subject_type": "venue",
                   "subject_id": venue, "subject_name": self.venue_name[venue][:300], "area_id": area,
                   "title": title, "text": text_, "status": "open", "raised_at": raised, "due_at": due(raised),
                   "escalated_at": None, "answered_at": None, "answered_by_id": None, "answer": ""}
            if kind == 2:
                row.update(escalated_at=row["due_at"] + dt.timedelta(hours=1), area_id=self.district_id)
            elif kind > 2:
                row.update(status="answered", answered_at=raised + dt.timedelta(days=rng.uniform(1, 9)),
                           answered_by_id=self.town_officer.get(area, self.officer_id),
                           answer="已核实并整改，整改情况已在文化站公示。")
            items.append(row)
        w(SupervisionItem, items)

        kept = []
        for k, colour in enumerate(((180, 60, 40), (60, 120, 180), (90, 160, 70))):
            buf = io.BytesIO()
            Image.new("RGB", (64, 48), colour).save(buf, "PNG")
            kept.append(uploads.store(buf.getvalue(), uploaded_by=None, field="evidence",
                                      filename=f"现场照片{k + 1}.png"))
        next_file = db.session.scalar(select(func.max(StoredFile.id))) + 1
        files, evidence, follows = [], [], []
        for row in items:
            iid = row["id"]
            if iid % 4 == 0:
                pic = kept[iid % len(kept)]
                files.append({"id": next_file, "sha256": pic.sha256, "size": pic.size, "content_type": pic.content_type,
                              "original_name": pic.original_name, "uploaded_by_id": row["raised_by_id"],
                              "created_at": row["raised_at"]})
                evidence.append({"item_id": iid, "file_id": next_file})
                next_file += 1
            # Residents follow the open items most; an answered item keeps the follows it had.
            for uid in rng.sample(self.resident_ids, rng.randint(0, 3 if row["status"] == "open" else 1)):
                follows.append({"item_id": iid, "user_id": uid,
                                "created_at": min(self.now, row["raised_at"] + dt.timedelta(hours=rng.randint(1, 48)))})
        w(StoredFile, files)
        w(SupervisionEvidence, evidence)
        w(SupervisionFollow, follows)


def _demo_password() -> str:
    from seeds.district import DEMO_PASSWORD

    return DEMO_PASSWORD


def seed_scale(factor: float, echo=print, seed: int = 9, copy: bool | None = None) -> dict:
    """Generate the scale district into an empty database (the caller commits). On PostgreSQL
    the rows go in by COPY unless copy=False (then by executemany, as on SQLite)."""
    if db.session.scalar(select(func.count()).select_from(User)):
        raise click.ClickException("the database already has users: scale data goes into an empty database "
                                   "(create it with `flask db upgrade`)")
    with _bulk_load():
        rows = Scale(factor, seed).run(echo, copy)
    if db.session.get_bind().dialect.name == "postgresql":
        _reset_sequences()
    # Statistics for the query planner after a bulk load (SQLite has none until ANALYZE; without
    # them it sorts every public project rather than read the list's index in order).
    db.session.execute(text("ANALYZE"))
    return rows


@contextlib.contextmanager
def _bulk_load():
    """Load into tables without their secondary indexes, then build each index once from the
    loaded rows (a sort, rather than a B-tree insert per row per index): the same statements that
    made them, so the schema ends as it began, and a unique index still refuses duplicates.
    Indexes that back a constraint (primary keys, UNIQUE constraints) stay. On SQLite a larger
    page cache for the connection while it loads."""
    pg = db.session.get_bind().dialect.name == "postgresql"
    if pg:
        indexes = db.session.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = current_schema() AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)")).all()
    else:
        indexes = db.session.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")).all()
        cache = db.session.execute(text("PRAGMA cache_size")).scalar()
        db.session.execute(text("PRAGMA cache_size = -262144"))  # 256 MB, this connection only
    for name, _sql in indexes:
        db.session.execute(text(f'DROP INDEX "{name}"'))  # names from the catalogue, never from input
    try:
        yield
    finally:
        for _name, sql in indexes:
            db.session.execute(text(sql))
        if not pg:
            db.session.execute(text(f"PRAGMA cache_size = {int(cache)}"))


def _reset_sequences():
    """Ids were chosen here: move each PostgreSQL sequence past them."""
    for table in db.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and pk[0].autoincrement in (True, "auto") and pk[0].type.python_type is int:
            # Table and column names come from the models, never from input.
            sql = (f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "  # noqa: S608  # nosec B608
                   f"GREATEST((SELECT COALESCE(MAX({pk[0].name}), 0) FROM {table.name}), 1))")
            db.session.execute(text(sql))


@click.command("scale")
@click.option("--factor", type=float, default=1.0, show_default=True,
              help="Size relative to a large district (1 = 20,000 projects, 1,000,000 ratings).")
@click.option("--seed", type=int, default=9, show_default=True, help="Random seed (same seed, same data).")
def scale_command(factor, seed):
    """Generate a large district into an empty database, for performance measurements."""
    if not 0 < factor <= 5:
        raise click.BadParameter("between 0 and 5", param_hint="--factor")
    with intends_to_write():
        seed_scale(factor, click.echo, seed)
        db.session.commit()
    click.echo(f"logins: {ADMIN_LOGIN}, {OFFICER_LOGIN}, {PROVIDER_LOGIN}, a0001@{SCALE_DOMAIN} (assessor), "
               f"s0001@{SCALE_DOMAIN} (supervisor) (demo password)")
