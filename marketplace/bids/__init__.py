"""Sealed bids: submit, revise, withdraw, the opening (开标), sealing at rest."""
