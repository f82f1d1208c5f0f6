"""Deterministic demo data: OpenSpec trees for a few projects and a filled homelab database."""

from pmdata.demo.build import DemoPlan, build_demo

__all__ = ["DemoPlan", "build_demo"]
