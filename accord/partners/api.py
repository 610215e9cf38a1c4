"""API router of accord.partners."""

from ninja import Router

router = Router(tags=["partners"])
