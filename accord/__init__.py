"""Accord: partner, dealer and supplier relationship management."""

__version__ = "0.1.0"
