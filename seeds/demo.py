"""The whole demo district, loaded in the order of the loop: each step builds on the rows of
the one before it. Idempotent: rows that exist are kept."""

from __future__ import annotations

from seeds import catalog, delivery, district, oversight, projects, providers, review, walkthrough


def run_demo(echo):
    district.seed_areas_and_users(echo)
    catalog.seed_catalog(echo)
    providers.seed_demo_providers(echo)
    projects.seed_projects(echo)
    review.seed_demo(echo)
    delivery.seed_delivery(echo)
    oversight.seed_oversight(echo, "officer@huimin.demo", district.DEMO_PASSWORD)


def print_table(echo):
    walkthrough.print_table(echo)
