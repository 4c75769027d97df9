"""Marketplace tables, one file per aggregate."""

from marketplace.models.providers import (
    DocumentKind,
    Provider,
    ProviderAction,
    ProviderDocument,
    ProviderEvent,
    ProviderKind,
    ProviderStatus,
)

__all__ = ["DocumentKind", "Provider", "ProviderAction", "ProviderDocument", "ProviderEvent", "ProviderKind",
           "ProviderStatus"]
