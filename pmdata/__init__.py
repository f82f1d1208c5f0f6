"""pmdata: the pmdash library: specs on disk, failures and agent sessions in the homelab DB."""

__version__ = "0.1.0"
