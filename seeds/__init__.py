"""Demo and scale data: the `flask seed` commands. This package sits above the four domain
packages and may import any of them; none of them imports it."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from core.db import db, intends_to_write


def init_app(app: Flask) -> None:
    app.cli.add_command(_seed_cli())


def _seed_cli() -> AppGroup:
    from seeds.scale import scale_command

    group = AppGroup("seed", help="Load demo or scale data.")

    @group.command("demo")
    def seed_demo():
        """Load the demo district (idempotent) and print where to walk each step of the loop."""
        _load_demo()

    @group.command("demo-if-empty")
    def seed_demo_if_empty():
        """Load the demo district only into a database that has no users yet (used by `make run`)."""
        from core.accounts.models import User

        if db.session.scalar(select(User.id).limit(1)) is not None:
            click.echo("database has users; demo data not loaded")
            return
        _load_demo()

    group.add_command(scale_command)
    return group


def _load_demo():
    """Seed, commit, then print the walk-through table last. The hundreds of audit lines the
    seed's commit would log are kept out of the terminal (they stay in the audit log)."""
    import logging

    from flask import current_app

    from seeds.demo import print_table, run_demo

    audit_log = logging.getLogger(current_app.logger.name + ".audit")
    level = audit_log.level
    audit_log.setLevel(logging.WARNING)
    try:
        with intends_to_write():
            run_demo(click.echo)
            db.session.commit()
    finally:
        audit_log.setLevel(level)
    print_table(click.echo)
