"""API router for the audit log."""

from ninja import Router

router = Router(tags=["audit"])
