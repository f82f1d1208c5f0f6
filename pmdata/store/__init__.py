"""The homelab SQLite database: its contract, our additive migrations, and connections to it."""

from pmdata.store.database import Store, check_database, open_engine
from pmdata.store.migrations import migrate, revert

__all__ = ["Store", "check_database", "migrate", "open_engine", "revert"]
