"""Governance reads: structure (placeholder until it lands)."""
