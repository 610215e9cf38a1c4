"""Governance services: health (placeholder until it lands)."""
