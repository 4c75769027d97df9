"""Demo providers: 京南艺术团 (the demo provider login) and a few others in every review state,
each with its own account and a registration certificate. Idempotent."""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image, ImageDraw
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from core import uscc
from core.accounts import operations as accounts
from core.accounts.models import Role, User
from core.db import db, utcnow
from marketplace.providers import operations as ops
from marketplace.providers.models import Provider, ProviderKind, ProviderStatus
from marketplace.providers.operations import top_categories
from seeds.district import DEMO_PASSWORD

DIVISION = "110115"  # 大兴区
# (login, name, authority+type, organisation code body, kind, legal representative, contact, phone, state, note)
DEMO_PROVIDERS = [
    ("provider@huimin.demo", "京南艺术团", "52", "MA01JN5T", ProviderKind.SOCIAL_ORGANISATION, "赵京南", "钱晓燕",
     "13910000001", ProviderStatus.APPROVED, ""),
    ("xinghuo@huimin.demo", "大兴区星火曲艺社", "51", "MA01XH2Q", ProviderKind.SOCIAL_ORGANISATION, "孙建国", "孙建国",
     "13910000002", ProviderStatus.APPROVED, ""),
    ("qinghe@huimin.demo", "北京青禾文化传播有限公司", "91", "MA01QH8K", ProviderKind.ENTERPRISE, "李青禾", "周敏",
     "010-69241234", ProviderStatus.APPROVED, ""),
    ("shaoniangong@huimin.demo", "大兴区青少年活动中心", "12", "40088317", ProviderKind.PUBLIC_INSTITUTION, "吴立新",
     "郑红", "010-69258866", ProviderStatus.APPROVED, ""),
    ("yuedu@huimin.demo", "北京悦读公益服务中心", "52", "MA01YD3M", ProviderKind.SOCIAL_ORGANISATION, "王书香", "冯佳",
     "13910000005", ProviderStatus.APPROVED, ""),
    ("moxiang@huimin.demo", "北京墨香书画院", "52", "MA01MX6P", ProviderKind.SOCIAL_ORGANISATION, "陈墨", "陈墨",
     "13910000006", ProviderStatus.PENDING, ""),
    ("leling@huimin.demo", "北京乐龄健康文化有限公司", "91", "MA01LL4R", ProviderKind.ENTERPRISE, "褚乐龄", "卫芳",
     "13910000007", ProviderStatus.PENDING, ""),
    ("tongmeng@huimin.demo", "大兴区童梦剧社", "51", "MA01TM7W", ProviderKind.SOCIAL_ORGANISATION, "蒋童", "沈梦",
     "13910000008", ProviderStatus.NEEDS_DOCUMENTS,
     "请补充上传演出资质证明及近两年的服务案例。"),
    ("guyun@huimin.demo", "北京鼓韵文化艺术有限公司", "91", "MA01GY9C", ProviderKind.ENTERPRISE, "韩鼓", "杨韵",
     "13910000009", ProviderStatus.SUSPENDED,
     "2026年两场约定演出未到场且未提前告知，暂停参与采购。"),
]


def demo_code(prefix: str, body: str) -> str:
    return uscc.complete(prefix[0], prefix[1], DIVISION, body)


def certificate_pdf(name: str, code: str) -> FileStorage:
    """A one-page PDF standing in for a scanned registration certificate."""
    img = Image.new("RGB", (640, 420), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle((12, 12, 628, 408), outline=(160, 30, 30), width=4)
    draw.text((40, 60), "Registration certificate (demo)", fill="black")
    draw.text((40, 120), f"Unified social credit code: {code}", fill="black")
    draw.text((40, 160), f"Provider id: {sum(name.encode())}", fill="black")
    buf = io.BytesIO()
    img.save(buf, "PDF", resolution=72)
    buf.seek(0)
    return FileStorage(stream=buf, filename="登记证书.pdf", content_type="application/pdf")


def _account(login: str, name: str) -> User:
    user = db.session.scalar(select(User).where(User.login == login))
    if user is None:
        user = accounts.create_user(login=login, name=name, password=DEMO_PASSWORD, roles=[Role.PROVIDER])
    return user


def seed_demo_providers(echo):
    officer = db.session.scalar(select(User).where(User.login == "officer@huimin.demo"))
    categories = [c.id for c in top_categories()]
    made = 0
    for i, (login, name, prefix, body, kind, legal, contact, phone, state, note) in enumerate(DEMO_PROVIDERS):
        code = demo_code(prefix, body)
        if db.session.scalar(select(Provider.id).where(Provider.credit_code == code)) is not None:
            continue
        user = _account(login, f"{name} {contact}")
        if ops.provider_of(user) is not None:
            continue
        chosen = sorted({categories[i % len(categories)], categories[(i * 3 + 1) % len(categories)]}) \
            if categories else []
        provider = ops.register(
            user, certificate=certificate_pdf(name, code), name=name, credit_code=code, kind=kind,
            legal_representative=legal, contact_name=contact, contact_phone=phone,
            address=f"北京市大兴区示范路{i + 1}号", category_ids=chosen,
            introduction=f"{name}长期在大兴区开展群众文化服务，拥有专职演职人员和志愿者团队。")
        if state in (ProviderStatus.APPROVED, ProviderStatus.SUSPENDED):
            ops.approve(provider, officer, "资料齐全，符合承接主体条件。")
        if state == ProviderStatus.NEEDS_DOCUMENTS:
            ops.request_documents(provider, officer, note)
        if state == ProviderStatus.SUSPENDED:
            until = utcnow() + dt.timedelta(days=90)
            ops.suspend(provider, until, note, officer)
        made += 1
    db.session.flush()
    echo(f"providers: {made} added ({len(DEMO_PROVIDERS)} in the demo)")
