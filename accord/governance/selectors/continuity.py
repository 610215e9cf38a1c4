"""Governance reads: continuity (placeholder until it lands)."""
