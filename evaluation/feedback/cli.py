"""`flask evaluation recompute` and `flask evaluation apply-due`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from core.db import db, intends_to_write

evaluation_cli = AppGroup("evaluation", help="Performance scores and adjustment rules.")


@evaluation_cli.command("recompute")
@click.option("--no-rules", is_flag=True, help="Only recompute the scores; do not run the adjustment rules.")
@click.option("--check", is_flag=True,
              help="First measure how far the scores updates give now are from the full recompute; exit with "
                   "status 1 when the largest difference is above 0.01 (the recompute is still saved).")
def recompute(no_rules, check):
    """Record missed sessions, recompute every provider's score and every item's satisfaction
    (set-based SQL, one snapshot per provider), then run the adjustment rules."""
    from evaluation.adjustment import operations as adjustment
    from evaluation.performance import operations as performance
    from marketplace.sessions import operations as session_ops

    with intends_to_write():
        missed, by_default = session_ops.record_overdue()
        if check:
            results, report = performance.check_and_recompute()
        else:
            results, report = performance.recompute_all(), None
        made = [] if no_rules else adjustment.evaluate()
        db.session.commit()
    grades = {g: sum(1 for r in results.values() if r.grade == g) for g in "ABCD"}
    click.echo(f"sessions: {missed} recorded missed, {by_default} accepted by default")
    click.echo(f"providers scored: {len(results)} " + " ".join(f"{g}={n}" for g, n in grades.items()))
    click.echo(f"new adjustment proposals: {len(made)}")
    if report is not None:
        if report.largest_difference is None:
            click.echo("check: no kept figures before this recompute (the first since they exist); nothing compared")
        else:
            click.echo(f"check: largest difference {report.largest_difference} (provider {report.provider_id}), "
                       f"kept rows out of date: {report.stale_rows}, stored scores drifted up to "
                       f"{report.largest_drift}")
        if not report.passed:
            raise SystemExit(1)


@evaluation_cli.command("apply-due")
def apply_due():
    """Record missed sessions and let adjustment proposals whose days have passed take effect."""
    from evaluation.adjustment import operations as adjustment
    from marketplace.sessions import operations as session_ops

    with intends_to_write():
        missed, by_default = session_ops.record_overdue()
        applied = adjustment.apply_due()
        db.session.commit()
    click.echo(f"sessions: {missed} recorded missed, {by_default} accepted by default; adjustments applied: {applied}")
