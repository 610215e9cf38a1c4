"""``accord worker`` on the real database task backend: it starts the periodic chain, the
daily check evaluates and applies every scheduled program that is due, moves its next
evaluation one cadence on and enqueues the next check for tomorrow 01:00 UTC."""

from __future__ import annotations

import datetime as dt
import importlib
import signal
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accord.core.tasks import ensure_periodic
from accord.programs.models import EvaluationRun, Membership
from accord.programs.tasks import PATH
from tests.programs.builders import ladder, make_program, partners, sell

DUE = dt.date(2025, 12, 31)


@pytest.fixture
def signals() -> Iterator[None]:
    """db_worker installs its own SIGINT/SIGTERM handlers; give pytest its own back."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.fixture(autouse=True)
def builtin_metrics(transactional_db: None) -> None:
    """A transactional test that ran before this one on the same worker flushed the tables,
    the migration-seeded metrics with them: seed them again (idempotent)."""
    from django.apps import apps

    seed = importlib.import_module("accord.metrics.migrations.0002_builtin_metrics").seed
    seed(apps, None)


def worker() -> str:
    out = StringIO()
    call_command("worker", "--batch", "--no-startup-delay", stdout=out, stderr=out)
    return out.getvalue()


def ready() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(status=TaskResultStatus.READY))


@pytest.mark.django_db(transaction=True)
def test_worker_applies_the_due_program_and_schedules_the_next_check(
    signals: None, settings: Any
) -> None:
    settings.ACCORD_PERIODIC_TASKS = [PATH]  # this program chain alone
    big, small = partners(2, kind="reseller")
    sell(big, dt.date(2025, 6, 1), 6000)  # gold (≥ 5,000 in the trailing 12 months)
    sell(small, dt.date(2025, 6, 1), 1500)  # silver (≥ 1,000)
    due = make_program(None, ladder(), code="due", schedule_enabled=True, next_evaluation=DUE)
    later = timezone.now().date() + dt.timedelta(days=30)
    waiting = make_program(
        None, ladder(), code="waiting", schedule_enabled=True, next_evaluation=later
    )
    off = make_program(None, ladder(), code="off", schedule_enabled=False, next_evaluation=DUE)
    # Due but without a live version: reported in the task's result, the others go on.
    broken = make_program(
        None, ladder(), code="broken", publish=False, schedule_enabled=True, next_evaluation=DUE
    )
    today = timezone.now().date()

    output = worker()

    assert f"scheduled {PATH}" in output
    run = EvaluationRun.objects.get(program=due)
    assert run.as_of == DUE and run.applied and run.trigger == EvaluationRun.Trigger.SCHEDULE
    assert run.organisation_count == 2
    held = dict(Membership.objects.filter(program=due).values_list("organisation_id", "tier_code"))
    assert held == {big.pk: "gold", small.pk: "silver"}
    due.refresh_from_db()
    assert due.next_evaluation == dt.date(2026, 3, 31)  # one quarter on
    for program in (waiting, off, broken):
        assert not EvaluationRun.objects.filter(program=program).exists(), program.code
    for program, expected in ((waiting, later), (off, DUE), (broken, DUE)):
        program.refresh_from_db()
        assert program.next_evaluation == expected, program.code

    done = DBTaskResult.objects.get(task_path=PATH, status=TaskResultStatus.SUCCESSFUL)
    results = {item["program"]: item for item in done.return_value}
    assert results["due"] == {"program": "due", "as_of": DUE.isoformat(), "run": run.pk}
    assert results["broken"]["error"] and "run" not in results["broken"]
    assert set(results) == {"due", "broken"}

    (following,) = ready()
    assert following.task_path == PATH
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(1), tzinfo=dt.UTC)
    assert following.run_after == tomorrow

    # Again before tomorrow: nothing is due, the pending check is not enqueued twice.
    output = worker()
    assert "scheduled" not in output
    assert EvaluationRun.objects.count() == 1
    assert [task.pk for task in ready()] == [following.pk]


@pytest.mark.django_db(transaction=True)
def test_ensure_periodic_enqueues_each_chain_once(settings: Any) -> None:
    settings.ACCORD_PERIODIC_TASKS = [PATH]
    assert ensure_periodic() == [PATH]
    assert ensure_periodic() == []
    (pending,) = ready()
    assert pending.task_path == PATH
    assert DBTaskResult.objects.ready().filter(pk=pending.pk).exists()  # runs at once
    assert DBTaskResult.objects.count() == 1
    # A running check counts as pending too; a finished one does not.
    pending.status = TaskResultStatus.RUNNING
    pending.save(update_fields=["status"])
    assert ensure_periodic() == []
    pending.status = TaskResultStatus.SUCCESSFUL
    pending.save(update_fields=["status"])
    assert ensure_periodic() == [PATH]
    assert len(ready()) == 1
