"""Open data in the Open Contracting Data Standard (OCDS) 1.1.5.

One contracting process per published purchase project; ocid = prefix + "-" + project id.
Releases are not stored: each is built from one dated event that the marketplace already keeps
(publication, opening, award, contract signature, session, payment …). A release's id names its
event, its date is the event's time and its content is what that event made known, so ids,
dates and contents stay the same however the project moves on; a consumer merges them (the
record's `compiledRelease`) into the current state.

The events are listed in SQL (`release_events`), so a page of releases and the `since` filter
are one query; the rows behind a page are then loaded with a fixed number of queries.

Sealed bids: nothing about bids is read before the opening. Tenderers and their number come
from the opening record (BidOpening) alone; no date or field depends on a bid's arrival
(a project's `criteria_locked_at` and `updated_at` move when the first bid comes, so neither is
used).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, case, cast, func, literal, select, union_all
from sqlalchemy.orm import lazyload, selectinload

from core import settings
from core.db import utcnow
from core.i18n import to_local
from marketplace.awards.models import Award
from marketplace.bids.models import BidOpening
from marketplace.contracts.models import Contract, ContractState, PaymentMilestone
from marketplace.projects.models import CriterionKind, ProjectMethod, ProjectState, PurchaseProject
from marketplace.providers.models import Provider
from marketplace.sessions.models import ServiceSession, SessionState

OCDS_VERSION = "1.1"
CURRENCY = "CNY"
# Organisation identifiers: the unified social credit code (GB 32100-2015). org-id.guide lists
# only CN-SAIC, the enterprise register; the code also names social organisations and public
# institutions registered elsewhere, so one scheme named after the code itself is used for all.
USCC_SCHEME = "CN-USCC"
# Items are classified by the district's guidance catalog (指导性目录): a local scheme.
ITEM_SCHEME = "X-HUIMIN-CATALOG"
OCID_PREFIX = settings.define(
    "ocds.ocid_prefix", "ocds-hm0001", _l("Open data (OCDS): ocid prefix (ocds- and six letters or digits)"),
    str, pattern=r"ocds-[a-z0-9]{6}")
PUBLISHER = settings.define(
    "ocds.publisher_name", "文化惠民公共文化服务采购平台", _l("Open data (OCDS): publisher name"), str)
SETTINGS = (OCID_PREFIX, PUBLISHER)

# Project state → tender status (tenderStatus codelist). Drafts never appear.
TENDER_STATUS = {
    ProjectState.PUBLISHED: "active",
    ProjectState.CLOSED: "active",
    ProjectState.OPENED: "active",
    ProjectState.UNDER_REVIEW: "active",
    ProjectState.AWARDED: "complete",
    ProjectState.CONTRACTED: "complete",
    ProjectState.IN_DELIVERY: "complete",
    ProjectState.COMPLETED: "complete",
    ProjectState.CANCELLED: "cancelled",
    ProjectState.FAILED: "unsuccessful",
}
# Method → procurementMethod (method codelist). Every Huimin method is announced publicly and
# open to every approved provider, so all but single source are "open"; the Chinese name of
# the method goes to procurementMethodDetails.
METHOD = {
    ProjectMethod.OPEN_TENDER: "open",
    ProjectMethod.COMPETITIVE_CONSULTATION: "open",
    ProjectMethod.INQUIRY: "open",
    ProjectMethod.SINGLE_SOURCE: "direct",
}
# Open data is in Chinese whatever the reader's language.
METHOD_ZH = {
    ProjectMethod.OPEN_TENDER: "公开招标",
    ProjectMethod.COMPETITIVE_CONSULTATION: "竞争性磋商",
    ProjectMethod.INQUIRY: "询价",
    ProjectMethod.SINGLE_SOURCE: "单一来源采购",
}

# The events that make releases, in the order they are listed when they share a time.
KINDS = ("tender", "opening", "failed", "award", "award_void", "contract", "contract_signed", "payment",
         "session", "session_done", "contract_end", "cancelled")
SEQ = {k: n for n, k in enumerate(KINDS, start=1)}
IMPLEMENTATION_KINDS = ("payment", "session", "session_done")


# Any publisher's ocid (the prefix registered with the Open Contracting Partnership, then an id).


def ocid_prefix() -> str:
    return settings.get(OCID_PREFIX.key)


def ocid_for(project_id: int) -> str:
    return f"{ocid_prefix()}-{project_id}"


def project_id_of(ocid: str) -> int | None:
    """The project id an ocid of this publisher names, or None."""
    head = ocid_prefix() + "-"
    rest = ocid[len(head):] if ocid.startswith(head) else ""
    # The id exactly as ocid_for writes it (no leading zeros), so one process has one ocid.
    return int(rest) if re.fullmatch(r"[1-9][0-9]{0,11}", rest) else None


# --- the events, in SQL -------------------------------------------------------------------------

def _event(kind: str, project_id, ref_id, at, contract_id=None):
    return select(
        project_id.label("project_id"),
        cast(literal(kind), String(20)).label("kind"),
        cast(literal(SEQ[kind]), Integer).label("seq"),
        ref_id.label("ref_id"),
        at.label("at"),
        (contract_id if contract_id is not None else cast(literal(None), Integer)).label("contract_id"),
    )


def release_events(project_id: int | None = None, since: dt.datetime | None = None,
                   project_ids: list[int] | None = None):
    """SELECT of (project_id, kind, seq, ref_id, at, contract_id, nth) for every release, in
    release order. `nth` numbers a contract's implementation events (1 = the first). `project_id`
    or `project_ids` keep the releases of those processes only."""
    P, A, C, S, M = PurchaseProject, Award, Contract, ServiceSession, PaymentMilestone
    public = P.published_at.isnot(None)
    done_at = func.coalesce(S.decided_at, S.missed_at)

    def in_force(at):
        # Implementation is not published before the contract is in force (records entered
        # afterwards for earlier sessions are dated by the signature).
        return case((at < C.activated_at, C.activated_at), else_=at)
    parts = [
        _event("tender", P.id, P.id, P.published_at).where(public),
        _event("opening", BidOpening.project_id, BidOpening.id, BidOpening.opened_at)
        .join(P, P.id == BidOpening.project_id).where(public),
        _event("failed", P.id, P.id, P.failed_at).where(public, P.state == ProjectState.FAILED),
        _event("cancelled", P.id, P.id, P.cancelled_at).where(public, P.state == ProjectState.CANCELLED),
        _event("award", A.project_id, A.id, A.published_at).join(P, P.id == A.project_id).where(public),
        _event("award_void", A.project_id, A.id, A.voided_at)
        .join(P, P.id == A.project_id).where(public, A.voided_at.isnot(None)),
        _event("contract", C.project_id, C.id, C.created_at).join(P, P.id == C.project_id).where(public),
        _event("contract_signed", C.project_id, C.id, C.activated_at)
        .join(P, P.id == C.project_id).where(public, C.activated_at.isnot(None)),
        _event("contract_end", C.project_id, C.id, func.coalesce(C.completed_at, C.terminated_at))
        .join(P, P.id == C.project_id)
        .where(public, C.state.in_([ContractState.COMPLETED, ContractState.TERMINATED])),
        _event("session", C.project_id, S.id, in_force(S.created_at), S.contract_id)
        .join(C, C.id == S.contract_id).join(P, P.id == C.project_id).where(public),
        _event("session_done", C.project_id, S.id, in_force(done_at), S.contract_id)
        .join(C, C.id == S.contract_id).join(P, P.id == C.project_id)
        .where(public, S.state.in_([SessionState.CONFIRMED, SessionState.DISPUTED, SessionState.MISSED]),
               done_at.isnot(None)),
        _event("payment", C.project_id, M.id, in_force(M.paid_at), M.contract_id)
        .join(C, C.id == M.contract_id).join(P, P.id == C.project_id).where(public, M.paid_at.isnot(None)),
    ]
    if project_id is not None:
        parts = [p.where(P.id == project_id) for p in parts]
    if project_ids is not None:
        parts = [p.where(P.id.in_(project_ids)) for p in parts]
    u = union_all(*parts).subquery("events")
    implementation = u.c.kind.in_(IMPLEMENTATION_KINDS)
    # Nothing is published before it happened (a record may carry a time ahead of the clock).
    # Numbered before `since` filters, so the first implementation release keeps its tag.
    numbered = select(u, func.row_number().over(
        partition_by=(u.c.contract_id, implementation),
        order_by=(u.c.at, u.c.seq, u.c.ref_id)).label("nth")).where(u.c.at <= utcnow()).subquery("numbered")
    stmt = select(numbered)
    if since is not None:
        stmt = stmt.where(numbered.c.at >= since)
    return stmt.order_by(numbered.c.at, numbered.c.project_id, numbered.c.seq, numbered.c.ref_id)


def published_processes():
    """SELECT of the ids of the projects with a published contracting process, oldest first."""
    return (select(PurchaseProject.id).where(PurchaseProject.published_at.isnot(None),
                                             PurchaseProject.published_at <= utcnow())
            .order_by(PurchaseProject.id))


# --- loading the rows behind a set of events ----------------------------------------------------

@dataclass
class _Process:
    """One project and everything its releases may mention."""

    project: PurchaseProject
    opening: BidOpening | None = None
    awards: dict[int, Award] = field(default_factory=dict)
    contracts: dict[int, Contract] = field(default_factory=dict)


@dataclass
class _Loaded:
    processes: dict[int, _Process]
    providers: dict[int, Provider]
    sessions: dict[int, ServiceSession]


def _load(db, events) -> _Loaded:
    """Fixed number of queries whatever the number of events."""
    project_ids = sorted({e.project_id for e in events})
    if not project_ids:
        return _Loaded({}, {}, {})
    projects = db.session.scalars(select(PurchaseProject).where(PurchaseProject.id.in_(project_ids))
                                  .options(selectinload(PurchaseProject.area))).all()
    processes = {p.id: _Process(p) for p in projects}
    for o in db.session.scalars(select(BidOpening).where(BidOpening.project_id.in_(project_ids))):
        processes[o.project_id].opening = o
    # Many-to-one links to rows already loaded (the project) come from the session's identity
    # map; nothing else of an award or contract is needed beyond its lines and milestones.
    for a in db.session.scalars(select(Award).where(Award.project_id.in_(project_ids))
                                .options(lazyload("*")).order_by(Award.id)):
        processes[a.project_id].awards[a.id] = a
    for c in db.session.scalars(select(Contract).where(Contract.project_id.in_(project_ids)).order_by(Contract.id)
                                .options(lazyload("*"), selectinload(Contract.lines),
                                         selectinload(Contract.milestones))):
        processes[c.project_id].contracts[c.id] = c
    provider_ids = set()
    for proc in processes.values():
        if proc.opening is not None:
            provider_ids |= {e["provider_id"] for e in proc.opening.entries}
        provider_ids |= {a.provider_id for a in proc.awards.values()}
        provider_ids |= {c.provider_id for c in proc.contracts.values()}
    providers = {p.id: p for p in db.session.scalars(
        select(Provider).where(Provider.id.in_(provider_ids)).options(lazyload("*")))} if provider_ids else {}
    session_ids = {e.ref_id for e in events if e.kind in ("session", "session_done")}
    sessions = {s.id: s for s in db.session.scalars(
        select(ServiceSession).where(ServiceSession.id.in_(session_ids)))} if session_ids else {}
    return _Loaded(processes, providers, sessions)


# --- small pieces -------------------------------------------------------------------------------

def when(value: dt.datetime | None) -> str | None:
    """An OCDS date-time: Beijing time with its offset, to the second."""
    return to_local(value).isoformat(timespec="seconds") if value is not None else None


def _day(value: dt.date, end: bool = False) -> str:
    t = dt.time(23, 59, 59) if end else dt.time(0, 0, 0)
    return dt.datetime.combine(value, t, tzinfo=dt.timezone(dt.timedelta(hours=8))).isoformat()


def money(amount: Decimal) -> dict:
    return {"amount": float(amount), "currency": CURRENCY}


def _buyer_id(project: PurchaseProject) -> str:
    return f"HM-AREA-{project.area.code}"


def _provider_id(provider: Provider) -> str:
    return f"{USCC_SCHEME}-{provider.credit_code}"


def _provider_ref(provider: Provider) -> dict:
    return {"id": _provider_id(provider), "name": provider.name}


def _buyer_ref(project: PurchaseProject) -> dict:
    return {"id": _buyer_id(project), "name": project.area.name}


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def award_criteria_details(project: PurchaseProject) -> str:
    parts = []
    for c in project.criteria:
        if c.kind == CriterionKind.QUALIFICATION:
            parts.append(f"{c.name}（资格审查，通过/不通过）")
        elif c.kind == CriterionKind.PRICE:
            parts.append(f"{c.name} {_number(c.weight)}分（低价优先法：评标基准价/投标报价×{_number(c.weight)}）")
        elif c.kind == CriterionKind.PERFORMANCE:
            parts.append(f"{c.name} {_number(c.weight)}分（按开标时承接主体的履约评价得分折算）")
        else:
            parts.append(f"{c.name} {_number(c.weight)}分（专家评分）")
    return "综合评分法：" + "；".join(parts)


def _items(project: PurchaseProject) -> list[dict]:
    return [{
        "id": str(ln.id),
        "description": f"{ln.item.name}（{ln.venue.name}）",
        "classification": {"scheme": ITEM_SCHEME, "id": ln.item.code, "description": ln.item.name},
        "quantity": ln.quantity,
        "unit": {"name": ln.item.unit},
    } for ln in project.lines]


def _document(doc_id: str, kind: str, title: str, url: str | None = None, description: str | None = None,
              published: dt.datetime | None = None) -> dict:
    doc = {"id": doc_id, "documentType": kind, "title": title, "language": "zh"}
    if url:
        doc["url"] = url
    if description:
        doc["description"] = description
    if published is not None:
        doc["datePublished"] = when(published)
    return doc


# --- parties as they stood at a time ------------------------------------------------------------

def _parties(proc: _Process, loaded: _Loaded, at: dt.datetime) -> list[dict]:
    """The buyer and every provider with a role by `at`, each with all its roles then (a
    compiled release takes the roles of the latest release, so each lists them in full)."""
    project = proc.project
    paid = [m for c in proc.contracts.values() for m in c.milestones if m.paid_at is not None and m.paid_at <= at]
    buyer_roles = ["buyer", "procuringEntity"] + (["payer"] if paid else [])
    parties = [{"id": _buyer_id(project), "name": project.area.name, "roles": buyer_roles,
                "address": {"region": project.area.name, "countryName": "中国"}}]
    roles: dict[int, list[str]] = {}
    if proc.opening is not None and proc.opening.opened_at <= at:
        for e in proc.opening.entries:
            roles.setdefault(e["provider_id"], []).append("tenderer")
    for a in proc.awards.values():
        if a.published_at <= at and (a.voided_at is None or a.voided_at > at):
            roles.setdefault(a.provider_id, []).append("supplier")
    for c in proc.contracts.values():
        if any(m.paid_at is not None and m.paid_at <= at for m in c.milestones):
            roles.setdefault(c.provider_id, []).append("payee")
    for provider_id, its_roles in roles.items():
        p = loaded.providers[provider_id]
        parties.append({"id": _provider_id(p), "name": p.name,
                        "identifier": {"scheme": USCC_SCHEME, "id": p.credit_code, "legalName": p.name},
                        "roles": list(dict.fromkeys(its_roles))})
    return parties


# --- one release per event ----------------------------------------------------------------------

def _tender(project: PurchaseProject) -> dict:
    tender = {
        "id": project.reference,
        "title": project.title,
        "status": "active",
        "procuringEntity": _buyer_ref(project),
        "items": _items(project),
        "value": money(project.budget),
        "procurementMethod": METHOD[project.method],
        "procurementMethodDetails": METHOD_ZH[project.method],
        "mainProcurementCategory": "services",
        "awardCriteria": "ratedCriteria",
        "awardCriteriaDetails": award_criteria_details(project),
        "submissionMethod": ["electronicSubmission"],
        "submissionMethodDetails": "通过文化惠民平台在线提交，开标前密封",
        "tenderPeriod": {"startDate": when(project.published_at), "endDate": when(project.bid_deadline)},
        "documents": [_document("tender-notice", "tenderNotice", f"{project.title} 采购公告",
                                url_for("projects.detail", project_id=project.id, _external=True),
                                published=project.published_at)],
    }
    if project.description:
        tender["description"] = project.description
    if project.justification:
        tender["procurementMethodRationale"] = project.justification
    return tender


def _award(a: Award, status: str, loaded: _Loaded) -> dict:
    award = {"id": f"award-{a.id}", "title": f"{a.project.title} 中标结果", "status": status,
             "date": when(a.published_at), "value": money(a.amount),
             "suppliers": [_provider_ref(loaded.providers[a.provider_id])],
             "documents": [_document(f"award-notice-{a.id}", "awardNotice", f"{a.project.title} 中标公告",
                                     url_for("awards.notice", project_id=a.project_id, _external=True),
                                     published=a.published_at)]}
    if not a.top_ranked and a.reason:
        award["description"] = a.reason
    return award


def _contract_ref(c: Contract, **more) -> dict:
    return {"id": f"contract-{c.id}", "awardID": f"award-{c.award_id}", **more}


def _contract(c: Contract) -> dict:
    return _contract_ref(
        c, title=f"{c.project.title} 服务合同（{c.number}）", status="pending", value=money(c.amount),
        period={"startDate": _day(c.start_date), "endDate": _day(c.end_date, end=True)},
        items=[{"id": str(ln.id), "description": f"{ln.item_name}（{ln.venue.name}）",
                "classification": {"scheme": ITEM_SCHEME, "id": ln.item.code, "description": ln.item_name},
                "quantity": ln.sessions, "unit": {"name": ln.unit, "value": money(ln.unit_price)}}
               for ln in c.lines])


def _contract_end_status(c: Contract) -> str:
    # contractStatus "terminated" covers both an ended contract and one ended early; one that
    # never came into force was "cancelled".
    return "terminated" if c.activated_at is not None else "cancelled"


def _milestone(s: ServiceSession, c: Contract, done: bool) -> dict:
    line = next(ln for ln in c.lines if ln.id == s.line_id)
    ms = {"id": f"session-{s.id}", "title": f"{line.item_name}（{line.venue.name}）", "type": "delivery",
          "code": s.reference, "dueDate": when(s.scheduled_at), "status": "scheduled"}
    if done:
        ms["status"] = {SessionState.CONFIRMED: "met", SessionState.DISPUTED: "notMet",
                        SessionState.MISSED: "notMet"}[s.state]
        ms["dateModified"] = when(s.decided_at or s.missed_at)
        if s.state == SessionState.CONFIRMED:
            ms["dateMet"] = when(s.actual_end or s.decided_at)
    else:
        ms["dateModified"] = when(s.created_at)
    return ms


def _transaction(m: PaymentMilestone, c: Contract, loaded: _Loaded) -> dict:
    return {"id": f"payment-{m.id}", "date": when(m.paid_at), "value": money(m.amount), "payer": _buyer_ref(c.project),
            "payee": _provider_ref(loaded.providers[c.provider_id])}


def _body(ev, proc: _Process, loaded: _Loaded) -> tuple[list[str], str, dict]:
    """(tags, id suffix, release content) of one event."""
    project, kind = proc.project, ev.kind
    tender_id = {"id": project.reference}
    if kind == "tender":
        return ["tender"], "tender", {"tender": _tender(project)}
    if kind == "opening":
        o = proc.opening
        return ["tenderUpdate"], "opening", {"tender": {
            **tender_id, "status": "active", "numberOfTenderers": o.bid_count,
            "tenderers": [_provider_ref(loaded.providers[e["provider_id"]]) for e in o.entries]}}
    if kind == "failed":
        return ["tenderUpdate"], "failed", {"tender": {
            **tender_id, "status": "unsuccessful",
            "documents": [_document("failure", "cancellationDetails", f"{project.title} 采购失败",
                                    description=project.failed_reason, published=project.failed_at)]}}
    if kind == "cancelled":
        return ["tenderCancellation"], "cancelled", {"tender": {
            **tender_id, "status": "cancelled",
            "documents": [_document("cancellation", "cancellationDetails", f"{project.title} 终止公告",
                                    description=project.cancel_reason, published=project.cancelled_at)]}}
    if kind == "award":
        a = proc.awards[ev.ref_id]
        # During the publicity period and challenge window the award is not yet in force.
        return ["award"], f"award-{a.id}", {"tender": {**tender_id, "status": "complete"},
                                            "awards": [_award(a, "pending", loaded)]}
    if kind == "award_void":
        a = proc.awards[ev.ref_id]
        return ["awardCancellation"], f"award-{a.id}-void", {
            "tender": {**tender_id, "status": "active"},
            "awards": [{"id": f"award-{a.id}", "status": "cancelled", "description": a.void_reason}]}
    c = proc.contracts.get(ev.contract_id or ev.ref_id)
    if kind == "contract":
        return ["contract", "awardUpdate"], f"contract-{c.id}", {
            "awards": [{"id": f"award-{c.award_id}", "status": "active"}], "contracts": [_contract(c)]}
    if kind == "contract_signed":
        return ["contractUpdate"], f"contract-{c.id}-signed", {"contracts": [_contract_ref(
            c, status="active", dateSigned=when(max(c.buyer_signed_at, c.provider_signed_at)))]}
    if kind == "contract_end":
        return ["contractTermination"], f"contract-{c.id}-end", {
            "contracts": [_contract_ref(c, status=_contract_end_status(c))]}
    tags = ["implementation" if ev.nth == 1 else "implementationUpdate"]
    if kind == "payment":
        m = next(m for m in c.milestones if m.id == ev.ref_id)
        impl = {"transactions": [_transaction(m, c, loaded)]}
        return tags, f"payment-{m.id}", {"contracts": [_contract_ref(c, implementation=impl)]}
    s = loaded.sessions[ev.ref_id]
    done = kind == "session_done"
    impl = {"milestones": [_milestone(s, c, done)]}
    return tags, f"session-{s.id}" + ("-done" if done else ""), {"contracts": [_contract_ref(c, implementation=impl)]}


def _release(ev, loaded: _Loaded) -> dict:
    proc = loaded.processes[ev.project_id]
    tags, suffix, body = _body(ev, proc, loaded)
    ocid = ocid_for(proc.project.id)
    return {"ocid": ocid, "id": f"{ocid}-{suffix}", "date": when(ev.at), "tag": tags, "initiationType": "tender",
            "parties": _parties(proc, loaded, ev.at), "buyer": _buyer_ref(proc.project),
            "language": "zh", **body}


def build_releases(db, events) -> list[dict]:
    events = list(events)
    loaded = _load(db, events)
    return [_release(ev, loaded) for ev in events]


# --- packages -----------------------------------------------------------------------------------

def publisher() -> dict:
    return {"name": settings.get(PUBLISHER.key)}


def published_date(releases: list[dict]) -> str:
    """An on-demand package is dated by the last change it contains (now, when it has none)."""
    return max((r["date"] for r in releases), default=None) or when(utcnow())


def merge(releases: list[dict]) -> dict:
    """The compiled release: releases merged in date order by the OCDS merge rules (objects
    merged field by field; arrays of objects with ids merged by id; other arrays replaced)."""
    compiled: dict = {}
    for r in releases:
        _merge_into(compiled, {k: v for k, v in r.items() if k not in ("id", "date", "tag")})
    last = releases[-1]
    compiled.update({"id": f"{last['ocid']}-compiled", "date": last["date"], "tag": ["compiled"]})
    return compiled


def _merge_into(target: dict, source: dict) -> None:
    for key, value in source.items():
        if isinstance(value, dict):
            old = target.get(key)
            if not isinstance(old, dict):
                old = target[key] = {}
            _merge_into(old, value)
        elif isinstance(value, list) and value and all(isinstance(v, dict) and "id" in v for v in value):
            old = target.get(key) if isinstance(target.get(key), list) else []
            by_id = {o["id"]: o for o in old}
            for v in value:
                if v["id"] in by_id:
                    _merge_into(by_id[v["id"]], v)
                else:
                    copy: dict = {}
                    _merge_into(copy, v)
                    old.append(copy)
                    by_id[v["id"]] = copy
            target[key] = old
        else:
            target[key] = list(value) if isinstance(value, list) else value
