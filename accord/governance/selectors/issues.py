"""Governance reads: issues (placeholder until it lands)."""
