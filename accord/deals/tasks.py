"""Background jobs of accord.deals: the hourly timers that expire protection windows and send
the approval-SLA and expiry reminders."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from accord.deals.services import run_timers

PATH = "accord.deals.tasks.deal_timers"


@task()
def deal_timers() -> dict[str, int]:
    """Run the timers now, then enqueue the next run at the start of the next hour."""
    now = timezone.now()
    done = run_timers(now)
    next_hour = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    deal_timers.using(run_after=next_hour).enqueue()
    return done
