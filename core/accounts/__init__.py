"""Accounts: users and roles, the password rule, sign-in and registration, API tokens."""
