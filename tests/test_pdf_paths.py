"""One PDF path: every document the app makes (review report, award notice, contract, rating poster,
provider report, monthly briefing) goes through core.pdf.create_pdf with a template extending
pdf/base.html, so each gets the guarded URL fetcher, the CJK font and repeated table headers.
(The fetcher and the headers themselves are tested in tests/test_pdf.py.)"""

from __future__ import annotations

import io
import re
from pathlib import Path

from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("core", "catalog", "marketplace", "evaluation")
CALL = re.compile(r"\b(?:create_pdf|render_pdf_response)\(\s*\"([^\"]+\.html)\"")
# The documents of DESIGN.md §11 and where their templates are.
DOCUMENTS = {
    "evaluation/review/report_pdf.html",               # review report
    "marketplace/awards/notice_pdf.html",        # award notice
    "marketplace/contracts/contract_pdf.html",   # contract
    "evaluation/feedback/poster.html",           # rating poster
    "evaluation/reporting/provider_report_pdf.html",       # provider report
}


def _sources():
    for module in MODULES:
        yield from (ROOT / module).rglob("*.py")
    yield ROOT / "app.py"


def test_only_core_pdf_touches_weasyprint():
    offenders = [str(p.relative_to(ROOT)) for p in _sources()
                 if p != ROOT / "core" / "pdf.py" and re.search(r"\bweasyprint\b", p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_every_document_template_extends_the_pdf_base():
    used = {}
    for path in _sources():
        if path == ROOT / "core" / "pdf.py":
            continue  # its docstring's example
        for name in CALL.findall(path.read_text(encoding="utf-8")):
            used[name] = str(path.relative_to(ROOT))
    assert set(used) >= DOCUMENTS, sorted(DOCUMENTS - set(used))
    for name in used:
        first = (ROOT / "templates" / name).read_text(encoding="utf-8").lstrip().splitlines()[0]
        assert first == '{% extends "pdf/base.html" %}', (name, used[name])


def test_the_briefing_goes_through_create_pdf_too():
    briefing = ROOT / "evaluation" / "reporting" / "briefing.py"
    if not briefing.exists():
        # Not merged yet: its job kind only calls evaluation.briefing.briefing_pdf (report_views).
        source = (ROOT / "evaluation" / "reporting" / "views.py").read_text(encoding="utf-8")
        assert "briefing.briefing_pdf" in source
        return
    source = briefing.read_text(encoding="utf-8")
    assert "create_pdf" in source and "weasyprint" not in source


def test_provider_report_tables_repeat_their_header_on_every_page(app, session, make_user):
    """36 months of rows: both month tables run over pages, and each page repeats the header row."""
    from evaluation.reporting import provider_report
    from marketplace.providers.models import Provider, ProviderKind, ProviderStatus

    user = make_user("provider")
    p = Provider(user_id=user.id, name="长表测试艺术团", credit_code="52110115MK0009999X", legal_representative="张三",
                 kind=ProviderKind.SOCIAL_ORGANISATION, contact_name="李四", contact_phone="13800000000",
                 status=ProviderStatus.APPROVED)
    session.add(p)
    session.flush()
    _name, mimetype, data = provider_report.render({"provider_id": p.id, "from": "2023-01-01", "to": "2025-12-31"})
    assert mimetype == "application/pdf"
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    # A table row: the month, then its count (every count is 0 here).
    with_rows = [t for t in pages if re.search(r"20\d\d-\d\d 0 ", t)]
    assert len(with_rows) >= 3
    for text in with_rows:
        assert "月份" in text, text[:300]
    assert "2023-01" in pages[0] + pages[1] and "2025-12" in "".join(pages)
