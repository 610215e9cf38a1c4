"""Governance services: continuity (placeholder until it lands)."""
