"""Catalog: categories and items of the guidance catalog, catalog versions, resident demand."""


def init_app(app):
    from catalog.demand import views as demand_views
    from catalog.items import admin_views, api, display, views

    app.register_blueprint(views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(demand_views.bp)
    app.register_blueprint(api.bp)
    display.init_app(app)
