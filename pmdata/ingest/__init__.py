"""Doors into the database: Claude Code hook events and Playwright JSON reports."""
