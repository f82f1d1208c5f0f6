"""Triage: history, fingerprints, rules, the service that writes decisions, proposals."""
