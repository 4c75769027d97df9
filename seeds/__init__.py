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
        """Load the demo district (idempotent) and print the demo logins."""
        from seeds.demo import run_demo

        with intends_to_write():
            run_demo(click.echo)
            db.session.commit()

    @group.command("demo-if-empty")
    def seed_demo_if_empty():
        """Load the demo district only into a database that has no users yet (used by `make run`)."""
        from core.accounts.models import User
        from seeds.demo import run_demo

        if db.session.scalar(select(User.id).limit(1)) is not None:
            click.echo("database has users; demo data not loaded")
            return
        with intends_to_write():
            run_demo(click.echo)
            db.session.commit()

    group.add_command(scale_command)
    return group
