"""Residents' ratings and complaints about sessions, providers' replies, officers' reviews."""
