"""``accord worker`` on the real database task backend runs the governance sweep: an issue
past its resolution deadline climbs a tier (both sides told), an overdue meeting is flagged,
and the sweep enqueues itself again 15 minutes on; a second run changes nothing."""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accord.accounts.models import Role
from accord.accounts.roles import sync_builtin_roles
from accord.governance.models import Issue, IssueEvent, Meeting, Tier
from accord.governance.services import issues
from accord.governance.tasks import PATH
from accord.partners.models import Organisation
from tests.factories import OrganisationFactory
from tests.governance.builders import governed


@pytest.fixture
def signals() -> Iterator[None]:
    """db_worker installs its own SIGINT/SIGTERM handlers; give pytest its own back."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.fixture(autouse=True)
def roles(transactional_db: None, settings) -> None:
    """A transactional test before this one flushed the migration-seeded roles: seed them
    again; only the governance sweep is started (the other apps' chains are their tests')."""
    sync_builtin_roles(Role)
    settings.ACCORD_PERIODIC_TASKS = [PATH]


def worker() -> str:
    out = StringIO()
    call_command("worker", "--batch", "--no-startup-delay", stdout=out, stderr=out)
    return out.getvalue()


def ready() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=PATH, status=TaskResultStatus.READY))


@pytest.mark.django_db(transaction=True)
def test_the_worker_escalates_an_overdue_issue_and_reschedules_itself(signals: None) -> None:
    Organisation.objects.vendor()
    partner = OrganisationFactory(name="Overdue Partner")
    made = governed(partner)
    operational = made["slots"][Tier.OPERATIONAL]
    operational.partner_contact.email = "ops@overdue.test"
    operational.partner_contact.save()
    raised_at = timezone.now() - dt.timedelta(hours=73)  # high: 72 hours per tier
    issue = issues.raise_issue(
        actor=None,
        organisation=partner,
        title="Stock-outs",
        category=Issue.Category.DELIVERY,
        severity=Issue.Severity.HIGH,
        now=raised_at,
    )
    missed = Meeting.objects.create(
        organisation=partner,
        title="Missed review",
        tier=Tier.OPERATIONAL,
        starts_at=timezone.now() - dt.timedelta(days=30),
    )
    missed.attendees.add(operational.partner_contact)
    mail.outbox.clear()

    output = worker()

    assert f"scheduled {PATH}" in output
    issue.refresh_from_db()
    assert issue.tier == Tier.OPERATIONAL and issue.escalations == 1
    event = issue.events.get(kind=IssueEvent.Kind.ESCALATED)
    assert operational.partner_contact_id in event.data["notified"]
    assert operational.vendor_contact_id in event.data["notified"]
    assert any("ops@overdue.test" in message.to for message in mail.outbox)
    missed.refresh_from_db()
    assert missed.overdue_notified_at is not None
    (done,) = DBTaskResult.objects.filter(task_path=PATH, status=TaskResultStatus.SUCCESSFUL)
    assert done.return_value["issues"]["escalated"] == [issue.pk]
    assert done.return_value["meetings"]["meetings"] == 1
    (sweep,) = ready()
    assert timezone.now() + dt.timedelta(minutes=14) < sweep.run_after
    assert sweep.run_after <= timezone.now() + dt.timedelta(minutes=15)

    # Run again: the next sweep is not due, nothing changes, nothing is enqueued twice.
    worker()
    issue.refresh_from_db()
    assert issue.tier == Tier.OPERATIONAL and issue.events.count() == 3
    assert [t.pk for t in ready()] == [sweep.pk]

    # The sweep when due again (its run_after moved back): still nothing to escalate.
    DBTaskResult.objects.filter(pk=sweep.pk).update(run_after=timezone.now())
    worker()
    issue.refresh_from_db()
    assert issue.escalations == 1
    assert issue.events.filter(kind=IssueEvent.Kind.ESCALATED).count() == 1
