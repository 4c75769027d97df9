"""Marketplace tables, one file per aggregate."""

from marketplace.models.bids import Bid, BidAttachment, BidOpening, BidRevision, BidStatus
from marketplace.models.projects import (
    Clarification,
    Criterion,
    CriterionKind,
    IllegalTransition,
    ProjectLine,
    ProjectMethod,
    ProjectState,
    PurchaseProject,
)
from marketplace.models.providers import Provider, ProviderKind, ProviderStatus

__all__ = [
    "Bid",
    "BidAttachment",
    "BidOpening",
    "BidRevision",
    "BidStatus",
    "Clarification",
    "Criterion",
    "CriterionKind",
    "IllegalTransition",
    "ProjectLine",
    "ProjectMethod",
    "ProjectState",
    "Provider",
    "ProviderKind",
    "ProviderStatus",
    "PurchaseProject",
]
