"""REST endpoints of accord.governance (mounted under /api/v1/)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["governance"])
