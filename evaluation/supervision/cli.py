"""`flask supervision escalate`: overdue supervision items go to the district (run daily)."""

from __future__ import annotations

from flask.cli import AppGroup

from core.db import db, intends_to_write

supervision_cli = AppGroup("supervision", help="Supervision items.")


@supervision_cli.command("escalate")
def escalate():
    """Escalate every open item past its working-day deadline to the district."""
    import click

    from evaluation.supervision import operations as supervision

    with intends_to_write():
        items = supervision.escalate_overdue()
        db.session.commit()
    click.echo(f"escalated: {len(items)}")
