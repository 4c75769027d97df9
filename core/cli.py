"""Command-line: users, the audit chain, backups."""

from __future__ import annotations

import json
import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from core import audit
from core.accounts import operations as accounts
from core.accounts.models import Role
from core.areas.models import Area
from core.db import db, intends_to_write
from core.errors import DomainError

users_cli = AppGroup("users", help="Manage user accounts.")
audit_cli = AppGroup("audit", help="Check and export the audit chain.")



@users_cli.command("create")
@click.argument("login")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default="", help="Display name (defaults to the login).")
@click.option("--jurisdiction", default=None, help="Area code of an officer's jurisdiction.")
@click.option("--community", default=None, help="Area code of a resident's community.")
def create_user_command(login, roles, name, jurisdiction, community):
    """Create a user; the password is read from standard input."""
    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else click.prompt(
        "Password", hide_input=True, confirmation_prompt=True)

    def area(code):
        if code is None:
            return None
        a = db.session.scalar(select(Area).where(Area.code == code))
        if a is None:
            raise click.ClickException(f"unknown area code {code}")
        return a

    with intends_to_write():
        try:
            user = accounts.create_user(login=login, name=name or login, password=password, roles=roles,
                                        jurisdiction=area(jurisdiction), community=area(community))
        except DomainError as e:
            db.session.rollback()
            raise click.ClickException(f"{e.field or 'error'}: {e.message}") from None
        db.session.commit()
    click.echo(f"created user {user.login} with roles {', '.join(sorted(user.roles))}")


@audit_cli.command("verify")
def audit_verify():
    """Check every event's hash and link; name the first broken one."""
    try:
        count = audit.verify()
    except audit.ChainBroken as e:
        click.echo(f"audit chain BROKEN at {e.where}: {e.reason}", err=True)
        sys.exit(1)
    click.echo(f"audit chain ok: {count} events")


@audit_cli.command("head")
def audit_head():
    """Print the chain head (sequence number and hash) as JSON, for anchoring elsewhere."""
    click.echo(json.dumps(audit.head()))




def register(app: Flask):
    from core.backup import backup_cli

    app.cli.add_command(backup_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
