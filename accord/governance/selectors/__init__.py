"""Governance reads, one module per area, each calling restrict."""
