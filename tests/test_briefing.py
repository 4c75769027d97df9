"""The monthly briefing (简报): its months, its command, and its PDF read back as text and
rendered to images — on the hand-worked district of tests/support/figures.py and on the demo data."""

from __future__ import annotations

import datetime as dt
import io
import subprocess  # nosec B404 (poppler's tools on our own files)
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from core.db import utcnow
from core.i18n import LOCAL_TZ
from evaluation.reporting import briefing, figures
from marketplace.awards.models import Award, AwardStatus
from marketplace.projects.models import PurchaseProject

PDFTOTEXT = "/usr/bin/pdftotext"  # poppler-utils, installed by tools/system-deps.sh
PDFTOPPM = "/usr/bin/pdftoppm"


def pages_text(pdf: bytes, tmp_path) -> list[str]:
    path = tmp_path / "briefing.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", "-layout", str(path), "-"],  # noqa: S603
                         capture_output=True, check=True, text=True).stdout
    return out.split("\f")[:-1] if out.endswith("\f") else out.split("\f")


def squeeze(text: str) -> str:
    return "".join(text.split())


# --- months ------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["", "2025", "2025-3", "2025-13", "2025-00", "25-03", "2025/03", "2025-03-01",
                                 "1999-12", "三月"])
def test_a_malformed_month_is_refused(app, bad):
    with pytest.raises(briefing.BadMonth, match="YYYY-MM"):
        briefing.parse_month(bad)


def test_a_month_still_to_come_is_refused_and_the_current_one_is_not(app):
    now = dt.datetime(2026, 1, 31, 17, tzinfo=dt.UTC)  # already 1 February in Shanghai
    assert briefing.parse_month("2026-02", now) == (2026, 2)
    assert briefing.parse_month(" 2025-12 ", now) == (2025, 12)
    with pytest.raises(briefing.BadMonth, match="2026-03"):
        briefing.parse_month("2026-03", now)
    with pytest.raises(briefing.BadMonth):
        briefing.briefing_pdf("2099-01")


def test_the_command_refuses_a_bad_month_and_writes_nothing(app, tmp_path):
    runner = app.test_cli_runner()
    local = utcnow().astimezone(LOCAL_TZ)
    future = f"{local.year + 1}-01"
    for month in ("2025-13", future, "next"):
        out = tmp_path / "b.pdf"
        result = runner.invoke(args=["reports", "briefing", "--month", month, "--output", str(out)])
        assert result.exit_code == 2, result.output
        assert "--month" in result.output and not out.exists()


def test_the_command_writes_the_briefing(app, figures_world, tmp_path):
    out = tmp_path / "简报.pdf"
    result = app.test_cli_runner().invoke(args=["reports", "briefing", "--month", "2025-03", "--output", str(out)])
    assert result.exit_code == 0, result.output
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert f"{len(PdfReader(io.BytesIO(pdf)).pages)} pages" in result.output


# --- the hand-worked district ------------------------------------------------------------------

def test_the_briefing_of_march_reads_back(figures_world, tmp_path):
    steps = []
    pdf = briefing.briefing_pdf("2025-03", progress=lambda fraction, label: steps.append((fraction, label)))
    fractions = [f for f, _label in steps]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(label for _f, label in steps)

    pages = pages_text(pdf, tmp_path)
    assert len(pages) == len(PdfReader(io.BytesIO(pdf)).pages)
    whole = squeeze("\n".join(pages))
    assert "公共文化服务月度简报" in pages[0] and "2025-03·全区" in squeeze(pages[0])
    for i, page in enumerate(pages, start=1):
        assert f"第{i}页/共{len(pages)}页" in squeeze(page)
    f = briefing.briefing_figures("2025-03")
    # The figures of tests/test_figures.py, as the document prints them.
    assert (f.sessions_delivered, f.attendance, f.satisfaction) == (4, 85, Decimal("4.00"))
    assert "已开展场次4" in whole and "实际人数85" in whole and "满意度4.00/5" in whole
    assert "¥2,700.00" in whole and "预算¥3,000.00" in whole
    # Coverage per town/street with the gap community, and the month's awards and adjustment.
    assert "乙镇" in whole and "四号村" in whole and "二号社区" not in whole.split("空白村/社区")[-1]
    assert "甲镇社区戏曲进基层" in whole and "乙镇广场舞培训" in whole and figures_world.provider.name in whole
    assert "乙镇读书会" not in whole  # its award is void
    assert "五、本月动态调整" in whole and squeeze(figures_world.provider.name) in whole
    assert "连续两次评定为C级（得分72和70）" in whole  # the rule's explanation, in Chinese


def test_a_month_without_activity_still_makes_a_briefing(figures_world, tmp_path):
    pages = pages_text(briefing.briefing_pdf("2024-06"), tmp_path)
    whole = squeeze("\n".join(pages))
    assert "本月没有公布中标结果。" in whole and "本月没有提出或决定动态调整。" in whole
    assert "四号村" in whole  # every community is a gap then


# --- the demo data -----------------------------------------------------------------------------

def test_the_demo_briefing_reads_back_and_renders_to_images(session, tmp_path):
    from seeds import demo as seed

    seed.run_demo(lambda *_a: None)
    now = utcnow()
    local = now.astimezone(LOCAL_TZ)
    month = f"{local.year:04d}-{local.month:02d}"
    pdf = briefing.briefing_pdf(month)
    pages = pages_text(pdf, tmp_path)
    count = len(PdfReader(io.BytesIO(pdf)).pages)
    assert len(pages) == count >= 3
    whole = squeeze("\n".join(pages))
    assert "公共文化服务月度简报" in whole and f"月度简报{month}" in whole

    f = figures.compute(figures.month_period(local.year, local.month), None, now=now)
    # Every town/street has its coverage row; the gap communities are named.
    for t in f.coverage.towns:
        assert squeeze(t.name) in whole
        for name in t.gaps:
            assert squeeze(name) in whole
    # The month's live awards are listed.
    titles = session.scalars(select(PurchaseProject.title).join(Award, Award.project_id == PurchaseProject.id).where(
        Award.status != AwardStatus.VOID, Award.published_at >= f.period.start,
        Award.published_at < f.period.end)).all()
    for title in titles:
        assert squeeze(title) in whole
    # A long table repeats its header on the page it runs onto.
    last_town = squeeze(f.coverage.towns[-1].name)
    page = next(squeeze(p) for p in pages if last_town in squeeze(p) and "空白点" in squeeze(p))
    assert "镇/街道" in page and "空白村/社区" in page

    # Every page renders to an image.
    (tmp_path / "briefing.pdf").write_bytes(pdf)
    subprocess.run([PDFTOPPM, "-r", "40", "-png", str(tmp_path / "briefing.pdf"), str(tmp_path / "page")],  # noqa: S603
                   check=True, capture_output=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == count
    for image in images:
        data = image.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 2000
