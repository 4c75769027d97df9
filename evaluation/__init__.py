"""Evaluation: expert database and panels, the review; ratings, complaints, performance scores
and adjustment rules; the district's figures, reports and dashboards; the public portal."""


def init_app(app):
    from catalog import signals as catalog_hooks
    from core.site import views as site_views
    from evaluation.experts import views as expert_views
    from evaluation.feedback import api as feedback_api
    from evaluation.feedback import cli as feedback_cli
    from evaluation.feedback import operations as ratings
    from evaluation.feedback import views as feedback_views
    from evaluation.portal import views as portal_views
    from evaluation.reporting import briefing, dashboard
    from evaluation.reporting import views as report_views
    from evaluation.review import api as review_api
    from evaluation.review import operations as review
    from evaluation.review import views as review_views
    from marketplace.sessions import views as session_views

    app.register_blueprint(review_views.bp)
    app.register_blueprint(expert_views.bp)
    app.register_blueprint(review_api.bp)
    review.register_hooks()

    app.register_blueprint(feedback_views.bp)
    app.register_blueprint(feedback_views.perf)
    app.register_blueprint(feedback_api.bp)
    app.cli.add_command(feedback_cli.evaluation_cli)
    ratings.register_hooks()
    if feedback_views.session_panel not in session_views.SESSION_PANELS:
        session_views.SESSION_PANELS.append(feedback_views.session_panel)
    catalog_hooks.register_item_section("satisfaction", feedback_views.item_section)

    app.register_blueprint(dashboard.bp)
    app.cli.add_command(briefing.reports_cli)
    report_views.register(app)

    app.register_blueprint(portal_views.bp)
    if portal_views.landing not in site_views.LANDING_PAGES:
        site_views.LANDING_PAGES.append(portal_views.landing)
