"""OpenSpec trees read straight from disk, agreeing with the official CLI (1.13.2)."""
