"""The whole demo district, loaded in the order of the loop: each step builds on the rows of
the one before it. Idempotent: rows that exist are kept."""

from __future__ import annotations

from seeds import catalog, delivery, district, oversight, projects, providers, review


def run_demo(echo):
    demo_users = district.seed_areas_and_users(echo)
    catalog.seed_catalog(echo)
    providers.seed_demo_providers(echo)
    projects.seed_projects(echo)
    review.seed_demo(echo)
    delivery.seed_delivery(echo)
    oversight.seed_oversight(echo, "officer@huimin.demo", district.DEMO_PASSWORD)
    echo("")
    echo(f"Demo logins (password for all: {district.DEMO_PASSWORD})")
    for login, name, roles, *_rest in demo_users:
        echo(f"  {', '.join(r.value for r in roles):10s} {login:24s} {name}")
