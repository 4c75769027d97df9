"""Builders of URL arguments for the route × role test, filled by the modules of tests/support/access.

A builder takes a context dict (`users` by role, `session`, `make_user`) and returns the
value for one argument name. Objects it makes belong to none of the role users, so an
owner-only page answers as it would to a stranger.
"""

BUILDERS: dict[str, object] = {}
# Endpoints that may refuse an allowed role with 403 for object-level reasons (ownership,
# jurisdiction) when shown another user's object.
OBJECT_GUARDED: set[str] = set()


def builds(*names):
    def register(fn):
        for n in names:
            BUILDERS[n] = fn
        return fn

    return register
