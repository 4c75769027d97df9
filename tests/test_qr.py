"""QR codes as inline SVG: well-formed, script-free, drawing exactly segno's matrix, on a page
and through WeasyPrint into a PDF."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from core import pdf
from core.qr import QUIET_ZONE, qr_code, qr_svg

PDFTOPPM = "/usr/bin/pdftoppm"  # poppler-utils, installed by tools/system-deps.sh
URL = "https://huimin.example.gov.cn/sessions/123/rate?t=abc"


def dark_modules_of(svg: str) -> set[tuple[int, int]]:
    """Read back the (row, column) of every dark module from segno's stroked path."""
    root = ET.fromstring(svg)  # noqa: S314 (segno output, not foreign input)
    paths = [p for p in root.iter("path") if p.get("stroke")]
    assert len(paths) == 1
    dark, x, y = set(), 0.0, 0.0
    for cmd, args in re.findall(r"([MmHhVvZz])([^MmHhVvZz]*)", paths[0].get("d")):
        nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if cmd == "M":
            x, y = nums
        elif cmd == "m":
            x, y = x + nums[0], y + nums[1]
        elif cmd == "h":
            row = int(y)  # each line is stroked at row + 0.5, one module thick
            dark |= {(row, int(x) + i) for i in range(int(nums[0]))}
            x += nums[0]
        else:
            raise AssertionError(f"unexpected path command {cmd}")
    return {(r - QUIET_ZONE, c - QUIET_ZONE) for r, c in dark}


def matrix_dark(url: str) -> set[tuple[int, int]]:
    return {(r, c) for r, row in enumerate(qr_code(url).matrix) for c, v in enumerate(row) if v}


def test_svg_is_well_formed_markup_without_script():
    svg = qr_svg(URL)
    assert isinstance(svg, Markup)
    root = ET.fromstring(str(svg))  # noqa: S314
    assert root.tag == "svg" and root.get("class") == "qr-code"
    assert list(root.iter("path")), "no path"
    for el in root.iter():
        assert el.tag in ("svg", "g", "path", "title"), el.tag
        assert not [a for a in el.attrib if a.lower().startswith("on") or "href" in a.lower()], el.attrib
    assert "<script" not in svg.lower()


def test_svg_draws_exactly_segnos_matrix():
    assert dark_modules_of(str(qr_svg(URL))) == matrix_dark(URL)


def test_different_urls_give_different_codes():
    other = URL.replace("123", "124")
    assert str(qr_svg(URL)) != str(qr_svg(other))
    assert matrix_dark(URL) != matrix_dark(other)


def test_the_matrix_encodes_the_url():
    code = qr_code(URL)
    assert code.mode == "byte" and not code.is_micro
    assert code.error in ("M", "Q", "H")  # at least M; segno raises it when it costs nothing


def test_title_is_escaped_and_size_can_be_printed_in_millimetres():
    svg = str(qr_svg(URL, scale=1, unit="mm", title='<扫码评价 & "打分">'))
    root = ET.fromstring(svg)  # noqa: S314 (segno output, not foreign input)
    assert root.find("title").text == '<扫码评价 & "打分">'
    size = len(qr_code(URL).matrix) + 2 * QUIET_ZONE
    assert root.get("width") == f"{size}mm"


def test_empty_url_is_refused():
    with pytest.raises(ValueError):
        qr_svg("")


def test_qr_in_a_pdf_rasterises_to_the_same_modules(app, tmp_path):
    """Through WeasyPrint and a 200 dpi rendering, every module centre has the right colour."""
    from PIL import Image

    template = app.jinja_env.from_string(
        "<!doctype html><html><body><div class='qr'>{{ qr_svg(url, scale=2, unit='mm') }}</div></body></html>")
    with app.app_context():
        data = pdf.create_pdf(template, url=URL)
    (tmp_path / "qr.pdf").write_bytes(data)
    args = [PDFTOPPM, "-r", "200", "-gray", "-png", "-f", "1", "-l", "1", "-singlefile",
            str(tmp_path / "qr.pdf"), str(tmp_path / "qr")]
    subprocess.run(args, check=True)  # noqa: S603 (our own file)
    image = Image.open(tmp_path / "qr.png").convert("L")
    width, height = image.size
    pixels = image.load()
    dark_px = [(x, y) for y in range(0, height // 2) for x in range(0, width // 2) if pixels[x, y] < 128]
    left, top = min(x for x, _ in dark_px), min(y for _, y in dark_px)
    right, bottom = max(x for x, _ in dark_px), max(y for _, y in dark_px)
    n = len(qr_code(URL).matrix)
    module = (right - left + 1) / n
    assert abs(module - 2 / 25.4 * 200) < 1  # 2 mm at 200 dpi
    assert abs((bottom - top + 1) / n - module) < 0.5
    seen = {(r, c) for r in range(n) for c in range(n)
            if pixels[int(left + (c + 0.5) * module), int(top + (r + 0.5) * module)] < 128}
    assert seen == matrix_dark(URL)
