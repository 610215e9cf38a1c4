"""Organisations, contacts, territories and agreements."""
