"""Governance reads: meetings (placeholder until it lands)."""
