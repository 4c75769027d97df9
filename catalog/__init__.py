"""Catalog: categories and items of the guidance catalog, catalog versions, resident demand."""

from flask_babel import lazy_gettext as _l


def init_app(app):
    from catalog.demand import views as demand_views
    from catalog.items import admin_views, api, display, views
    from catalog.versions import operations as versions
    from core import nav, settings
    from core import versions as data_versions

    app.register_blueprint(views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(demand_views.bp)
    app.register_blueprint(api.bp)
    display.init_app(app)
    data_versions.watch(app, *views.CATALOG_TABLES)
    settings.add(app, versions.PUBLICITY_DAYS)
    nav.add(app, "catalog.index", _l("Guidance catalog"), order=10, group="catalog")
    nav.add(app, "demand.community", _l("Requests in my community"), order=19, group="catalog")
    nav.add(app, "demand.mine", _l("My requests"), order=20, group="catalog")
    nav.add(app, "catalog_admin.items", _l("Catalog admin"), order=30, group="catalog")
    nav.add(app, "demand.officer_list", _l("Demand requests"), order=31, group="catalog")
    nav.add(app, "demand.dashboard", _l("Demand dashboard"), order=32, group="catalog")
