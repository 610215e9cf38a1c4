"""Background jobs of accord.governance: the sweep that escalates issues past their SLA,
flags overdue meetings, action items and responses, and warns of expiring certifications."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django_tasks import task

from accord.governance import services

PATH = "accord.governance.tasks.governance_timers"
SWEEP_MINUTES = 15


@task()
def governance_timers() -> dict[str, Any]:
    """Run every governance timer due now, then enqueue the next sweep in 15 minutes."""
    now = timezone.now()
    done = services.run_timers(now=now)
    governance_timers.using(run_after=now + dt.timedelta(minutes=SWEEP_MINUTES)).enqueue()
    return done
