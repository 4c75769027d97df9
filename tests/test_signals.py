"""Packages meet through signals and init_app: each app made in a process keeps its own menu,
settings and job kinds; marketplace's events reach evaluation inside their transaction, and its
pages show what evaluation puts in their slots."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from flask import url_for
from sqlalchemy import select

from core import nav, settings
from core.audit import AuditEvent
from core.i18n import LOCAL_TZ
from core.jobs import operations as jobs
from core.site import views as site_views
from evaluation.performance.models import PerformanceSnapshot
from evaluation.review import operations as review
from evaluation.review.models import PanelStatus
from marketplace import signals
from marketplace.awards import operations as award_ops
from marketplace.awards.models import AwardStatus, ChallengeOutcome, ChallengeStatus
from marketplace.projects.models import ProjectState
from tests.support import review as es
from tests.support.pages import html_text

ROOT = Path(__file__).resolve().parent.parent


def bj(y, mo, d, h=10):
    return dt.datetime(y, mo, d, h, tzinfo=LOCAL_TZ).astimezone(dt.UTC)


# --- what a package adds lives on its app ------------------------------------------------------

def test_two_apps_in_one_process_keep_their_own_menu_settings_and_job_kinds(app, make_app):
    other = make_app()
    for key in (nav.EXTENSION, settings.EXTENSION, jobs.KINDS_EXTENSION):
        assert app.extensions[key] is not other.extensions[key]
        assert list(app.extensions[key]) == list(other.extensions[key])  # the same contributions
    # Each entry once, however many apps the process has made.
    endpoints = [e.endpoint for e in nav.entries(other)]
    assert len(endpoints) == len(set(endpoints)) == len(nav.entries(app))
    assert {"catalog.index", "projects.index", "review.projects", "admin.settings_list"} <= set(endpoints)
    assert set(jobs.kinds(other)) == {"provider_report", "briefing"}
    assert app.extensions[site_views.LANDING_EXTENSION] is other.extensions[site_views.LANDING_EXTENSION]

    # What one app is given, the other does not see.
    jobs.register_job(other, "only_there", lambda params, progress: None)
    settings.add(other, settings.define("test.only_there", 1, "only there"))
    nav.add(other, "main.inbox", "elsewhere", order=1)
    assert "only_there" not in jobs.kinds(app)
    assert "test.only_there" not in app.extensions[settings.EXTENSION]
    assert [e.label for e in nav.entries(app) if e.endpoint == "main.inbox"] != ["elsewhere"]


def test_settings_keep_their_keys_defaults_and_admin_page(client, make_user, login, session):
    keys = set(settings.definitions())
    assert {"award.publicity_days", "catalog.publicity_days", "evaluation.panel_size", "uploads.max_file_mb",
            "sessions.confirm_days", "projects.min_valid_bids.open_tender"} <= keys
    assert len(keys) == 73  # 51 + coverage 3 + scorecards 13 + assessment 4 + supervision 1 + its weight 1
    assert settings.get("evaluation.panel_size") == 5
    login(make_user("admin"))
    page = client.get("/admin/settings")
    assert page.status_code == 200
    assert all(key in page.get_data(as_text=True) for key in keys)
    assert client.get("/admin/settings/no.such_setting").status_code == 404


# --- marketplace's events reach evaluation ----------------------------------------------------

@pytest.fixture
def awarded(session, make_user, town):
    with time_machine.travel(bj(2025, 9, 29), tick=False):
        r = es.reviewed_project(session, make_user, town)
    with time_machine.travel(bj(2025, 9, 30), tick=False):
        r["award"] = review.award_project(r["project"], r["bids"][0], "", r["officer"])
    session.commit()
    return r


def _challenge(session, awarded):
    bidder = awarded["bids"][1]
    with time_machine.travel(bj(2025, 10, 13), tick=False):
        challenge = award_ops.lodge_challenge(awarded["project"], bidder, "专家打分存在明显错误", [],
                                              bidder.provider.user)
    session.commit()
    return challenge


def test_award_voided_reopens_the_review(session, awarded):
    challenge = _challenge(session, awarded)
    with time_machine.travel(bj(2025, 10, 14), tick=False):
        award_ops.answer_challenge(challenge, upheld=True, answer="质疑成立，重新评审。",
                                   outcome=ChallengeOutcome.REVIEW_AGAIN, actor=awarded["officer"])
    assert awarded["panel"].status == PanelStatus.SCORING  # evaluation's receiver ran
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "review.reopen")) is not None


def _refuse(sender, **kwargs):
    raise RuntimeError("the receiver failed")


def test_a_failing_receiver_undoes_the_whole_operation(session, awarded):
    challenge = _challenge(session, awarded)
    signals.award_voided.connect(_refuse)
    try:
        with time_machine.travel(bj(2025, 10, 14), tick=False), pytest.raises(RuntimeError):
            award_ops.answer_challenge(challenge, upheld=True, answer="质疑成立，重新评审。",
                                       outcome=ChallengeOutcome.REVIEW_AGAIN, actor=awarded["officer"])
    finally:
        signals.award_voided.disconnect(_refuse)
    session.rollback()
    assert challenge.status == ChallengeStatus.PENDING
    assert awarded["award"].status == AwardStatus.PUBLISHED
    assert awarded["project"].state == ProjectState.AWARDED


def test_session_reported_and_decided_rescore_the_provider(session, delivery):
    world = delivery
    provider, officer = world.provider(), world.officer()
    contract = world.contract(provider, officer)
    s = world.schedule(contract, dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=2))

    def triggers():
        return [t for (t,) in session.execute(select(PerformanceSnapshot.trigger).where(
            PerformanceSnapshot.provider_id == provider.id).order_by(PerformanceSnapshot.id))]

    world.report(s)
    assert triggers() == ["report"]
    world.confirm(s, 90, officer)
    assert triggers() == ["report", "acceptance"]


# --- page slots that evaluation and marketplace fill ------------------------------------------

def test_the_award_notice_links_the_review_through_its_slot(app, client, awarded):
    project = awarded["project"]
    page = client.get(f"/projects/{project.id}/award").get_data(as_text=True)
    with app.test_request_context():
        assert url_for("review.report", project_id=project.id) in page
        assert url_for("review.draw_record", project_id=project.id) in page
    # The marketplace template itself names no evaluation endpoint.
    template = (ROOT / "templates/marketplace/awards/notice.html").read_text(encoding="utf-8")
    assert "review." not in template


def test_the_item_page_lists_the_projects_that_bought_the_item(client, awarded):
    project = awarded["project"]
    item = project.lines[0].item
    text = html_text(client.get(f"/catalog/items/{item.code}"))
    assert project.reference in text and project.title in text
