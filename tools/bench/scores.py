"""`make bench`: the full performance recompute beside the bare GROUP BY, and the incremental update."""

from __future__ import annotations

import time

from tools.bench.common import load


def recompute_figures(app, runs: int = 3) -> dict:
    """Full recompute vs a bare GROUP BY over the same ratings; then one new rating's update."""
    from sqlalchemy import insert, select, text

    from core.db import db
    from evaluation.feedback.models import Rating
    from evaluation.performance import operations as performance
    from evaluation.performance.models import PerformanceRun
    from marketplace.sessions.models import ServiceSession

    bare_sql = text("SELECT provider_id, count(*), sum(content + organisation + venue) FROM ratings "
                    "WHERE status = 'counted' GROUP BY provider_id")
    # The same GROUP BY with the model's decay weights (Σw, Σw·stars) written by hand: what the
    # database itself needs for the ratings part of the score.
    half_life = 180
    bare_decay_sql = text(
        "SELECT provider_id, count(*), sum(exp(:k * (julianday('now') - julianday(created_at)))), "
        "sum(exp(:k * (julianday('now') - julianday(created_at))) * (content + organisation + venue) / 3.0) "
        "FROM ratings WHERE status = 'counted' GROUP BY provider_id").bindparams(k=-0.6931471805599453 / half_life)
    full, bare, bare_decay, incr = [], [], [], []
    with app.app_context():
        for _ in range(runs):
            t0 = time.perf_counter()
            db.session.execute(bare_sql).all()
            bare.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            db.session.execute(bare_decay_sql).all()
            bare_decay.append(time.perf_counter() - t0)
            db.session.rollback()
            t0 = time.perf_counter()
            results = performance.recompute_all()
            full.append(time.perf_counter() - t0)
            db.session.rollback()
        # A running district has had its nightly full recompute: the incremental update takes the
        # district figures from the latest performance run (made once, kept).
        if db.session.scalar(select(PerformanceRun.id).limit(1)) is None:
            performance.recompute_all()
            db.session.commit()
        # The path a resident's rating takes (evaluation.ratings._rescore), after the insert.
        session = db.session.scalar(select(ServiceSession).where(ServiceSession.state == "confirmed")
                                    .order_by(ServiceSession.id.desc()).limit(1))
        taken = set(db.session.scalars(select(Rating.resident_id).where(Rating.session_id == session.id)))
        resident = db.session.scalar(text("SELECT user_id FROM user_roles WHERE role = 'resident' "
                                          "ORDER BY user_id LIMIT 1 OFFSET :n"), {"n": len(taken) + 1})
        for _ in range(runs):
            db.session.execute(insert(Rating).values(
                session_id=session.id, provider_id=session.provider_id, item_id=session.item_id,
                resident_id=resident, content=5, organisation=4, venue=5))
            t0 = time.perf_counter()
            performance.update_provider(session.provider_id, "rating", item_ids=[session.item_id])
            incr.append(time.perf_counter() - t0)
            db.session.rollback()
    return {"full_s": round(min(full), 3), "full_runs": [round(x, 3) for x in full],
            "bare_group_by_s": round(min(bare), 3), "bare_runs": [round(x, 3) for x in bare],
            "ratio": round(min(full) / min(bare), 2), "providers": len(results),
            "bare_decay_s": round(min(bare_decay), 3), "ratio_to_decay": round(min(full) / min(bare_decay), 2),
            "incremental_ms": round(1000 * min(incr), 1), "incremental_runs_ms": [round(1000 * x, 1) for x in incr],
            "load": load()}
