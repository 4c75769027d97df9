"""Server-rendered SVG charts: well-formed, every text escaped, no script, numbers where they belong."""

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from markupsafe import Markup

from core.charts import bar_chart, format_number, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup):
    assert isinstance(markup, Markup)
    return ET.fromstring(str(markup))  # noqa: S314 - our own markup, parsed to check it


def _texts(root):
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_bar_chart_draws_one_bar_per_label_scaled_to_the_largest():
    root = _parse(bar_chart(["公益电影放映", "京剧演出", "讲座"], [12, 6, 0], title="附议最多的项目", unit="次"))
    bars = list(root.iter(f"{SVG}rect"))
    widths = [float(r.get("width")) for r in bars]
    assert len(bars) == 3 and widths[0] > 0 and widths[1] == pytest.approx(widths[0] / 2, rel=0.01) and widths[2] == 0
    texts = _texts(root)
    assert "附议最多的项目" in texts and "12次" in texts and "公益电影放映" in texts
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == "附议最多的项目"


def test_bar_chart_escapes_every_text_and_has_no_script():
    evil = '<script>alert("x")</script>&'
    markup = bar_chart([evil], [Decimal("3.5")], title=evil, unit="<b>")
    assert "<script" not in str(markup) and "&lt;script&gt;" in str(markup)
    root = _parse(markup)  # well-formed XML despite the input
    assert evil in _texts(root) and "3.5<b>" in _texts(root)
    assert not [el for el in root.iter() if el.get("style") is not None or el.tag.endswith("script")]
    assert not [k for el in root.iter() for k in el.attrib if k.lower().startswith("on")]


def test_bar_chart_without_data_says_so():
    root = _parse(bar_chart([], [], title="空", empty_text="没有数据"))
    assert "没有数据" in _texts(root) and not list(root.iter(f"{SVG}rect"))


def test_long_labels_are_shortened_with_the_full_text_kept_as_a_tooltip():
    label = "非常非常长的项目名称用来测试截断是否生效以及提示是否保留完整文字"
    root = _parse(bar_chart([label], [1]))
    shown = [t for t in _texts(root) if t.endswith("…")]
    assert shown and len(shown[0]) < len(label)
    assert any(label in (t.text or "") for t in root.iter(f"{SVG}title"))


def test_bar_chart_refuses_mismatched_input():
    with pytest.raises(ValueError):
        bar_chart(["a", "b"], [1])


def test_line_chart_draws_series_with_gaps_and_a_legend():
    markup = line_chart(["1月", "2月", "3月", "4月"], {"满意度": [4.2, None, 4.5, 4.6], "<i>对照</i>": [3, 3.5, 4, 4]},
                        title="满意度趋势", unit="分")
    root = _parse(markup)
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 2  # the first series is cut by its gap: only one segment has two points or more
    assert len(list(root.iter(f"{SVG}circle"))) == 7
    texts = _texts(root)
    assert "满意度" in texts and "<i>对照</i>" in texts and "1月" in texts and "满意度趋势" in texts
    assert "<i>" not in str(markup)


def test_line_chart_empty_and_bad_input():
    assert "—" in _texts(_parse(line_chart([], {})))
    with pytest.raises(ValueError):
        line_chart(["a"], {"s": [1, 2]})


def test_charts_render_in_a_pdf():
    import io

    import weasyprint
    from pypdf import PdfReader

    html = f"<html><body>{bar_chart(['公益电影'], [5], title='附议最多', unit='次')}</body></html>"
    pdf = weasyprint.HTML(string=html).write_pdf()
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "附议最多" in text and "公益电影" in text


def test_format_number():
    assert [format_number(v) for v in (12, 1234, 4.5, Decimal("2.50"), 1234.567, None)] == [
        "12", "1,234", "4.5", "2.5", "1,234.57", ""]
