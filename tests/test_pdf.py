"""The shared PDF path: Chinese text in the installed CJK font, page numbers, repeated table
headers, running header and footer, and a fetcher that reaches nothing but the app's static files."""

from __future__ import annotations

import io
import socket
import subprocess
import urllib.request

import pytest
from flask_babel import force_locale
from pypdf import PdfReader

from core import pdf

PDFTOTEXT = "/usr/bin/pdftotext"  # poppler-utils, installed by tools/system-deps.sh

LONG_TABLE = """{% extends 'pdf/base.html' %}
{% block title %}惠民测试简报{% endblock %}
{% block content %}
<h1>二〇二五年十月文化惠民工作简报</h1>
<p>本月全区共开展公益文化服务场次，覆盖各镇街社区。</p>
<table>
  <thead><tr><th>序号</th><th>服务项目名称</th><th class="num">金额（元）</th></tr></thead>
  <tbody>
  {% for i in range(rows) %}
  <tr><td>{{ i + 1 }}</td><td>社区戏曲进基层第{{ i + 1 }}号</td><td class="num">{{ 1000 + i }}.00</td></tr>
  {% endfor %}
  </tbody>
</table>
{% endblock %}"""


@pytest.fixture
def render(app):
    """create_pdf() of a template given as text, with only an application context (as a command has)."""

    def do(source, **context):
        with app.app_context():
            return pdf.create_pdf(app.jinja_env.from_string(source), **context)

    return do


def pages_text(data: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]


def test_chinese_text_page_numbers_and_repeated_table_header(render):
    data = render(LONG_TABLE, rows=120)
    texts = pages_text(data)
    n = len(texts)
    assert n >= 3
    assert "二〇二五年十月文化惠民工作简报" in texts[0]
    assert "社区戏曲进基层第1号" in texts[0]
    for number, text in enumerate(texts, start=1):
        flat = text.replace(" ", "")
        assert f"第{number}页/共{n}页" in flat, (number, text[-200:])
        # The table's header row comes back at the top of every page the table runs onto ...
        assert "服务项目名称" in text and "金额（元）" in text, number
        # ... and so do the running header (site name, document title) and footer.
        assert "文化惠民公共文化服务采购平台" in text and "惠民测试简报" in text and "生成于" in text
    # Page 2 starts in the middle of the table, not at its first row.
    assert "社区戏曲进基层第1号" not in texts[1]
    assert "社区戏曲进基层第120号" in texts[-1]


def test_pdftotext_reads_the_chinese_back(render, tmp_path):
    path = tmp_path / "doc.pdf"
    path.write_bytes(render(LONG_TABLE, rows=5))
    out = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(path), "-"],  # noqa: S603 (our own file)
                         capture_output=True, check=True, text=True)
    assert "二〇二五年十月文化惠民工作简报" in out.stdout
    assert "社区戏曲进基层第5号" in out.stdout


def test_text_is_set_in_wenquanyi_micro_hei_embedded_as_a_subset(render):
    reader = PdfReader(io.BytesIO(render(LONG_TABLE, rows=5)))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts.add(str(font["/BaseFont"]))
    assert fonts, "no fonts"
    assert all("WenQuanYi" in name for name in fonts), fonts
    # A subset ("ABCDEF+Name"), not the whole 5 MB font.
    assert all("+" in name for name in fonts), fonts


def test_page_numbers_follow_the_language(render, app):
    texts = pages_text(render(LONG_TABLE, rows=60, locale="en"))
    assert f"Page 1 of {len(texts)}" in texts[0]
    assert "Generated" in texts[0] and "生成于" not in texts[0]
    # Inside a request, the caller's forced language carries through as well.
    with app.test_request_context("/"), force_locale("en"):
        data = pdf.create_pdf(app.jinja_env.from_string(LONG_TABLE), rows=1)
    assert "Page 1 of 1" in pages_text(data)[0]


def test_page_size_is_a4(render):
    page = PdfReader(io.BytesIO(render(LONG_TABLE, rows=1))).pages[0]
    width_mm, height_mm = (float(v) * 25.4 / 72 for v in (page.mediabox.width, page.mediabox.height))
    assert round(width_mm) == 210 and round(height_mm) == 297


# --- what a template may reach ---------------------------------------------------------------

HOSTILE = """{% extends 'pdf/base.html' %}
{% block head %}
<link rel="attachment" href="file:///etc/passwd">
<link rel="stylesheet" href="file:///etc/passwd">
<link rel="stylesheet" href="http://example.com/evil.css">
<style>@import url("https://example.com/import.css"); body { background: url(file:///etc/hostname); }</style>
{% endblock %}
{% block content %}
<h1>正文</h1>
<img src="file:///etc/passwd" alt="">
<img src="http://example.com/pixel.png" alt="">
<img src="//example.com/protocol-relative.png" alt="">
<img src="/static/../../../../etc/passwd" alt="">
<img src="/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd" alt="">
<object data="file:///etc/passwd"></object>
<a rel="attachment" href="file:///etc/passwd">附件</a>
<svg width="10" height="10"><image href="http://example.com/in-svg.png" width="10" height="10"/></svg>
{% endblock %}"""


@pytest.fixture
def network_attempts(monkeypatch):
    """Record (and stop) every attempt to resolve a name or open a connection."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args[:2])
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def _attachments(data: bytes) -> dict:
    return PdfReader(io.BytesIO(data)).attachments


def test_weasyprint_unguarded_would_leak_local_files(app, network_attempts):
    """The threat is real: WeasyPrint's own fetcher embeds a local file and calls out."""
    import weasyprint

    with app.test_request_context():
        html = app.jinja_env.from_string(HOSTILE).render(pdf_site_name="", pdf_generated_label="")
    data = weasyprint.HTML(string=html, base_url=pdf.PDF_ORIGIN + "/").write_pdf()
    leaked = b"".join(b"".join(v) for v in _attachments(data).values())
    assert b"root:" in leaked
    assert network_attempts, "the default fetcher should have tried the network"


def test_create_pdf_fetches_neither_local_files_nor_the_network(render, monkeypatch, network_attempts):
    made = []
    real_make = pdf.make_fetcher

    def spy(*args, **kwargs):
        made.append(real_make(*args, **kwargs))
        return made[-1]

    opened = []
    monkeypatch.setattr(pdf, "make_fetcher", spy)
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", lambda self, *a, **k: opened.append(a) or 1 / 0)

    data = render(HOSTILE)

    assert data.startswith(b"%PDF") and "正文" in pages_text(data)[0]
    assert _attachments(data) == {}
    assert b"root:" not in data
    assert network_attempts == [] and opened == []
    refused = made[0].refused
    for url in ("file:///etc/passwd", "http://example.com/evil.css", "https://example.com/import.css",
                "http://example.com/pixel.png", "http://example.com/protocol-relative.png",
                "http://example.com/in-svg.png", "file:///etc/hostname"):
        assert url in refused, (url, refused)
    assert any(u.endswith("/etc/passwd") and u.startswith(pdf.PDF_ORIGIN) for u in refused), refused


def test_fetcher_serves_static_files_from_disk_and_nothing_beside(app, tmp_path):
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "a.css").write_text("p { color: red }")
    (tmp_path / "secret.txt").write_text("secret")
    (static / "link.txt").symlink_to(tmp_path / "secret.txt")
    fetcher = pdf.make_fetcher(str(static), "/static/")

    resp = fetcher.fetch(pdf.PDF_ORIGIN + "/static/css/a.css")
    assert resp.read() == b"p { color: red }" and resp.content_type == "text/css"

    for url in (pdf.PDF_ORIGIN + "/static/../secret.txt", pdf.PDF_ORIGIN + "/static/%2e%2e/secret.txt",
                pdf.PDF_ORIGIN + "/static/link.txt", pdf.PDF_ORIGIN + "/static/css/",
                pdf.PDF_ORIGIN + "/static/missing.css", pdf.PDF_ORIGIN + "/secret.txt",
                "http://pdf.huimin.invalid.example.com/static/css/a.css", "file://" + str(static / "css" / "a.css"),
                "ftp://example.com/static/css/a.css"):
        with pytest.raises(pdf.RefusedURL):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 9


def test_the_real_static_folder_gives_the_print_stylesheet(app):
    fetcher = pdf.make_fetcher(app.static_folder, "/static/")
    assert b"@page" in fetcher.fetch(pdf.PDF_ORIGIN + "/static/css/pdf.css").read()


def test_data_uri_images_are_embedded(render):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    source = ("{% extends 'pdf/base.html' %}{% block content %}<p>照片</p>"
              "<img src='{{ uri }}' width='40' height='40' alt=''>{% endblock %}")
    data = render(source, uri=pdf.data_uri(buf.getvalue(), "image/png"))
    images = PdfReader(io.BytesIO(data)).pages[0].images
    assert len(images) == 1 and images[0].image.size == (8, 8)


# --- downloads ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "expected"), [
    ("中标公告-HM2025-001.pdf", "中标公告-HM2025-001.pdf"),
    ("简报 2025年10月", "简报 2025年10月.pdf"),
    ("../../etc/passwd", "etc_passwd.pdf"),
    ('a"b\r\nContent-Type: text/html', "a_b_Content-Type_ text_html.pdf"),
    ("", "document.pdf"),
    ("...", "document.pdf"),
    ("x" * 300 + ".PDF", "x" * 120 + ".pdf"),
])
def test_safe_filename(given, expected):
    assert pdf.safe_filename(given) == expected


def test_render_pdf_response_is_a_private_download_with_a_chinese_name(app):
    with app.test_request_context("/any"):
        resp = pdf.render_pdf_response(app.jinja_env.from_string(LONG_TABLE), "中标公告/2025\"10.pdf", rows=3)
        body = resp.get_data()
    assert resp.mimetype == "application/pdf" and body.startswith(b"%PDF")
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E4%B8%AD%E6%A0%87%E5%85%AC%E5%91%8A_2025_10.pdf" in disposition
    assert 'filename=_2025_10.pdf' in disposition
    assert "/" not in disposition.split("filename*=")[1].replace("UTF-8''", "")
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "二〇二五年十月文化惠民工作简报" in pages_text(body)[0]


def test_inline_view(app):
    with app.test_request_context("/any"):
        resp = pdf.render_pdf_response(app.jinja_env.from_string(LONG_TABLE), "简报", inline=True, rows=1)
    assert resp.headers["Content-Disposition"].startswith("inline;")
