"""`make bench`: the full performance recompute beside the bare GROUP BY, and the incremental update.

Run alone on a copy of a scale database (it commits one full recompute when the kept figures are
missing, as a running district has them after its nightly run):

    .venv/bin/python -m tools.bench.scores sqlite:///$PWD/bench/out/scale-1.0.db --profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import time

from tools.bench.common import OUT, load

HALF_LIFE = 180


def _decay_sql(dialect: str) -> str:
    """The model's decay-weighted GROUP BY over counted ratings written by hand (Σw, Σw·stars per
    provider): what the database itself needs for the ratings part of the score."""
    if dialect == "sqlite":
        age = "(julianday('now') - julianday(created_at))"
    else:
        age = "((extract(epoch from now()) - extract(epoch from created_at)) / 86400.0)"
    w = f"exp(:k * {age})"
    return (f"SELECT provider_id, count(*), sum({w}), sum({w} * (content + organisation + venue) / 3.0) "
            "FROM ratings WHERE status = 'counted' GROUP BY provider_id")


class _Statements:
    """Counts the SQL statements run while it is active."""

    def __init__(self, engine):
        self.engine, self.n = engine, 0

    def _count(self, *_a, **_k):
        self.n += 1

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._count)


def recompute_figures(app, runs: int = 3, profile_to=None) -> dict:
    """Full recompute vs a bare GROUP BY over the same ratings; then one new rating's update, with
    the district's figures summed from the kept rows (exact at that moment), checked against the
    full computation. `profile_to`: a path for the cProfile text of one more recompute."""
    from sqlalchemy import insert, select, text

    from core.db import db, utcnow
    from evaluation.feedback.models import Rating
    from evaluation.performance import operations as performance
    from marketplace.sessions.models import ServiceSession

    full, bare, bare_decay, incr, statements = [], [], [], [], []
    # CPU time of this process beside the wall clock: on SQLite it includes the database's own work,
    # and it is what a loaded machine does not distort.
    cpu_full, cpu_decay, cpu_incr = [], [], []
    with app.app_context():
        dialect = db.session.get_bind().dialect.name
        bare_sql = text("SELECT provider_id, count(*), sum(content + organisation + venue) FROM ratings "
                        "WHERE status = 'counted' GROUP BY provider_id")
        bare_decay_sql = text(_decay_sql(dialect)).bindparams(k=-0.6931471805599453 / HALF_LIFE)
        for _ in range(runs):
            t0 = time.perf_counter()
            db.session.execute(bare_sql).all()
            bare.append(time.perf_counter() - t0)
            t0, c0 = time.perf_counter(), time.process_time()
            db.session.execute(bare_decay_sql).all()
            bare_decay.append(time.perf_counter() - t0)
            cpu_decay.append(time.process_time() - c0)
            db.session.rollback()
            t0, c0 = time.perf_counter(), time.process_time()
            results = performance.recompute_all()
            full.append(time.perf_counter() - t0)
            cpu_full.append(time.process_time() - c0)
            db.session.rollback()
        if profile_to is not None:
            prof = cProfile.Profile()
            prof.enable()
            performance.recompute_all()
            prof.disable()
            db.session.rollback()
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(60)
            profile_to.write_text(buf.getvalue())
        # A running district has had its nightly recompute, which keeps every provider's figures:
        # without them an update would read the district from the tables (exact, but a scan).
        if not performance.figures_kept():
            performance.recompute_all()
            db.session.commit()
        # The path a resident's rating takes (evaluation.feedback.operations.rate), after the insert.
        session = db.session.scalar(select(ServiceSession).where(ServiceSession.state == "confirmed")
                                    .order_by(ServiceSession.id.desc()).limit(1))
        taken = set(db.session.scalars(select(Rating.resident_id).where(Rating.session_id == session.id)))
        resident = db.session.scalar(text("SELECT user_id FROM user_roles WHERE role = 'resident' "
                                          "ORDER BY user_id LIMIT 1 OFFSET :n"), {"n": len(taken) + 1})
        diff = None
        for k in range(runs):
            now = utcnow()
            db.session.execute(insert(Rating).values(
                session_id=session.id, provider_id=session.provider_id, item_id=session.item_id,
                resident_id=resident, content=5, organisation=4, venue=5, created_at=now, updated_at=now))
            with _Statements(db.engine) as counted:
                t0, c0 = time.perf_counter(), time.process_time()
                got = performance.update_provider(session.provider_id, "rating", now, item_ids=[session.item_id])
                incr.append(time.perf_counter() - t0)
                cpu_incr.append(time.process_time() - c0)
            statements.append(counted.n)
            if k == 0:  # the promise itself: the update gives what a full recompute at that moment gives
                diff = abs(got.score - performance.full_results(now)[session.provider_id].score)
            db.session.rollback()
    return {"full_s": round(min(full), 3), "full_runs": [round(x, 3) for x in full],
            "bare_group_by_s": round(min(bare), 3), "bare_runs": [round(x, 3) for x in bare],
            "ratio": round(min(full) / min(bare), 2), "providers": len(results),
            "bare_decay_s": round(min(bare_decay), 3), "bare_decay_runs": [round(x, 3) for x in bare_decay],
            "ratio_to_decay": round(min(full) / min(bare_decay), 2),
            "incremental_ms": round(1000 * min(incr), 1), "incremental_runs_ms": [round(1000 * x, 1) for x in incr],
            "incremental_statements": max(statements), "incremental_vs_full_difference": str(diff),
            "cpu": {"full_s": round(min(cpu_full), 3), "bare_decay_s": round(min(cpu_decay), 3),
                    "ratio_to_decay": round(min(cpu_full) / min(cpu_decay), 2) if min(cpu_decay) else None,
                    "incremental_ms": round(1000 * min(cpu_incr), 1)},
            "dialect": dialect, "load": load()}


def main():
    ap = argparse.ArgumentParser(description="The recompute and the incremental update on one database.")
    ap.add_argument("database_url", help="e.g. sqlite:///$PWD/bench/out/scale-1.0.db (a copy: it commits one "
                                         "recompute when the kept figures are missing)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", action="store_true",
                    help="also write bench/out/profile-recompute-<sqlite|postgresql>.txt")
    args = ap.parse_args()
    from tools.bench.floor import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "RATELIMIT_ENABLED": False})
    kind = "sqlite" if args.database_url.startswith("sqlite") else "postgresql"
    OUT.mkdir(parents=True, exist_ok=True)
    res = recompute_figures(app, args.runs, OUT / f"profile-recompute-{kind}.txt" if args.profile else None)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
