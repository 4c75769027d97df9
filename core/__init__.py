"""Core: database, accounts and roles, permissions, audit log, areas and venues, shared helpers."""


def register_blueprints(app):
    from core import (  # noqa: F401  (uploads: its table)
        admin,
        api,
        api_docs,
        auth,
        bench_views,
        calendar_admin,
        exports,
        jobs,
        main,
        nav,
        qr,
        reports,
        uploads,
    )

    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_docs.bp)
    app.register_blueprint(calendar_admin.bp)
    app.register_blueprint(reports.bp)
    jobs.init_app(app)
    app.register_blueprint(bench_views.bp)
    app.jinja_env.globals["nav_items"] = nav.items_for_current_user
    qr.init_app(app)
    app.jinja_env.globals["export_url"] = exports.export_url
