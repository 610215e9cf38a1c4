"""REST endpoints of accord.programs (mounted under /api/v1/)."""

from ninja import Router

router = Router(tags=["programs"])
