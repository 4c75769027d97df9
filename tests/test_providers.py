"""Providers: registration, review decisions and their refusals, bidding eligibility, documents,
the provider's own API. Pages are read in Chinese, the default language."""

from __future__ import annotations

import datetime as dt
import io
import itertools

import pytest
import time_machine
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from werkzeug.datastructures import FileStorage

from catalog.items.models import Category
from core import uscc
from core.accounts.models import Role, User
from core.audit import AuditEvent
from core.errors import Forbidden, Invalid, Refused
from core.i18n import LOCAL_TZ
from core.notifications import Notification
from core.uploads import StoredFile
from marketplace.providers import operations as ops
from marketplace.providers.models import (
    OFFICER_ACTIONS,
    TRANSITIONS,
    Provider,
    ProviderAction,
    ProviderDocument,
    ProviderEvent,
    ProviderKind,
    ProviderStatus,
)
from tests.support.accounts import PASSWORD
from tests.support.pages import html_text

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
_codes = itertools.count(1)


def new_code(prefix="52") -> str:
    return uscc.complete(prefix[0], prefix[1], "110115", f"MA0P{next(_codes):04d}")


def pdf_upload(name="登记证书.pdf", data=PDF) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type="application/pdf")


def local_end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), LOCAL_TZ).astimezone(dt.UTC)


@pytest.fixture
def category(session):
    top = Category(code="T-PERF", name="文艺演出", name_en="Performances", position=1)
    session.add(top)
    session.commit()  # kept when a failing request rolls its own work back
    return top


@pytest.fixture
def officer(make_user):
    return make_user("officer")  # district jurisdiction


@pytest.fixture
def make_provider(session, make_user, officer):
    """A registered provider brought to the given status through the real operations."""

    def make(status="pending", user=None, name=None):
        user = user or make_user("provider")
        provider = ops.register(user, certificate=pdf_upload(), name=name or f"测试团{user.id}",
                                credit_code=new_code(), kind=ProviderKind.SOCIAL_ORGANISATION,
                                legal_representative="张三", contact_name="李四", contact_phone="13912345678",
                                category_ids=[c.id for c in ops.top_categories()][:1])
        status = ProviderStatus(status)
        if status in (ProviderStatus.APPROVED, ProviderStatus.SUSPENDED):
            ops.approve(provider, officer)
        if status == ProviderStatus.SUSPENDED:
            ops.suspend(provider, ops.utcnow() + dt.timedelta(days=30), "两场演出缺席", officer)
        if status == ProviderStatus.REJECTED:
            ops.reject(provider, officer, "资质不符")
        if status == ProviderStatus.NEEDS_DOCUMENTS:
            ops.request_documents(provider, officer, "请补充演出许可证")
        if status == ProviderStatus.BLACKLISTED:
            ops.blacklist(provider, officer, "伪造材料")
        session.commit()  # kept when a failing request rolls its own work back
        assert provider.status == status
        return provider

    return make


def form(category=None, **overrides):
    data = {"name": "京西民乐团", "credit_code": new_code(), "kind": "social_organisation",
            "legal_representative": "王五", "contact_name": "赵六", "contact_phone": "010-69243000",
            "address": "大兴区兴政街1号", "introduction": "民乐演出", "certificate": (io.BytesIO(PDF), "登记证书.pdf"),
            "category_ids": [category.id] if category else []}
    data.update(overrides)
    return data


def visitor_form(category=None, **overrides):
    return form(category, **{"login": "minyue@example.org", "password": PASSWORD, "confirm": PASSWORD,
                             **overrides})


def post_register(client, data):
    return client.post("/providers/register", data=data, content_type="multipart/form-data")


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


# --- registration ----------------------------------------------------------------------------------

def test_a_visitor_registers_an_organisation_and_an_account_at_once(client, session, category, officer):
    data = visitor_form(category, qualifications=[(io.BytesIO(PDF + b"q1"), "演出许可.pdf"),
                                                  (io.BytesIO(PDF + b"q2"), "获奖证书.pdf")])
    resp = post_register(client, data)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/providers/me")
    provider = session.scalar(select(Provider).where(Provider.name == "京西民乐团"))
    user = session.get(User, provider.user_id)
    assert user.login == "minyue@example.org" and user.roles == {Role.PROVIDER}
    assert provider.status == ProviderStatus.PENDING and provider.submitted_at is not None
    assert provider.category_ids == [category.id] and provider.contact_phone == "010-69243000"
    docs = session.scalars(select(ProviderDocument).where(ProviderDocument.provider_id == provider.id)).all()
    assert sorted((d.kind.value, d.file.original_name) for d in docs) == [
        ("qualification", "演出许可.pdf"), ("qualification", "获奖证书.pdf"), ("registration", "登记证书.pdf")]
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "provider.register",
                                                   AuditEvent.object_id == str(provider.id)))
    assert session.scalar(select(Notification.subject).where(Notification.user_id == officer.id)) == \
        "有新的承接主体登记待审核"
    # The new account is logged in and sees its status.
    page = html_text(client.get("/providers/me"))
    assert "京西民乐团" in page and "等待审核" in page and "登记证书.pdf" in page


def test_a_logged_in_resident_registers_with_the_account_they_have(client, session, login, make_user, category):
    resident = login(make_user("resident"))
    page = html_text(client.get("/providers/register"))
    assert "登录名" not in page
    resp = post_register(client, form(category))
    assert resp.status_code == 302
    session.refresh(resident)
    assert resident.roles == {Role.RESIDENT, Role.PROVIDER}
    assert ops.provider_of(resident).name == "京西民乐团"
    # Registered once; the form now leads to the profile.
    assert client.get("/providers/register").headers["Location"].endswith("/providers/me")


def test_officers_and_admins_cannot_register_a_provider(client, login, make_user, session, category):
    login(make_user("officer"))
    assert "不能登记承接主体" in html_text(client.get("/providers/register"))
    resp = post_register(client, form(category))
    assert resp.status_code == 409 and "不能登记承接主体" in html_text(resp)
    assert count(session, Provider) == 0


@pytest.mark.parametrize(("code", "message"), [
    ("5211011", "应为 18 位，此代码为 7 位"),
    ("52110115MA01JN5T3X", "第 18 位校验码不符"),
    ("52110115MA01JN5I3W", "第 16 位的字符 I 不允许"),
    ("B2110115MA01JN5T3W", "第 1 位（B）不是有效的登记管理部门代码"),
    ("57110115MA01JN5T3W", "第 2 位（7）不是登记管理部门 5 下的机构类别代码"),
    ("5211X115MA01JN5T3W", "应为 6 位行政区划代码"),
    ("52110115MA01JN5T4W", "组织机构代码（MA01JN5T4）校验码不正确"),
])
def test_each_credit_code_rule_is_named_and_nothing_is_kept(client, session, category, code, message):
    users, files = count(session, User), count(session, StoredFile)
    resp = post_register(client, visitor_form(category, credit_code=code))
    assert resp.status_code == 422
    assert message in html_text(resp)
    assert count(session, Provider) == 0 and count(session, User) == users and count(session, StoredFile) == files


def test_a_registered_code_cannot_be_registered_again(client, session, category, make_provider):
    existing = make_provider()
    resp = post_register(client, visitor_form(category, credit_code=existing.credit_code.lower()))
    assert resp.status_code == 422 and "该统一社会信用代码已被登记" in html_text(resp)
    assert count(session, Provider) == 1
    with pytest.raises(Invalid) as info:
        ops.clean_credit_code(" " + existing.credit_code[:9] + " " + existing.credit_code[9:])
    assert info.value.field == "credit_code"


def test_a_certificate_that_is_not_a_pdf_is_refused(client, session, category):
    data = visitor_form(category, certificate=(io.BytesIO(b"<html>fake</html>"), "licence.pdf"))
    resp = post_register(client, data)
    assert resp.status_code == 415 and "按文件内容检查" in html_text(resp)  # Unsupported Media Type
    assert count(session, Provider) == 0 and count(session, StoredFile) == 0


def test_registration_needs_a_certificate_a_category_and_a_phone(client, session, category):
    data = visitor_form(category, contact_phone="12345", category_ids=[])
    data.pop("certificate")
    resp = post_register(client, data)
    text = html_text(resp)
    assert resp.status_code == 422
    assert "请上传登记证书或营业执照" in text and "请至少选择一个服务类别" in text
    assert count(session, Provider) == 0
    resp = post_register(client, visitor_form(category, contact_phone="12345"))
    assert resp.status_code == 422 and "请填写 11 位大陆手机号" in html_text(resp)


def test_a_taken_login_is_named(client, session, category, make_user):
    taken = make_user("resident")
    resp = post_register(client, visitor_form(category, login=taken.login))
    assert resp.status_code == 422 and "已被注册" in html_text(resp)
    assert count(session, Provider) == 0


# --- review -----------------------------------------------------------------------------------------------

def test_the_queue_lists_pending_providers_oldest_first(client, login, officer, make_provider):
    with time_machine.travel(dt.datetime(2026, 3, 1, 2, tzinfo=dt.UTC)):
        first = make_provider(name="先到艺术团")
    with time_machine.travel(dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC)):
        second = make_provider(name="后到艺术团")
    make_provider("approved", name="已通过艺术团")
    login(officer)
    text = html_text(client.get("/providers/review"))
    assert text.index(first.name) < text.index(second.name) and "已通过艺术团" not in text
    assert "已通过艺术团" in html_text(client.get("/providers/review?status=approved"))
    assert first.name in html_text(client.get(f"/providers/review?status=all&q={first.credit_code[:10]}"))


def test_the_queue_is_paginated_and_loads_in_a_fixed_number_of_queries(client, login, officer, make_provider):
    login(officer)

    def queries_for(url):
        seen = []

        def count_query(*_args):
            seen.append(1)

        event.listen(Engine, "before_cursor_execute", count_query)
        try:
            resp = client.get(url)
        finally:
            event.remove(Engine, "before_cursor_execute", count_query)
        assert resp.status_code == 200
        return resp, len(seen)

    for _ in range(3):
        make_provider()
    _resp, few = queries_for("/providers/review")
    for _ in range(20):
        make_provider()
    resp, many = queries_for("/providers/review")
    assert many == few
    assert html_text(resp).count("测试团") == 20
    assert html_text(client.get("/providers/review?page=2")).count("测试团") == 3


def test_an_officer_approves_and_the_provider_is_told(client, session, login, officer, make_provider):
    provider = make_provider()
    login(officer)
    page = html_text(client.get(f"/providers/{provider.id}"))
    assert "信用代码显示：登记管理部门为民政" in page and "登记证书.pdf" in page
    resp = client.post(f"/providers/{provider.id}/approve", data={"approve-note": "材料齐全"})
    assert resp.status_code == 302
    session.refresh(provider)
    assert provider.status == ProviderStatus.APPROVED and provider.approved_at and provider.reviewed_by_id == officer.id
    assert provider.bidding_refusal() is None
    note = session.scalar(select(Notification).where(Notification.user_id == provider.user_id)
                          .order_by(Notification.id.desc()))
    assert note.subject == "您的承接主体登记已审核通过" and note.link == "/providers/me"
    audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "provider.approve"))
    assert audit.actor_id == officer.id
    assert (audit.summary["before"], audit.summary["after"]) == ("pending", "approved")


def test_a_rejection_needs_a_reason_which_the_provider_reads(client, session, login, officer, make_provider):
    provider = make_provider()
    login(officer)
    resp = client.post(f"/providers/{provider.id}/reject", data={"reject-reason": "  "})
    assert resp.status_code == 422
    session.refresh(provider)
    assert provider.status == ProviderStatus.PENDING
    resp = client.post(f"/providers/{provider.id}/reject", data={"reject-reason": "登记证书已过期"})
    assert resp.status_code == 302
    session.refresh(provider)
    assert provider.status == ProviderStatus.REJECTED and provider.status_reason == "登记证书已过期"
    client.post("/logout")
    login(session.get(User, provider.user_id))
    page = html_text(client.get("/providers/me"))
    assert "您的申请已被驳回" in page and "登记证书已过期" in page


def test_more_documents_then_resubmission(client, session, login, officer, make_provider):
    provider = make_provider()
    login(officer)
    resp = client.post(f"/providers/{provider.id}/request-documents", data={"docs-reason": "请补充演出许可证"})
    assert resp.status_code == 302
    client.post("/logout")
    owner = login(session.get(User, provider.user_id))
    page = html_text(client.get("/providers/me"))
    assert "审核部门要求补充材料" in page and "请补充演出许可证" in page
    # Resubmitting without adding a document is refused, and the refusal is on record.
    resp = client.post("/providers/me/resubmit", data={"note": "已补充"})
    assert resp.status_code == 409 and "请先上传审核部门要求补充的材料" in html_text(resp)
    session.refresh(provider)
    assert provider.status == ProviderStatus.NEEDS_DOCUMENTS
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "refused.provider.resubmit"))
    resp = client.post("/providers/me/documents", data={"kind": "qualification",
                                                        "file": (io.BytesIO(PDF + b"licence"), "演出许可证.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    submitted_before = provider.submitted_at
    resp = client.post("/providers/me/resubmit", data={"note": "已补充演出许可证"})
    assert resp.status_code == 302
    session.refresh(provider)
    assert provider.status == ProviderStatus.PENDING and provider.submitted_at > submitted_before
    steps = session.scalars(select(ProviderEvent.action).where(ProviderEvent.provider_id == provider.id)
                            .order_by(ProviderEvent.id)).all()
    assert steps == [ProviderAction.REGISTER, ProviderAction.REQUEST_DOCUMENTS, ProviderAction.ADD_DOCUMENT,
                     ProviderAction.RESUBMIT]
    assert owner.id == provider.user_id


def test_a_rejected_provider_may_correct_and_resubmit(session, make_provider):
    provider = make_provider("rejected")
    user = session.get(User, provider.user_id)
    ops.update_details(provider, user, name="更正后的名称", credit_code=new_code())
    ops.resubmit(provider, user)
    assert provider.status == ProviderStatus.PENDING and provider.name == "更正后的名称"


def test_a_document_that_is_not_what_it_claims_is_refused_on_the_profile(client, session, login, make_provider):
    provider = make_provider("needs_documents")
    login(session.get(User, provider.user_id))
    resp = client.post("/providers/me/documents", data={"kind": "other", "file": (io.BytesIO(b"MZ\x90"), "a.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 415 and "按文件内容检查" in html_text(resp)
    assert session.scalar(select(func.count()).where(ProviderDocument.provider_id == provider.id)) == 1


def test_suspension_with_a_last_day_and_lifting(client, session, login, officer, make_provider):
    with time_machine.travel(dt.datetime(2026, 3, 1, 4, tzinfo=dt.UTC), tick=False):
        provider = make_provider("approved")
        login(officer)
        resp = client.post(f"/providers/{provider.id}/suspend",
                           data={"suspend-reason": "两次无故缺席", "suspend-last_day": "2026-02-28"})
        assert resp.status_code == 422 and "暂停截止日必须晚于今天" in html_text(resp)
        resp = client.post(f"/providers/{provider.id}/suspend",
                           data={"suspend-reason": "两次无故缺席", "suspend-last_day": "2026-03-31"})
        assert resp.status_code == 302
        session.refresh(provider)
        assert provider.status == ProviderStatus.SUSPENDED
        assert provider.suspended_until == dt.datetime(2026, 3, 31, 16, tzinfo=dt.UTC)  # midnight in Beijing
        refusal = str(provider.bidding_refusal())
        assert "2026-03-31" in refusal and "两次无故缺席" in refusal
        note = session.scalar(select(Notification).where(Notification.user_id == provider.user_id)
                              .order_by(Notification.id.desc()))
        assert note.subject == "贵机构已被暂停参与投标" and "2026-03-31（含当日）" in note.body
        page = html_text(client.get(f"/providers/{provider.id}"))
        assert "至 2026-03-31" in page and "2026-04-01" not in page
        resp = client.post(f"/providers/{provider.id}/lift", data={"lift-reason": "已整改"})
        assert resp.status_code == 302
        session.refresh(provider)
        assert provider.status == ProviderStatus.APPROVED and provider.suspended_until is None


def test_a_blacklisting_is_lifted_to_where_the_provider_stood(session, officer, make_provider):
    was_approved = make_provider("approved")
    ops.blacklist(was_approved, officer, "串通投标")
    assert was_approved.bidding_refusal() is not None
    with pytest.raises(Refused):
        ops.add_document(was_approved, pdf_upload(data=PDF + b"x"), "other", session.get(User, was_approved.user_id))
    ops.lift(was_approved, officer, "复核后撤销")
    assert was_approved.status == ProviderStatus.APPROVED
    never_approved = make_provider("pending")
    ops.blacklist(never_approved, officer, "伪造材料")
    ops.lift(never_approved, officer, "误判")
    assert never_approved.status == ProviderStatus.PENDING  # back to review, not straight to approved


def _run(action, provider, officer, session):
    if action == ProviderAction.RESUBMIT:
        return ops.resubmit(provider, session.get(User, provider.user_id))
    if action == ProviderAction.SUSPEND:
        return ops.suspend(provider, ops.utcnow() + dt.timedelta(days=10), "理由", officer)
    if action == ProviderAction.APPROVE:
        return ops.approve(provider, officer)
    return ops.DECISIONS[action](provider, officer, "理由")


ILLEGAL = [(status, action) for action in (*OFFICER_ACTIONS, ProviderAction.RESUBMIT)
           for status in ProviderStatus if status not in TRANSITIONS[action][0]]
LEGAL = [(status, action) for action in (*OFFICER_ACTIONS, ProviderAction.RESUBMIT)
         for status in ProviderStatus if status in TRANSITIONS[action][0]]


@pytest.mark.parametrize(("status", "action"), ILLEGAL, ids=[f"{s.value}-{a.value}" for s, a in ILLEGAL])
def test_illegal_transitions_raise_and_change_nothing(session, officer, make_provider, status, action):
    provider = make_provider(status)
    events = count(session, ProviderEvent)
    with pytest.raises(Refused) as info:
        _run(action, provider, officer, session)
    assert info.value.audit_action == f"provider.{action.value}"
    assert provider.status == status and count(session, ProviderEvent) == events


@pytest.mark.parametrize(("status", "action"), LEGAL, ids=[f"{s.value}-{a.value}" for s, a in LEGAL])
def test_legal_transitions_reach_their_state(session, officer, make_provider, status, action):
    provider = make_provider(status)
    if action == ProviderAction.RESUBMIT and status == ProviderStatus.NEEDS_DOCUMENTS:
        ops.add_document(provider, pdf_upload(data=PDF + b"more"), "other", session.get(User, provider.user_id))
    _run(action, provider, officer, session)
    target = TRANSITIONS[action][1]
    if (status, action) == (ProviderStatus.BLACKLISTED, ProviderAction.LIFT):
        target = ProviderStatus.PENDING  # blacklisted before it was ever approved: back to review
    assert provider.status == target
    last = session.scalar(select(ProviderEvent).where(ProviderEvent.provider_id == provider.id)
                          .order_by(ProviderEvent.id.desc()))
    assert (last.action, last.from_status, last.to_status) == (action, status, target)


def test_a_refused_decision_on_the_page_is_audited_and_changes_nothing(client, session, login, officer,
                                                                        make_provider):
    provider = make_provider("approved")
    login(officer)
    resp = client.post(f"/providers/{provider.id}/reject", data={"reject-reason": "晚了"})
    assert resp.status_code == 409 and "不能进行“驳回”" in html_text(resp)
    session.refresh(provider)
    assert provider.status == ProviderStatus.APPROVED
    refused = session.scalar(select(AuditEvent).where(AuditEvent.action == "refused.provider.reject"))
    assert refused.object_id == str(provider.id) and refused.actor_id == officer.id


def test_town_officers_see_providers_but_do_not_decide(client, session, login, make_user, town, make_provider):
    provider = make_provider()
    login(make_user("officer", jurisdiction=town))
    page = html_text(client.get(f"/providers/{provider.id}"))
    assert "审核决定由区级工作人员作出" in page
    resp = client.post(f"/providers/{provider.id}/approve", data={})
    assert resp.status_code == 403
    session.refresh(provider)
    assert provider.status == ProviderStatus.PENDING
    with pytest.raises(Forbidden):
        ops.approve(provider, None)


# --- eligibility to bid ---------------------------------------------------------------------------------

REFUSAL_TEXT = {
    ProviderStatus.PENDING: "只有审核通过的承接主体才能投标（当前状态：待审核）",
    ProviderStatus.NEEDS_DOCUMENTS: "（当前状态：需补充材料）",
    ProviderStatus.REJECTED: "（当前状态：未通过）",
    ProviderStatus.SUSPENDED: "：两场演出缺席",
    ProviderStatus.BLACKLISTED: "已列入黑名单：伪造材料",
}


@pytest.mark.parametrize("status", list(ProviderStatus))
def test_only_approved_providers_may_bid_and_others_are_told_why(app, make_provider, status):
    provider = make_provider(status)
    refusal = provider.bidding_refusal()
    if status == ProviderStatus.APPROVED:
        assert refusal is None
    else:
        assert refusal is not None and REFUSAL_TEXT[status] in str(refusal), str(refusal)


def test_a_suspension_ends_by_itself_at_its_end(session, officer, make_provider):
    with time_machine.travel(dt.datetime(2026, 5, 1, 1, tzinfo=dt.UTC), tick=False):
        provider = make_provider("approved")
        ops.suspend(provider, local_end_of(dt.date(2026, 5, 31)), "评级为D", None)  # by the rules, no officer
        assert provider.reviewed_by_id is None
    last_minute = dt.datetime(2026, 5, 31, 23, 59, tzinfo=LOCAL_TZ)
    with time_machine.travel(last_minute, tick=False):
        assert "2026-05-31" in str(provider.bidding_refusal())
        assert provider.effective_status() == ProviderStatus.SUSPENDED
    with time_machine.travel(dt.datetime(2026, 6, 1, 0, 0, 1, tzinfo=LOCAL_TZ), tick=False):
        assert provider.bidding_refusal() is None
        assert provider.effective_status() == ProviderStatus.APPROVED
        assert ProviderAction.SUSPEND in provider.allowed_actions()
        assert ProviderAction.LIFT not in provider.allowed_actions()
        with pytest.raises(Refused):
            ops.lift(provider, officer, "没有可解除的")


# --- details ------------------------------------------------------------------------------------------------

def test_a_pending_provider_edits_everything(client, session, login, make_provider, category):
    provider = make_provider()
    login(session.get(User, provider.user_id))
    code = new_code("91")
    data = form(category, name="新名称艺术团", credit_code=code, kind="enterprise", contact_phone="13800001111")
    data.pop("certificate")
    resp = client.post("/providers/me/edit", data=data)
    assert resp.status_code == 302
    session.refresh(provider)
    assert (provider.name, provider.credit_code, provider.kind) == ("新名称艺术团", code, ProviderKind.ENTERPRISE)
    changes = session.scalar(select(AuditEvent).where(AuditEvent.action == "provider.update")).summary["changes"]
    assert changes["credit_code"]["after"] == code


def test_an_approved_provider_keeps_its_identity(client, session, login, make_provider, category):
    provider = make_provider("approved")
    owner = login(session.get(User, provider.user_id))
    page = html_text(client.get("/providers/me/edit"))
    assert "机构登记名称" not in page and "不能自行修改" in page
    resp = client.post("/providers/me/edit", data={"name": "改名", "contact_name": "新联系人",
                                                   "contact_phone": "13800002222", "category_ids": [category.id]})
    assert resp.status_code == 302
    session.refresh(provider)
    assert provider.contact_name == "新联系人" and provider.name != "改名"
    with pytest.raises(Refused) as info:
        ops.update_details(provider, owner, name="改名")
    assert info.value.field == "name"


# --- documents ----------------------------------------------------------------------------------------------

@pytest.fixture
def document(session, make_provider):
    provider = make_provider()
    return session.scalar(select(ProviderDocument).where(ProviderDocument.provider_id == provider.id))


def test_the_owner_downloads_its_document_as_an_attachment(client, session, login, document):
    provider = session.get(Provider, document.provider_id)
    login(session.get(User, provider.user_id))
    resp = client.get(f"/providers/documents/{document.id}")
    assert resp.status_code == 200 and resp.data == PDF
    assert resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E7%99%BB%E8%AE%B0%E8%AF%81%E4%B9%A6.pdf" in resp.headers["Content-Disposition"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in resp.headers["Cache-Control"]


@pytest.mark.parametrize(("role", "status"), [
    ("other_provider", 403), ("officer", 200), ("town_officer", 200), ("admin", 403), ("resident", 403),
    ("expert", 403)])
def test_documents_are_served_only_to_their_owner_and_officers(client, login, make_user, make_provider, town,
                                                                document, role, status):
    if role == "other_provider":
        reader = make_provider().user
    elif role == "town_officer":
        reader = make_user("officer", jurisdiction=town)
    else:
        reader = make_user(role)
    login(reader)
    assert client.get(f"/providers/documents/{document.id}").status_code == status


def test_anonymous_visitors_are_sent_to_log_in_for_a_document(client, document):
    resp = client.get(f"/providers/documents/{document.id}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


# --- API ------------------------------------------------------------------------------------------------------

def test_the_provider_reads_its_own_record_by_api(client, session, token_for, make_provider):
    provider = make_provider("suspended")
    headers = token_for(session.get(User, provider.user_id))
    body = client.get("/api/v1/providers/me", headers=headers).get_json()
    assert body["credit_code"] == provider.credit_code and body["status"] == "suspended"
    assert body["may_bid"] is False and "两场演出缺席" in body["bidding_refusal"]
    assert body["documents"][0]["sha256"] == provider_document_sha(session, provider)


def provider_document_sha(session, provider):
    doc = session.scalar(select(ProviderDocument).where(ProviderDocument.provider_id == provider.id))
    return doc.file.sha256


def test_the_provider_api_needs_an_organisation(client, make_user, token_for):
    headers = token_for(make_user("provider"))
    resp = client.get("/api/v1/providers/me", headers=headers)
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    officer_headers = token_for(make_user("officer"))
    assert client.get("/api/v1/providers/me", headers=officer_headers).status_code == 403


# --- two officers at once ----------------------------------------------------------------------------------

@pytest.mark.concurrency
def test_two_officers_deciding_at_once_make_one_decision(app, session, make_user):
    import threading

    from core import audit
    from core.db import db, intends_to_write

    officers = [make_user("officer").id, make_user("officer").id]
    owner = make_user("provider")
    provider = ops.register(owner, certificate=pdf_upload(data=PDF + b"race"), name="抢答艺术团",
                            credit_code=new_code(), kind=ProviderKind.SOCIAL_ORGANISATION,
                            legal_representative="甲", contact_name="乙", contact_phone="13912345678",
                            category_ids=[])
    session.commit()
    provider_id = provider.id
    barrier = threading.Barrier(2)
    results = {}
    decisions = {"approve": lambda p, o: ops.approve(p, o), "reject": lambda p, o: ops.reject(p, o, "不符合条件")}

    def decide(name, officer_id):
        barrier.wait()
        with app.app_context(), intends_to_write():
            try:
                decisions[name](db.session.get(Provider, provider_id), db.session.get(User, officer_id))
                db.session.commit()
                results[name] = "done"
            except Refused:
                db.session.rollback()
                results[name] = "refused"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=decide, args=(name, officer_id))
               for name, officer_id in zip(decisions, officers, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == ["done", "refused"], results
    winner = next(name for name, result in results.items() if result == "done")
    session.rollback()  # end the test's own read transaction, to see what the threads committed
    final = session.get(Provider, provider_id)
    assert final.status == {"approve": ProviderStatus.APPROVED, "reject": ProviderStatus.REJECTED}[winner]
    steps = session.scalars(select(ProviderEvent.action).where(ProviderEvent.provider_id == provider_id)
                            .order_by(ProviderEvent.id)).all()
    assert steps == [ProviderAction.REGISTER, ProviderAction(winner)]
    assert audit.verify() > 0
