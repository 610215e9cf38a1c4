"""REST endpoints of the notification inbox (mounted under /api/v1/)."""

from ninja import Router

router = Router(tags=["notifications"])
