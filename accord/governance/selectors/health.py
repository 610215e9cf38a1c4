"""Governance reads: health (placeholder until it lands)."""
