"""Background jobs of accord.leads: the recall timer of each offer (run at its acceptance
deadline) and the periodic sweep that recalls whatever offer is overdue."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from accord.leads import services

PATH = "accord.leads.tasks.recall_overdue_leads"
SWEEP_MINUTES = 15


@task()
def recall_lead(lead_id: int) -> str | None:
    """At an offer's deadline: recall and re-route the lead if it is still waiting (nothing
    when it was accepted, declined or re-offered with a later deadline meanwhile)."""
    lead = services.recall_lead(lead_id=lead_id)
    return None if lead is None else lead.status


@task()
def recall_overdue_leads() -> list[int]:
    """Recall every overdue offer (in case a timer was lost), then enqueue the next sweep
    in 15 minutes."""
    now = timezone.now()
    recalled = [lead.pk for lead in services.recall_overdue(now)]
    recall_overdue_leads.using(run_after=now + dt.timedelta(minutes=SWEEP_MINUTES)).enqueue()
    return recalled
