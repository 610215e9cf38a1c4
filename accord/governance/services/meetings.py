"""Governance services: meetings (placeholder until it lands)."""
