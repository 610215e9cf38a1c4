"""``accord worker`` on the real database task backend recalls an overdue offer (its timer
enqueued on commit with run_after = accept_by) and re-offers the lead to another partner;
the periodic sweep recalls what is overdue and enqueues itself again 15 minutes on."""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accord.accounts.models import Role
from accord.accounts.roles import sync_builtin_roles
from accord.leads import services
from accord.leads.models import Lead, RoutingEvent
from accord.leads.tasks import PATH
from tests.factories import OrganisationFactory

TIMER = "accord.leads.tasks.recall_lead"


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
    again; only the leads sweep is started (the other apps' chains are their tests')."""
    sync_builtin_roles(Role)
    settings.ACCORD_PERIODIC_TASKS = [PATH]


def worker() -> str:
    out = StringIO()
    call_command("worker", "--batch", "--no-startup-delay", stdout=out, stderr=out)
    return out.getvalue()


def ready(path: str) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=path, status=TaskResultStatus.READY))


def offer_overdue() -> tuple[Lead, dt.datetime]:
    """A lead offered 49 hours ago (SLA 48 hours): its timer is due now."""
    OrganisationFactory(name="First")
    OrganisationFactory(name="Second")
    offered_at = timezone.now() - dt.timedelta(hours=49)
    lead = services.create_lead(actor=None, data={"company_name": "Acme"}, now=offered_at)
    assert lead.status == Lead.Status.OFFERED
    return lead, offered_at


@pytest.mark.django_db(transaction=True)
def test_the_worker_recalls_an_overdue_offer_and_reoffers_it(signals: None) -> None:
    lead, _offered_at = offer_overdue()
    first = lead.assigned_to_id
    (timer,) = ready(TIMER)
    assert timer.run_after == lead.accept_by and timer.args_kwargs["args"] == [lead.pk]

    output = worker()

    assert f"scheduled {PATH}" in output
    lead.refresh_from_db()
    assert lead.status == Lead.Status.OFFERED and lead.assigned_to_id not in (None, first)
    assert list(lead.events.values_list("kind", "organisation_id")) == [
        ("offered", first),
        ("recalled", first),
        ("offered", lead.assigned_to_id),
    ]
    assert lead.accept_by > timezone.now() + dt.timedelta(hours=47)
    done = DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL)
    assert {task.task_path for task in done} == {TIMER, PATH}
    # The new offer's timer waits for its own deadline; the sweep waits 15 minutes.
    (waiting,) = ready(TIMER)
    assert waiting.run_after == lead.accept_by and waiting.args_kwargs["args"] == [lead.pk]
    (sweep,) = ready(PATH)
    assert timezone.now() + dt.timedelta(minutes=14) < sweep.run_after
    assert sweep.run_after <= timezone.now() + dt.timedelta(minutes=15)

    # Run again: nothing is due, nothing changes, nothing is enqueued twice.
    worker()
    lead.refresh_from_db()
    assert lead.events.count() == 3
    assert [t.pk for t in ready(TIMER)] == [waiting.pk]
    assert [t.pk for t in ready(PATH)] == [sweep.pk]


@pytest.mark.django_db(transaction=True)
def test_the_sweep_recalls_an_offer_whose_timer_was_lost(signals: None) -> None:
    lead, _offered_at = offer_overdue()
    DBTaskResult.objects.filter(task_path=TIMER).delete()  # e.g. a queue restored from backup

    worker()

    lead.refresh_from_db()
    assert lead.events.filter(kind=RoutingEvent.Kind.RECALLED).count() == 1
    assert lead.status == Lead.Status.OFFERED and lead.offers == 2
    (sweep,) = DBTaskResult.objects.filter(task_path=PATH, status=TaskResultStatus.SUCCESSFUL)
    assert sweep.return_value == [lead.pk]
