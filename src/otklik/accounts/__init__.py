"""Accounts: users, roles, scopes, sessions and API tokens."""
