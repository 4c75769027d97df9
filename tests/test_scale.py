"""The scale seeder (issue 9): its data passes the app's own checks, and the key pages issue the
same number of SQL queries whatever the size of the district (no query per row).

Two small districts from the same seeder, each in its own database (SQLite files, or schemas of
their own in TEST_DATABASE_URL's database on PostgreSQL). Not timed: `make bench` measures speed."""

from __future__ import annotations

import uuid

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text

from app import create_app
from core import audit
from core.db import db, utcnow
from tests.conftest import FAST_HASH, TEST_DATABASE_URL
from tools.bench import run as bench
from tools.bench.floor import create_app as bench_create_app

SIZES = (0.002, 0.01)


def _database(tmp_path, tag):
    """(URL, engine options, cleanup): a SQLite file, or a schema of its own on PostgreSQL."""
    if not TEST_DATABASE_URL:
        return f"sqlite:///{tmp_path / f'scale-{tag}.db'}", {}, None
    url = TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"scale_{tag}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop():
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    return url, {"connect_args": {"options": f"-csearch_path={schema}"}}, drop


@pytest.fixture(scope="module")
def districts(tmp_path_factory):
    made, drops = {}, []
    for factor in SIZES:
        url, options, drop = _database(tmp_path_factory.mktemp("scale"), str(factor).replace(".", "_"))
        if drop:
            drops.append(drop)
        app = bench_create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret", "TESTING": True,
                                "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
                          "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, **options},
                          "PASSWORD_HASH_COST": FAST_HASH, "RATELIMIT_ENABLED": False})
        with app.app_context():
            upgrade()
            from seeds.scale import seed_scale

            seed_scale(factor, echo=lambda *_: None)
            db.session.commit()
        made[factor] = app
    yield made
    for app in made.values():
        with app.app_context():
            db.engine.dispose()
    for drop in drops:
        drop()


def test_scale_data_passes_the_apps_checks(districts):
    app = districts[SIZES[-1]]
    with app.app_context():
        from evaluation.feedback.models import Rating
        from evaluation.performance import operations as performance
        from evaluation.performance.models import PerformanceSnapshot
        from marketplace.bids.models import Bid
        from marketplace.sessions.models import ServiceSession

        counts = {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
                  for m in (Rating, ServiceSession, Bid)}
        assert all(counts.values()), counts
        results = performance.recompute_all()
        db.session.commit()
        # Good and poor providers are told apart.
        assert len({r.grade for r in results.values()}) >= 2
        assert db.session.scalar(select(func.count()).select_from(PerformanceSnapshot)) == len(results)
        assert audit.verify() >= 2  # the seed's one event and the recompute's
        assert db.session.scalar(text("SELECT count(*) FROM audit_events WHERE action = 'seed.scale'")) == 1


def test_a_second_seed_is_refused(districts):
    from click import ClickException

    from seeds.scale import seed_scale

    with districts[SIZES[0]].app_context(), pytest.raises(ClickException):
        seed_scale(SIZES[0], echo=lambda *_: None)


def test_key_pages_issue_the_same_queries_at_both_sizes(districts):
    per_size = {}
    for factor, app in districts.items():
        sample = bench.samples(app)
        pages = bench.page_queries(app, sample, explain=False)
        assert all(p["status"] == 200 for p in pages.values()), pages
        per_size[factor] = {name: p["queries"] for name, p in pages.items()}
    small, large = (per_size[f] for f in SIZES)
    assert small == large


def test_the_floor_is_served_only_by_the_bench(districts):
    bench_app = districts[SIZES[0]]
    resp = bench_app.test_client().get("/bench/floor")
    assert resp.status_code == 200 and b'data-testid="floor"' in resp.data
    app = create_app({"SQLALCHEMY_DATABASE_URI": bench_app.config["SQLALCHEMY_DATABASE_URI"],
                      "SECRET_KEY": "test-secret", "TESTING": True, "RATELIMIT_ENABLED": False})
    assert app.test_client().get("/bench/floor").status_code == 404


def test_assessment_and_supervision_fill_the_district_in_proportion(districts):
    from core import settings, storage
    from core.workdays import working_deadline
    from evaluation.adjustment.models import AdjustmentDecision, DecisionStatus
    from evaluation.assessment import draw as sampling
    from evaluation.assessment.models import AssessmentAgency, AssessmentPlan, AssessmentVisit, Assessor
    from evaluation.supervision import operations as supervision
    from evaluation.supervision.models import SupervisionEvidence, SupervisionFollow, SupervisionItem, Supervisor
    from marketplace.sessions.models import ServiceSession
    from seeds.scale import counts

    factor = SIZES[-1]
    n = counts(factor)
    with districts[factor].app_context():
        def count(model, *where):
            return db.session.scalar(select(func.count()).select_from(model).where(*where))

        assert count(AssessmentAgency) == n["agencies"] >= 2
        assert count(Assessor) == n["assessors"] >= 2 * n["agencies"]
        assert count(Supervisor) == n["supervisors"] >= 2
        # A plan per month of the sessions (none in the future), re-runnable from its record, each
        # visiting a tenth of the month's sessions (at least one per town with sessions).
        plans = db.session.scalars(select(AssessmentPlan).order_by(AssessmentPlan.month)).all()
        sessions = db.session.execute(select(ServiceSession.id, ServiceSession.scheduled_at)
                                      .where(ServiceSession.state != "missed")).all()
        this_month = sampling.local_month_of(utcnow())
        months = {sampling.local_month_of(at) for _, at in sessions}
        assert [p.month for p in plans] == sorted(m for m in months if m <= this_month)
        assert len(plans) >= 30
        for plan in plans:
            candidates = sampling.candidates_for(plan.month, plan.seed)
            assert plan.candidates == candidates, plan.month
            assert sampling.rerun(plan)["matches"], plan.month
            towns = len({c["town_id"] for c in candidates})
            assert len(plan.sample) == sampling.sample_size(len(candidates), towns, 10, 1), plan.month
            assert count(AssessmentVisit, AssessmentVisit.plan_id == plan.id) == len(plan.sample)
            assert plan.assessors == [a.id for a in sampling.eligible_assessors(plan.month, plan.seed)]
        recorded = count(AssessmentVisit, AssessmentVisit.status == "recorded")
        flagged = count(AssessmentVisit, AssessmentVisit.attendance_flag.is_(True))
        assert recorded > count(AssessmentVisit) / 2
        assert 1 <= flagged < recorded / 10
        # Recorded visits have their figures and an assessor; nearly every visit has one.
        assert count(AssessmentVisit, AssessmentVisit.status == "recorded", AssessmentVisit.score.is_(None)) == 0
        assert count(AssessmentVisit, AssessmentVisit.status == "recorded", AssessmentVisit.assessor_id.is_(None)) == 0
        assert count(AssessmentVisit, AssessmentVisit.assessor_id.is_(None)) < count(AssessmentVisit) / 10
        # Supervision: open, answered and overdue (escalated to the district) items.
        assert count(SupervisionItem) == n["supervision_items"] >= 3
        now = utcnow()
        assert count(SupervisionItem, SupervisionItem.status == "answered") >= 1
        assert count(SupervisionItem, SupervisionItem.status == "open", SupervisionItem.due_at >= now) >= 1
        assert count(SupervisionItem, SupervisionItem.status == "open", SupervisionItem.due_at < now,
                     SupervisionItem.escalated_at.is_not(None), SupervisionItem.area_id == 1) >= 1
        # Due as the app sets it: the answer window in working days after the day raised.
        days = settings.get(supervision.ANSWER_DAYS.key)
        for raised, due in db.session.execute(select(SupervisionItem.raised_at, SupervisionItem.due_at)):
            assert due == working_deadline(raised, days), raised
        # Evidence on every fourth item, pictures the storage holds; residents follow items.
        evidence = db.session.scalars(select(SupervisionEvidence)).all()
        assert len(evidence) == n["supervision_items"] // 4
        assert all(e.file.is_image and storage.get().exists(e.file.sha256) for e in evidence)
        assert count(SupervisionFollow) >= 1
        # Confirmed falsifications, each with the suspension the adjustment rule proposes.
        confirmed = count(AssessmentVisit, AssessmentVisit.falsification_confirmed_at.is_not(None))
        proposed = count(AdjustmentDecision, AdjustmentDecision.rule == "provider_falsified_report",
                         AdjustmentDecision.status == DecisionStatus.PROPOSED)
        assert 1 <= confirmed == proposed
