"""Typed errors whose message tells a person what is wrong and how to fix it."""


class PmdashError(Exception):
    """Base for every error pmdash reports to a person (the CLI prints it on one line)."""


class SettingsError(PmdashError):
    """A setting is missing or has a value pmdash cannot use."""


class StoreError(PmdashError):
    """The SQLite database is missing, unreadable, corrupt or lacks the expected tables."""


class QueryError(PmdashError):
    """A named query does not exist, or its parameters are wrong."""
