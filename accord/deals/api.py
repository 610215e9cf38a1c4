"""The deals API under /api/v1/deals/."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["deals"])
