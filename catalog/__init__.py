"""Catalog: categories and items of the guidance catalog, catalog versions, resident demand."""


def register_blueprints(app):
    from catalog import models  # noqa: F401  (tables known to migrations)
