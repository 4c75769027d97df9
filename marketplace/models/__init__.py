"""Marketplace tables, one file per aggregate."""

from marketplace.models.providers import Provider, ProviderKind, ProviderStatus

__all__ = ["Provider", "ProviderKind", "ProviderStatus"]
