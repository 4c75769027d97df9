"""Marketplace tables, one file per aggregate."""

from marketplace.models.bids import Bid, BidAttachment, BidOpening, BidRevision, BidStatus
from marketplace.models.contracts import (
    Award,
    AwardStatus,
    Challenge,
    ChallengeAttachment,
    ChallengeOutcome,
    ChallengeStatus,
    Contract,
    ContractLine,
    ContractState,
    PaymentMilestone,
)
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
    "Award",
    "AwardStatus",
    "Bid",
    "BidAttachment",
    "BidOpening",
    "BidRevision",
    "BidStatus",
    "Challenge",
    "ChallengeAttachment",
    "ChallengeOutcome",
    "ChallengeStatus",
    "Clarification",
    "Contract",
    "ContractLine",
    "ContractState",
    "Criterion",
    "CriterionKind",
    "IllegalTransition",
    "PaymentMilestone",
    "ProjectLine",
    "ProjectMethod",
    "ProjectState",
    "Provider",
    "ProviderKind",
    "ProviderStatus",
    "PurchaseProject",
]
