"""Chinese by default, English by a remembered switch, every message translated."""

import datetime as dt

from core.i18n import fmt_datetime
from tests.support.pages import html_text
from tools import i18n as i18n_tool


def test_chinese_is_the_default(client):
    text = html_text(client.get("/login"))
    assert "登录" in text and "Log in" not in text


def test_switch_to_english_is_remembered(client):
    resp = client.post("/lang", data={"lang": "en", "next": "/login"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    assert "Log in" in html_text(client.get("/login"))
    assert "Log in" in html_text(client.get("/register"))
    client.post("/lang", data={"lang": "zh_CN"})
    assert "登录" in html_text(client.get("/login"))


def test_language_switch_refuses_foreign_redirects(client):
    resp = client.post("/lang", data={"lang": "en", "next": "https://evil.example/"})
    assert resp.headers["Location"] == "/"


def test_every_message_has_a_chinese_translation():
    assert i18n_tool.missing() == []


def test_one_english_id_has_one_chinese_translation_app_wide():
    # The module catalogs are merged at run time: a second translation of an id would be lost.
    assert i18n_tool.clashes() == []


def test_times_are_shown_in_shanghai():
    moment = dt.datetime(2026, 1, 1, 16, 30, tzinfo=dt.UTC)
    assert fmt_datetime(moment) == "2026-01-02 00:30"
