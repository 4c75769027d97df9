"""Helpers shared by the test files: world-builders (market, delivery, review, figures), small
file makers, and the URL-argument builders of the access tests. Fixtures that hand them out
live in tests/conftest.py."""
