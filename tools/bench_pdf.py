"""Time the shared PDF path on a Chinese document of about 15 A4 pages.

    .venv/bin/python tools/bench_pdf.py [--runs 3] [--font "Noto Sans CJK SC"]
    .venv/bin/python tools/bench_pdf.py --html bench/out/briefing.html   # any saved document, e.g. the
                                                       # briefing's (tools/bench/briefing.py --save-html)

Prints the page count and, per run, the seconds spent rendering the template, laying out
(WeasyPrint render) and writing the PDF (font subsetting happens here), and create_pdf() as a
whole — wall-clock time, and in brackets the process's CPU time, which other work on a busy
machine disturbs less. --font swaps the document's font family (it must be known to fontconfig, e.g. through
FONTCONFIG_FILE) to compare CJK fonts; the figures are in README "PDFs".
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# About 15 pages: a cover, sections of running text and a long table, as in a monthly briefing.
DOCUMENT = """{% extends 'pdf/base.html' %}
{% block title %}文化惠民工作简报（测试）{% endblock %}
{% block content %}
<h1>二〇二五年十月文化惠民工作简报</h1>
{% for s in range(sections) %}
<h2>第{{ s + 1 }}部分　公共文化服务供给情况</h2>
{% for p in range(paragraphs) %}
<p>本月全区各镇街、村（社区）综合性文化服务中心共开展公益性文化活动，覆盖老年人、未成年人、残疾人等重点群体。
承接主体按照指导性目录的服务标准组织实施，群众通过点单反馈需求，文化部门按照综合评分法开展评审并在公示期后签订合同。
第{{ s + 1 }}部分第{{ p + 1 }}段：场次、参与人数、满意度与需求满足率逐项统计，详见下表。</p>
{% endfor %}
{% if rows %}<table{% if fixed %} class="fixed"{% endif %}>
  <thead><tr><th class="w-5">序号</th><th class="w-10">镇街</th><th class="w-30">服务项目</th>
             <th class="w-30">承接主体</th><th class="num w-10">场次</th>
             <th class="num w-15">金额（元）</th></tr></thead>
  <tbody>
  {% for r in range(rows) %}
  <tr><td>{{ r + 1 }}</td><td>黄村镇</td><td>戏曲进社区第{{ s * rows + r + 1 }}场</td><td>北京市惠民文化服务中心</td>
      <td class="num">{{ r % 7 + 1 }}</td><td class="num">{{ '{:,.2f}'.format(1234.5 * (r + 1)) }}</td></tr>
  {% endfor %}
  </tbody>
</table>{% endif %}
{% endfor %}
{% endblock %}"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sections", type=int, default=6)
    parser.add_argument("--rows", type=int, default=60, help="table rows per section (0: text only)")
    parser.add_argument("--paragraphs", type=int, default=6, help="paragraphs per section")
    parser.add_argument("--fixed", action="store_true", help='tables with class="fixed" (fixed layout)')
    parser.add_argument("--font", help="font family to use instead of the default (WenQuanYi Micro Hei)")
    parser.add_argument("--html", help="time this HTML file (made for the PDF path) instead of the test document")
    parser.add_argument("--out", help="write the last run's PDF here")
    args = parser.parse_args(argv)

    import weasyprint
    from flask import render_template

    from app import create_app
    from core import pdf

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "bench"})
    template = app.jinja_env.from_string(DOCUMENT)
    extra_css = pdf.page_number_css()
    if args.font:
        family = f'font-family: "{args.font}" !important;'
        extra_css += f" html {{ {family} }} @page {{ @bottom-right {{ {family} }} }}"
    totals, rows = [], []
    with app.test_request_context("/"):
        for _run in range(args.runs):
            t0 = clock()
            if args.html:
                html = Path(args.html).read_text(encoding="utf-8")
            else:
                html = render_template(template, sections=args.sections, rows=args.rows,
                                       paragraphs=args.paragraphs, fixed=args.fixed, pdf_site_name="文化惠民",
                                       pdf_generated_label="生成于 2025-10-31")
            t1 = clock()
            fetcher = pdf.make_fetcher(app.static_folder, "/static/")
            doc = weasyprint.HTML(string=html, base_url=pdf.PDF_ORIGIN + "/", url_fetcher=fetcher).render(
                stylesheets=[weasyprint.CSS(string=extra_css)])
            t2 = clock()
            data = doc.write_pdf()
            t3 = clock()
            rows.append((len(doc.pages), t1 - t0, t2 - t1, t3 - t2, len(data)))
            if not args.font and not args.html:
                t4 = clock()
                pdf.create_pdf(template, sections=args.sections, rows=args.rows, paragraphs=args.paragraphs,
                               fixed=args.fixed)
                totals.append(clock() - t4)
    if args.out:
        Path(args.out).write_bytes(data)
    font = args.font or pdf.PDF_FONT
    print(f"font: {font}; pages: {rows[0][0]}; size: {rows[0][4] // 1024} KiB; load average: {os.getloadavg()[0]:.2f}")
    for i, (_pages, tpl, layout, write, _size) in enumerate(rows, 1):
        line = f"run {i}: template {tpl}, layout {layout}, write_pdf {write}"
        if totals:
            line += f", create_pdf() {totals[i - 1]}"
        print(line)
    print(f"median: layout {median(r[2] for r in rows)}, write_pdf {median(r[3] for r in rows)}"
          + (f", create_pdf() {median(totals)}" if totals else ""))
    return 0


class Seconds:
    """Wall-clock and CPU seconds, subtractable."""

    def __init__(self, wall: float, cpu: float):
        self.wall, self.cpu = wall, cpu

    def __sub__(self, other):
        return Seconds(self.wall - other.wall, self.cpu - other.cpu)

    def __str__(self):
        return f"{self.wall:.2f} s ({self.cpu:.2f} s CPU)"


def clock() -> Seconds:
    return Seconds(time.perf_counter(), time.process_time())


def median(values) -> Seconds:
    values = list(values)
    return Seconds(statistics.median(v.wall for v in values), statistics.median(v.cpu for v in values))


if __name__ == "__main__":
    sys.exit(main())
