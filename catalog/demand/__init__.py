"""Residents' demand (点单): requests, supports, officers' decisions and the demand figures."""
