"""API router of accord.accounts."""

from ninja import Router

router = Router(tags=["accounts"])
