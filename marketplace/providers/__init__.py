"""Providers (承接主体): registration, documents, officers' review, suspension."""
