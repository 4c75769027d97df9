"""URL arguments of every registered rule, for the route × role matrix and the object walk.

Each module here registers builders with `@builds("name")` in `registry.BUILDERS`; importing
this package imports them all, so `BUILDERS` is complete whichever test asks first. A new
module must be added to the import below (tests/test_access.py checks that none is missed).
"""

from tests.support.access import (  # noqa: F401 — imported for the builders they register
    assessment,
    catalog,
    core,
    delivery,
    evaluation,
    infra,
    jobs,
    projects,
    providers,
)
from tests.support.access.registry import BUILDERS, OBJECT_GUARDED, builds

__all__ = ["BUILDERS", "OBJECT_GUARDED", "builds", "rules"]


def rules(app):
    """(rule, method) for every URL rule of the app but the static files, in a stable order."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method
