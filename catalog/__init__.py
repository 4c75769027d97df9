"""Catalog: categories and items of the guidance catalog, catalog versions, resident demand."""


def register_blueprints(app):
    from catalog import admin, api, demand_views, models, seed, views  # noqa: F401  (models: tables for migrations)
    from catalog.display import init_app
    from core.cli import DEMO_SEEDERS, register_demo_seeder

    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(demand_views.bp)
    app.register_blueprint(api.bp)
    init_app(app)
    if not any(fn is seed.seed_catalog for _order, fn in DEMO_SEEDERS):
        register_demo_seeder(10, seed.seed_catalog)
