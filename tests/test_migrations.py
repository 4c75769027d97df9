"""The schema is made only by migrations, and they match the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from core.db import db


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(ctx, db.metadata)
    assert diff == [], f"models changed without a migration: {diff}"


def test_single_migration_head(app):
    with app.app_context():
        migrate = app.extensions["migrate"]
        config = migrate.migrate.get_config(migrate.directory)
        heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"migrations have several heads: {heads}"
