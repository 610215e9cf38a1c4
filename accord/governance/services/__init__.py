"""Governance writes, one module per area: structure (relationships, roles, contact map, key
people), continuity (handover, onboarding, enablement), meetings (cadence, records, action
items, calendar), issues (SLAs, escalation, resolution) and health (two-sided checks)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from accord.governance.services import continuity, health, issues, meetings, structure


def run_timers(*, now: dt.datetime) -> dict[str, Any]:
    """Everything the worker's sweep does at ``now``; each part is idempotent."""
    return {
        "relationships": structure.ensure_all_relationships(),
        "issues": issues.run_issue_timers(now=now),
        "meetings": meetings.flag_overdue(now=now),
        "health": health.run_health_timers(now=now),
        "certifications": continuity.warn_expiring_certifications(now=now),
    }
