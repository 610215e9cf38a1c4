"""Governance services: structure (placeholder until it lands)."""
