"""Marketplace tables, one file per aggregate."""

from marketplace.models.bids import Bid, BidAttachment, BidOpening, BidRevision, BidStatus
from marketplace.models.projects import (
    OPENED_STATES,
    PUBLIC_STATES,
    TRANSITIONS,
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
    "OPENED_STATES",
    "PUBLIC_STATES",
    "TRANSITIONS",
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
