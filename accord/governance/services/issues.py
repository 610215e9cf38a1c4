"""Governance services: issues (placeholder until it lands)."""
