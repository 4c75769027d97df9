"""The shared page parts: the top bar grouped by task, forms that say what is wrong and where,
static files with content-hash URLs, a year's caching and compression, the Bootstrap subset."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import url_for

from core import nav
from core.accounts.models import Role

ROOT = Path(__file__).resolve().parent.parent


# --- the top bar -----------------------------------------------------------------------------------

def _menu(client):
    html = client.get("/inbox").get_data(as_text=True)
    bar = html.split('data-testid="nav">', 1)[1].split("</ul>\n      <div", 1)[0]
    tops = re.findall(r'^        <li class="nav-item[^"]*"', bar, re.M)
    return html, bar, tops


@pytest.mark.parametrize("roles", [(Role.ADMIN,), (Role.OFFICER,), (Role.OFFICER, Role.ADMIN), (Role.EXPERT,),
                                   (Role.PROVIDER,), (Role.RESIDENT,)])
def test_every_role_gets_at_most_seven_top_entries(client, make_user, login, roles):
    user = make_user(*roles)
    login(user)
    _html, bar, tops = _menu(client)
    assert 1 <= len(tops) <= 7, tops
    # Every entry the role may reach is in the bar, in a menu or on its own.
    with client.application.test_request_context():
        from flask_login import login_user

        login_user(user)
        reachable = {i["endpoint"] for i in nav.items_for_current_user()}
    assert len(reachable) > len(tops) or roles == (Role.RESIDENT,)
    assert reachable == set(re.findall(r'data-endpoint="([\w.]+)"', bar))


def test_officer_menus_are_grouped_by_task(client, make_user, login):
    login(make_user(Role.OFFICER))
    _html, bar, _tops = _menu(client)
    groups = re.findall(r'data-group="(\w+)"', bar)
    assert {"catalog", "procurement", "delivery"} <= set(groups)
    assert 'data-endpoint="review.projects"' in bar.split('data-group="procurement"')[1].split('data-group=')[0]
    assert 'data-endpoint="contracts.index"' in bar.split('data-group="delivery"')[1].split('data-group=')[0]


def test_a_group_with_one_reachable_entry_is_a_plain_link(app, make_app):
    other = make_app()
    nav.add_group(other, "lonely", "Lonely", order=3)
    nav.add(other, "main.index", "Home page", order=3, group="lonely")
    with other.test_request_context():
        menu = nav.menu_for_current_user()
    lonely = [e for e in menu if e["key"] == "lonely"]
    assert len(lonely) == 1 and [i["endpoint"] for i in lonely[0]["items"]] == ["main.index"]
    html = other.test_client().get("/login").get_data(as_text=True)
    assert 'data-group="lonely"' not in html  # no dropdown for one entry
    assert 'data-endpoint="main.index">Home page</a>' in html
    # Each package's entries stay with its app: the first app has no such group.
    assert "lonely" not in nav.groups(app)


def test_menu_words_never_break(client):
    css = (ROOT / "static/css/app.css").read_text()
    rule = css.split(".navbar .nav-link, .navbar .dropdown-item", 1)[1].split("}", 1)[0]
    assert "white-space: nowrap" in rule and "word-break: keep-all" in rule


# --- forms -----------------------------------------------------------------------------------------

def test_a_sent_back_form_says_what_is_wrong_and_where(client):
    page = client.post("/providers/register", data={"name": "北京云山书画社"})
    html = page.get_data(as_text=True)
    assert page.status_code in (200, 400, 422)
    summary = html.split('data-testid="error-summary"', 1)[1].split("</div>", 1)[0]
    assert 'role="alert"' in html.split('data-testid="error-summary"', 1)[0].rsplit("<div", 1)[1]
    # Each error names its field and links to it.
    assert '<a class="alert-link" href="#credit_code">请输入统一社会信用代码</a>' in summary
    assert 'href="#login"' in summary and 'href="#certificate"' in summary
    assert "该字段是必填字段" not in html
    # The input says it is wrong and points at its hint and its message.
    field = re.search(r"<input[^>]*id=\"credit_code\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in field
    assert 'aria-describedby="credit_code-hint credit_code-error"' in field
    assert 'id="credit_code-hint"' in html and 'id="credit_code-error"' in html
    assert re.search(r'id="credit_code-error">请输入统一社会信用代码<', html)
    # A field without an error is not marked.
    name = re.search(r"<input[^>]*id=\"name\"[^>]*>", html).group(0)
    assert "aria-invalid" not in name and 'value="北京云山书画社"' in name
    # The chosen files are not kept: the page says so.
    assert "表单退回后不会保留已选的文件，请重新选择文件。" in html
    assert 'data-testid="choose-files-again"' in html


def test_a_form_shown_first_has_no_errors_marked(client):
    html = client.get("/providers/register").get_data(as_text=True)
    assert "error-summary" not in html and "aria-invalid" not in html and "choose-files-again" not in html
    field = re.search(r"<input[^>]*id=\"credit_code\"[^>]*>", html).group(0)
    assert 'aria-describedby="credit_code-hint"' in field


def test_required_messages_name_the_field_in_english(client):
    client.set_cookie("lang", "en")
    html = client.post("/providers/register", data={}).get_data(as_text=True)
    assert ">Enter Unified social credit code<" in html
    assert "This field is required." not in html


# --- static files ----------------------------------------------------------------------------------

def test_static_urls_carry_the_content_hash_and_are_kept_a_year(app, client):
    with app.test_request_context():
        css = url_for("static", filename="css/app.css")
        subset = url_for("static", filename="vendor/bootstrap/bootstrap.subset.css")
    assert re.fullmatch(r"/static/css/app\.css\?v=[0-9a-f]{12}", css)
    html = client.get("/login").get_data(as_text=True)
    assert css in html and subset in html and "bootstrap.min.css" not in html
    with client.get(subset, headers={"Accept-Encoding": "gzip"}) as page:
        data = page.data
    assert page.status_code == 200
    control = page.headers["Cache-Control"]
    assert "immutable" in control and int(re.search(r"max-age=(\d+)", control).group(1)) >= 365 * 24 * 3600
    assert page.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(data)
    assert body == (ROOT / "static/vendor/bootstrap/bootstrap.subset.css").read_bytes()
    assert len(data) < 20_000
    # Without gzip the plain file.
    with client.get(subset) as plain:
        assert "Content-Encoding" not in plain.headers and plain.data == body


def test_a_changed_file_gets_a_new_url(make_app, tmp_path):
    from core import static_files

    (tmp_path / "a.css").write_text("body{color:red}")
    first = static_files.content_hashes(tmp_path)
    (tmp_path / "a.css").write_text("body{color:blue}")
    assert static_files.content_hashes(tmp_path)["a.css"] != first["a.css"]


def test_a_page_loads_only_the_scripts_it_uses(client):
    """The layout's scripts are the two menu behaviours and the form helpers: no Bootstrap bundle
    (80 KB of plugins no page used)."""
    html = client.get("/login").get_data(as_text=True)
    scripts = re.findall(r'<script src="/static/([^"?]+)', html)
    assert scripts == ["js/menus.js", "js/app.js"]
    assert not (ROOT / "static/vendor/bootstrap/bootstrap.bundle.min.js").exists()
    assert sum((ROOT / "static" / s).stat().st_size for s in scripts) < 6_000
    # Every Bootstrap behaviour a template asks for is one menus.js performs.
    asked = set()
    for path in (ROOT / "templates").rglob("*.html"):
        asked.update(re.findall(r'data-bs-toggle="([a-z]+)"', path.read_text(encoding="utf-8")))
    assert asked <= {"collapse", "dropdown"}, asked


def test_the_bootstrap_subset_is_current_and_small():
    subset = ROOT / "static/vendor/bootstrap/bootstrap.subset.css"
    assert subset.stat().st_size < 100_000 < (ROOT / "static/vendor/bootstrap/bootstrap.min.css").stat().st_size
    run = subprocess.run([sys.executable, str(ROOT / "tools/build_css.py"), "--check"],  # noqa: S603
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    text = subset.read_text()
    # What the pages use stays; what no page uses goes.
    for kept in (".navbar-expand-lg", ".dropdown-menu", ".form-control", ".is-invalid", ".alert-danger",
                 ".table-responsive", ".visually-hidden-focusable", ".collapse:not(.show)"):
        assert kept in text, kept
    for gone in (".carousel-item", ".offcanvas-start", ".accordion-button", "[data-bs-theme=dark]"):
        assert gone not in text, gone


# --- the review page -------------------------------------------------------------------------------

def _steps(html):
    block = html.split('data-testid="review-steps"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'data-state="(\w+)"', block)


def _stages(html):
    return [s.strip() for s in re.findall(r'data-testid="member-stage">(.*?)</td>', html, re.S)]


def test_the_review_page_states_the_order_of_work_and_where_each_member_is(session, client, make_user, login,
                                                                          town):
    from evaluation.review import draw, scoring
    from evaluation.review import operations as review
    from tests.support import review as es

    officer = make_user("officer", jurisdiction=town)
    cat = es.category(session)
    proj = es.project(session, officer, town, cat)
    provs = [es.provider(session, make_user, n) for n in ("甲艺术团", "乙文化中心", "丙剧社")]
    bids = [es.bid(session, proj, p, price) for p, price in zip(provs, ("90000.00", "100000.00", "110000.00"),
                                                                 strict=True)]
    for _ in range(5):
        es.expert(session, make_user, [cat])
    panel = draw.draw_panel(proj, officer, seed="ui-review")
    session.flush()
    login(officer)
    url = f"/review/projects/{proj.id}"

    html = client.get(url).get_data(as_text=True)
    # The officer sees each member's login; nobody has declared yet.
    logins = re.findall(r'data-testid="member-login">([^<]+)<', html)
    assert sorted(logins) == sorted(m.expert.user.login for m in panel.members)
    assert set(_stages(html)) == {"尚未声明利益冲突"}
    _price, _perf, subjective, qualification = es.criteria(proj)
    assert qualification, "the builder's project has qualification checks"
    assert _steps(html) == ["current", "waiting", "waiting"]
    assert "评审组长记录资格审查结果" in html and "评审组长核对并签署评审报告" in html

    for m in panel.members:
        draw.confirm_no_conflict(m, m.expert.user)
    session.flush()
    html = client.get(url).get_data(as_text=True)
    stages = dict(zip(re.findall(r'data-testid="member-login">([^<]+)<', html), _stages(html), strict=True))
    assert stages[panel.leader.expert.user.login] == "正在记录资格审查"
    assert {s for k, s in stages.items() if k != panel.leader.expert.user.login} == {"评分中"}

    for b in bids:
        for q in qualification:
            scoring.record_qualification(panel.leader, b, q, passed=True, reason="齐全",
                                         actor=panel.leader.expert.user)
    first = min(panel.members, key=lambda m: m.draw_position)
    for b in bids:
        scoring.save_scores(first, b, {c.id: (20, "") for c in subjective}, first.expert.user)
    scoring.submit(first, first.expert.user)
    session.flush()
    html = client.get(url).get_data(as_text=True)
    assert _steps(html) == ["done", "current", "waiting"]
    assert 'aria-current="step"' in html
    stages = dict(zip(re.findall(r'data-testid="member-login">([^<]+)<', html), _stages(html), strict=True))
    assert stages[first.expert.user.login] in ("已提交评分", "已提交评分，待签署评审报告")

    for m in panel.members:
        if m is not first:
            for b in bids:
                scoring.save_scores(m, b, {c.id: (20, "") for c in subjective}, m.expert.user)
            scoring.submit(m, m.expert.user)
    session.flush()
    html = client.get(url).get_data(as_text=True)
    assert _steps(html) == ["done", "done", "current"]
    assert _stages(html)[[m.draw_position for m in sorted(panel.members, key=lambda m: m.draw_position)].index(
        panel.leader.draw_position)] == "已提交评分，待签署评审报告"
    review.sign_off(panel, panel.leader, panel.leader.expert.user)
    session.flush()
    html = client.get(url).get_data(as_text=True)
    assert _steps(html) == ["done", "done", "done"]

    # A member sees the same order of work, but not the other members' logins.
    client.post("/logout")
    login(panel.leader.expert.user)
    html = client.get(url).get_data(as_text=True)
    assert 'data-testid="member-section"' in html
    assert _steps(html) == ["done", "done", "done"]
    assert 'data-testid="member-login"' not in html


def test_approve_and_reject_are_shown_not_folded_away(session, client, make_user, login, district):
    from marketplace.providers.models import ProviderStatus
    from tests.support import review as es

    prov = es.provider(session, make_user, "北京云山书画社")
    prov.status = ProviderStatus.PENDING
    session.flush()
    login(make_user("officer", jurisdiction=district))
    html = client.get(f"/providers/{prov.id}").get_data(as_text=True)
    for key in ("approve", "reject"):
        opening = re.search(rf'<(\w+)[^>]*data-testid="decide-{key}"', html)
        assert opening and opening.group(1) == "section", key
    # The rarer decision stays folded.
    assert re.search(r'<details[^>]*data-testid="decide-request_documents"', html)
    # A sent-back decision says what is missing, at the top of its form, naming the field.
    page = client.post(f"/providers/{prov.id}/reject", data={})
    html = page.get_data(as_text=True)
    assert 'data-testid="error-summary"' in html.split('data-testid="decide-reject"', 1)[1].split("</section>", 1)[0]
