"""The escalation sweep's SQL does not grow with work already done: executive-level issues
whose people already heard of their deadline cost nothing on later sweeps, and the SLA
hours are read once per sweep, not once per issue (bench/governance.py measures the time)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.accounts.models import User
from accord.governance.models import Issue, Reminder, SeveritySla, Tier
from accord.governance.services import issues
from accord.partners.models import Organisation
from tests.governance.builders import NOW, governed

HOUR = dt.timedelta(hours=1)


def raise_many(actor: User, organisation: Organisation, count: int) -> list[Issue]:
    return [
        issues.raise_issue(
            actor=actor,
            organisation=organisation,
            title=f"Late delivery {n}",
            category=Issue.Category.DELIVERY,
            severity=Issue.Severity.HIGH,
            now=NOW,
        )
        for n in range(count)
    ]


def at_executive_past_deadline(actor: User, organisation: Organisation, count: int) -> dt.datetime:
    """``count`` issues escalated to the executive tier; the time their last deadline passed
    (their people told once, at that time)."""
    raised = raise_many(actor, organisation, count)
    hours = SeveritySla.DEFAULTS["high"][1]
    moment = NOW
    for _tier in (Tier.OPERATIONAL, Tier.EXECUTIVE):
        moment += hours * HOUR
        assert len(issues.escalate_due(now=moment)) == count
    moment += hours * HOUR
    assert issues.escalate_due(now=moment) == []
    assert Reminder.objects.filter(key__startswith="issue:").count() == count
    assert {i.tier for i in Issue.objects.filter(pk__in=[i.pk for i in raised])} == {Tier.EXECUTIVE}
    return moment


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 6])
def test_a_later_sweep_skips_flagged_executive_issues_in_constant_queries(
    partner_a: Organisation, channel_manager: User, count: int
) -> None:
    governed(partner_a, now=NOW)
    moment = at_executive_past_deadline(channel_manager, partner_a, count)
    for later in (moment, moment + 15 * 60 * dt.timedelta(seconds=1), moment + 5 * HOUR):
        with CaptureQueriesContext(connection) as captured:
            assert issues.escalate_due(now=later) == []
        # The overdue issues, the reminders already sent, the SLA rows: whatever ``count``.
        assert len(captured.captured_queries) == 3, [q["sql"] for q in captured]
    assert Reminder.objects.filter(key__startswith="issue:").count() == count


@pytest.mark.django_db
def test_a_new_executive_deadline_is_still_told_once(
    partner_a: Organisation, channel_manager: User
) -> None:
    """Skipping is by deadline: an issue whose resolve_by moves (reopened, or an SLA reset)
    is told again when that new deadline passes."""
    governed(partner_a, now=NOW)
    moment = at_executive_past_deadline(channel_manager, partner_a, 1)
    issue = Issue.objects.get()
    Issue.objects.filter(pk=issue.pk).update(resolve_by=moment + HOUR)
    assert issues.escalate_due(now=moment + 2 * HOUR) == []
    assert Reminder.objects.filter(key__startswith="issue:").count() == 2
    assert issues.escalate_due(now=moment + 3 * HOUR) == []
    assert Reminder.objects.filter(key__startswith="issue:").count() == 2


@pytest.mark.django_db
def test_sla_hours_are_read_once_per_sweep(
    partner_a: Organisation, channel_manager: User, django_assert_max_num_queries: Any
) -> None:
    governed(partner_a, now=NOW)
    SeveritySla.objects.create(severity=Issue.Severity.HIGH, response_hours=2, resolution_hours=5)
    raised = raise_many(channel_manager, partner_a, 4)
    with CaptureQueriesContext(connection) as captured:
        escalated = issues.escalate_due(now=NOW + 5 * HOUR)
    assert sorted(i.pk for i in escalated) == sorted(i.pk for i in raised)
    sla_reads = [q for q in captured.captured_queries if "governance_severitysla" in q["sql"]]
    assert len(sla_reads) == 1
    # The SLA row still decides the next deadline.
    assert {i.resolve_by for i in Issue.objects.all()} == {NOW + 10 * HOUR}
